using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Asks the kernel to start writing a file's dirty pages to disk without waiting for them, so the disk works while
/// the rest of an upload streams in and the flush at commit waits only for the last pages.
/// </summary>
/// <remarks>
/// Without it, Linux keeps an upload's pages in memory until the commit's fsync, which then writes the whole blob
/// while the client waits, and a large upload can fill the page cache's dirty limit and stall every writer. This calls
/// glibc's <c>sync_file_range</c> with <c>SYNC_FILE_RANGE_WRITE</c>, which queues the writes and returns. It is only
/// a hint: durability still comes from the fsync at commit. Other systems, and Linux without glibc, skip it.
/// </remarks>
internal static partial class FileWriteback
{
    private const uint StartWriteFlag = 2; // SYNC_FILE_RANGE_WRITE

    private static volatile bool s_unavailable = !OperatingSystem.IsLinux();

    /// <summary>Starts writeback of <paramref name="count"/> bytes from <paramref name="offset"/>. Failures are ignored.</summary>
    public static void Start(SafeFileHandle handle, long offset, long count)
    {
        if (s_unavailable || count <= 0)
        {
            return;
        }

        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            _ = SyncFileRange((int)handle.DangerousGetHandle(), offset, count, StartWriteFlag);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "sync_file_range")]
    private static partial int SyncFileRange(int descriptor, long offset, long count, uint flags);
}

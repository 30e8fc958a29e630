using System.Runtime.InteropServices;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Flushes a folder's entries to disk, so that a file just renamed into it survives a power loss.
/// </summary>
/// <remarks>
/// On Linux, a rename is durable only once the folder that contains the new name has been fsynced, and .NET has
/// no API that opens a folder, so this calls <c>open</c> and <c>fsync</c> from glibc directly. Other systems are
/// skipped: Windows has no equivalent call for folders, and NTFS journals renames itself.
/// </remarks>
internal static partial class DirectorySync
{
    private const int ReadOnlyFlag = 0; // O_RDONLY
    private const int CloseOnExecFlag = 0x80000; // O_CLOEXEC, the same value on x86-64 and arm64 Linux

    /// <summary>
    /// Flushes the folder's entries to disk. Returns false when this system has no way to do that (any system but Linux, or a
    /// Linux without glibc's libc.so.6); throws <see cref="IOException"/> when the flush itself fails.
    /// </summary>
    public static bool TryFlush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        int descriptor;
        try
        {
            descriptor = Open(directory, ReadOnlyFlag | CloseOnExecFlag);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // NOTE: musl-based systems such as Alpine have no libc.so.6, so folder entries are not flushed there.
            return false;
        }

        if (descriptor < 0)
        {
            throw new IOException($"Opening the folder '{directory}' to flush it failed with error {Marshal.GetLastPInvokeError()}.");
        }

        try
        {
            if (Fsync(descriptor) != 0)
            {
                throw new IOException($"Flushing the folder '{directory}' to disk failed with error {Marshal.GetLastPInvokeError()}.");
            }
        }
        finally
        {
            _ = Close(descriptor);
        }

        return true;
    }

    [LibraryImport("libc.so.6", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc.so.6", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int descriptor);
}

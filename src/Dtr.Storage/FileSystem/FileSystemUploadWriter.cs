using Microsoft.Win32.SafeHandles;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Appends to an upload's data file through positional writes, so no stream buffer sits between the caller's
/// memory and the file. Every <see cref="WritebackBytes"/> written, it starts the kernel's writeback of those bytes
/// (<see cref="FileWriteback"/>), so the flush before commit has little left to write.
/// </summary>
internal sealed class FileSystemUploadWriter : IBlobUploadWriter
{
    /// <summary>How many written bytes the writer lets accumulate before it starts their writeback.</summary>
    internal const long WritebackBytes = 8 * 1024 * 1024;

    private readonly SafeFileHandle _handle;
    private long _writebackStart;

    public FileSystemUploadWriter(SafeFileHandle handle)
    {
        _handle = handle;
        Length = RandomAccess.GetLength(handle);
        _writebackStart = Length;
    }

    /// <inheritdoc />
    public long Length { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        await RandomAccess.WriteAsync(_handle, data, Length, cancellationToken).ConfigureAwait(false);
        Length += data.Length;
        if (Length - _writebackStart >= WritebackBytes)
        {
            FileWriteback.Start(_handle, _writebackStart, Length - _writebackStart);
            _writebackStart = Length;
        }
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        cancellationToken.ThrowIfCancellationRequested();

        // The positional writes already reached the page cache, where later requests read them; NFS sends them to the
        // server when the handle closes. The commit flushes the whole file before renaming it, so this only starts the
        // writeback of the rest and does not wait for the disk.
        FileWriteback.Start(_handle, _writebackStart, Length - _writebackStart);
        _writebackStart = Length;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }
}

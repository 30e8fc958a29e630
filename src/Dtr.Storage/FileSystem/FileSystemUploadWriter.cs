using Microsoft.Win32.SafeHandles;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Appends to an upload's data file through positional writes, so no stream buffer sits between the caller's
/// memory and the file.
/// </summary>
internal sealed class FileSystemUploadWriter : IBlobUploadWriter
{
    private readonly SafeFileHandle _handle;

    public FileSystemUploadWriter(SafeFileHandle handle)
    {
        _handle = handle;
        Length = RandomAccess.GetLength(handle);
    }

    /// <inheritdoc />
    public long Length { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        await RandomAccess.WriteAsync(_handle, data, Length, cancellationToken).ConfigureAwait(false);
        Length += data.Length;
    }

    /// <inheritdoc />
    public ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        cancellationToken.ThrowIfCancellationRequested();
        RandomAccess.FlushToDisk(_handle);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        _handle.Dispose();
        return ValueTask.CompletedTask;
    }
}

using System.Buffers;

namespace Dtr.Storage.S3;

/// <summary>
/// Appends to an upload by buffering up to one part and writing each full part, and on flush the partial tail, as
/// its own part object.
/// </summary>
/// <remarks>
/// Disposing the writer drops bytes that were written but not flushed, so a writer disposed after
/// <see cref="IBlobStore.DeleteUploadAsync"/> creates no objects.
/// </remarks>
internal sealed class S3UploadWriter : IBlobUploadWriter
{
    private readonly S3BlobStore _store;
    private readonly string _uploadId;
    private int _nextSequence;
    private byte[]? _buffer;
    private int _buffered;

    public S3UploadWriter(S3BlobStore store, string uploadId, int nextSequence, long length)
    {
        _store = store;
        _uploadId = uploadId;
        _nextSequence = nextSequence;
        Length = length;
    }

    /// <inheritdoc />
    public long Length { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            _buffer ??= ArrayPool<byte>.Shared.Rent(_store.PartSizeBytes);
            var count = Math.Min(data.Length, _store.PartSizeBytes - _buffered);
            data.Span[..count].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += count;
            Length += count;
            data = data[count..];

            if (_buffered == _store.PartSizeBytes)
            {
                await WritePartAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_buffered > 0)
        {
            await WritePartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        if (_buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = null;
            _buffered = 0;
        }

        return ValueTask.CompletedTask;
    }

    private async Task WritePartAsync(CancellationToken cancellationToken)
    {
        await _store.PutUploadPartAsync(_uploadId, _nextSequence, _buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
        _nextSequence++;
        _buffered = 0;
    }
}

using System.Buffers;

namespace Dtr.Storage;

/// <summary>
/// Base class of upload writers that store an upload as a sequence of fixed-size chunks, such as S3 part objects or
/// Azure blocks. It collects written bytes in one pooled buffer and hands each full chunk, and on flush the partial
/// tail, to <see cref="WriteChunkAsync"/>.
/// </summary>
/// <remarks>
/// Disposing the writer returns the buffer to the pool and drops bytes that were written but not flushed, so it
/// makes no call to the storage service. An instance is not safe for concurrent use.
/// </remarks>
public abstract class ChunkedUploadWriter : IBlobUploadWriter
{
    private readonly int _chunkSizeBytes;
    private byte[]? _buffer;
    private int _buffered;

    /// <summary>Creates a writer that appends to an upload of <paramref name="length"/> bytes.</summary>
    /// <param name="chunkSizeBytes">The size of every chunk but the last one of a flush, in bytes.</param>
    /// <param name="length">The number of bytes already in the upload.</param>
    /// <exception cref="ArgumentOutOfRangeException">The chunk size is not positive, or the length is negative.</exception>
    protected ChunkedUploadWriter(int chunkSizeBytes, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSizeBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        _chunkSizeBytes = chunkSizeBytes;
        Length = length;
    }

    /// <inheritdoc />
    public long Length { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            _buffer ??= ArrayPool<byte>.Shared.Rent(_chunkSizeBytes);
            var count = Math.Min(data.Length, _chunkSizeBytes - _buffered);
            data.Span[..count].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += count;
            Length += count;
            data = data[count..];

            if (_buffered == _chunkSizeBytes)
            {
                await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_buffered > 0)
        {
            await WriteBufferAsync(cancellationToken).ConfigureAwait(false);
        }

        await CompleteFlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the buffer to the pool. Bytes written since the last flush are dropped.</summary>
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

    /// <summary>
    /// Stores the next chunk of the upload: a full chunk, or the partial tail on flush. The memory belongs to the
    /// writer's buffer and is valid only until the returned task completes. When this throws, the bytes stay
    /// buffered.
    /// </summary>
    protected abstract ValueTask WriteChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken);

    /// <summary>
    /// Runs at the end of <see cref="FlushAsync"/>, after every buffered byte went to <see cref="WriteChunkAsync"/>.
    /// A store whose chunks stay invisible until a separate commit, such as staged Azure blocks, commits them here.
    /// The default does nothing.
    /// </summary>
    protected virtual ValueTask CompleteFlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    private async ValueTask WriteBufferAsync(CancellationToken cancellationToken)
    {
        await WriteChunkAsync(_buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
        _buffered = 0;
    }
}

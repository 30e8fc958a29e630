namespace Dtr.Scanning.Inventory;

/// <summary>
/// Wraps the caller's layer stream: replays the bytes read ahead to detect compression, and records whether a read
/// from the caller's stream failed, so that such a failure propagates instead of being reported as a bad layer.
/// </summary>
internal sealed class LayerSourceStream(Stream inner, byte[] prefix, int prefixLength) : ReadOnlyForwardStream
{
    private int _prefixOffset;

    /// <summary>Whether a read from the caller's stream threw.</summary>
    public bool SourceFailed { get; private set; }

    public override int Read(Span<byte> buffer)
    {
        if (_prefixOffset < prefixLength)
        {
            return ReadPrefix(buffer);
        }

        try
        {
            return inner.Read(buffer);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            SourceFailed = true;
            throw;
        }
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_prefixOffset < prefixLength)
        {
            return ReadPrefix(buffer.Span);
        }

        try
        {
            return await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            SourceFailed = true;
            throw;
        }
    }

    private int ReadPrefix(Span<byte> buffer)
    {
        var count = Math.Min(buffer.Length, prefixLength - _prefixOffset);
        prefix.AsSpan(_prefixOffset, count).CopyTo(buffer);
        _prefixOffset += count;
        return count;
    }
}

/// <summary>Counts the decompressed bytes the tar reader consumes and stops at a limit.</summary>
internal sealed class CountingStream(Stream inner, long maxBytes) : ReadOnlyForwardStream
{
    /// <summary>The bytes read so far.</summary>
    public long BytesRead { get; private set; }

    public override int Read(Span<byte> buffer) => Count(inner.Read(LimitBuffer(buffer)));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        Count(await inner.ReadAsync(LimitBuffer(buffer), cancellationToken).ConfigureAwait(false));

    // Ask for at most one byte past the limit, so that crossing it is seen without reading much further.
    private Span<byte> LimitBuffer(Span<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, maxBytes - BytesRead + 1)];

    private Memory<byte> LimitBuffer(Memory<byte> buffer) => buffer[..(int)Math.Min(buffer.Length, maxBytes - BytesRead + 1)];

    private int Count(int read)
    {
        BytesRead += read;
        if (BytesRead > maxBytes)
        {
            throw new LayerLimitExceededException();
        }

        return read;
    }
}

/// <summary>Thrown inside the analyzer when a layer crosses a limit; never leaves it.</summary>
internal sealed class LayerLimitExceededException : Exception
{
}

/// <summary>A stream that can only be read forward, with the members such a stream does not support.</summary>
internal abstract class ReadOnlyForwardStream : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

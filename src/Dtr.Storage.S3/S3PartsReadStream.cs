using Amazon.S3.Model;

namespace Dtr.Storage.S3;

/// <summary>
/// A forward-only stream over several objects, read one after another with one GetObject each, so only one
/// response is open at a time.
/// </summary>
internal sealed class S3PartsReadStream : Stream
{
    private readonly Func<string, CancellationToken, Task<GetObjectResponse>> _openObject;
    private readonly IReadOnlyList<string> _keys;
    private int _nextKey;
    private GetObjectResponse? _current;

    /// <param name="openObject">Opens the object with the given key. The store retries opening it, not reading it.</param>
    /// <param name="keys">The keys of the objects, in the order their bytes are read.</param>
    public S3PartsReadStream(Func<string, CancellationToken, Task<GetObjectResponse>> openObject, IReadOnlyList<string> keys)
    {
        _openObject = openObject;
        _keys = keys;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.IsEmpty)
        {
            return 0;
        }

        while (true)
        {
            if (_current is null)
            {
                if (_nextKey == _keys.Count)
                {
                    return 0;
                }

                _current = await _openObject(_keys[_nextKey], cancellationToken).ConfigureAwait(false);
                _nextKey++;
            }

            var read = await _current.ResponseStream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                return read;
            }

            _current.Dispose();
            _current = null;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous reads block on the asynchronous path, because AWSSDK.S3 4.1 has no synchronous GetObject on .NET.
    public override int Read(byte[] buffer, int offset, int count) =>
        ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _current?.Dispose();
            _current = null;
        }

        base.Dispose(disposing);
    }
}

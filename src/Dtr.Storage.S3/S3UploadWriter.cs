namespace Dtr.Storage.S3;

/// <summary>
/// Appends to an upload by buffering up to one part and writing each full part, and on flush the partial tail, as
/// its own part object.
/// </summary>
/// <remarks>
/// Disposing the writer drops bytes that were written but not flushed, so a writer disposed after
/// <see cref="IBlobStore.DeleteUploadAsync"/> creates no objects.
/// </remarks>
internal sealed class S3UploadWriter : ChunkedUploadWriter
{
    private readonly S3BlobStore _store;
    private readonly string _uploadId;
    private int _nextSequence;

    public S3UploadWriter(S3BlobStore store, string uploadId, int nextSequence, long length)
        : base(store.PartSizeBytes, length)
    {
        _store = store;
        _uploadId = uploadId;
        _nextSequence = nextSequence;
    }

    protected override async ValueTask WriteChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        await _store.PutUploadPartAsync(_uploadId, _nextSequence, chunk, cancellationToken).ConfigureAwait(false);
        _nextSequence++;
    }
}

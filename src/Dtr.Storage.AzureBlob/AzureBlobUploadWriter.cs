using Azure;
using Azure.Storage.Blobs.Specialized;

namespace Dtr.Storage.AzureBlob;

/// <summary>
/// Appends to an upload blob by staging each full block, and on flush the partial tail, as an uncommitted block,
/// then committing the block list with the new blocks at its end.
/// </summary>
/// <remarks>
/// Uncommitted blocks cannot be read and do not count in the blob's length, so only flushed bytes are visible to
/// other hosts. Disposing the writer drops bytes that were written but not flushed. Blocks that it had staged stay
/// uncommitted until the next commit of the upload discards them, or the Blob service removes them after a week.
/// </remarks>
internal sealed class AzureBlobUploadWriter : ChunkedUploadWriter
{
    private readonly AzureBlobStore _store;
    private readonly string _uploadId;
    private readonly BlockBlobClient _upload;
    private readonly Guid _blockToken = Guid.NewGuid();
    private readonly List<string> _committedIds;
    private readonly List<string> _stagedIds = [];
    private ETag _etag;

    public AzureBlobUploadWriter(AzureBlobStore store, string uploadId, BlockBlobClient upload, AzureBlobStore.CommittedBlocks blocks)
        : base(store.BlockSizeBytes, blocks.Length)
    {
        _store = store;
        _uploadId = uploadId;
        _upload = upload;
        _committedIds = blocks.Ids;
        _etag = blocks.ETag;
    }

    /// <summary>Stages the chunk as an uncommitted block after the blocks that this writer staged before.</summary>
    protected override async ValueTask WriteChunkAsync(ReadOnlyMemory<byte> chunk, CancellationToken cancellationToken)
    {
        var index = _committedIds.Count + _stagedIds.Count;
        if (index >= AzureBlobLayout.MaxBlocksPerBlob)
        {
            throw new IOException(
                $"The upload '{_uploadId}' already has {AzureBlobLayout.MaxBlocksPerBlob} blocks, the most a block blob can hold, so it cannot grow. Send larger chunks, or raise AzureBlobStorageOptions.BlockSizeBytes ({_store.BlockSizeBytes} bytes).");
        }

        var blockId = AzureBlobLayout.CreateBlockId(_blockToken, index);
        await _store.StageUploadBlockAsync(_upload, blockId, chunk, cancellationToken).ConfigureAwait(false);
        _stagedIds.Add(blockId);
    }

    /// <summary>Commits the block list with the newly staged blocks at its end, if the flush staged any.</summary>
    protected override async ValueTask CompleteFlushAsync(CancellationToken cancellationToken)
    {
        if (_stagedIds.Count == 0)
        {
            return;
        }

        var blockIds = new List<string>(_committedIds.Count + _stagedIds.Count);
        blockIds.AddRange(_committedIds);
        blockIds.AddRange(_stagedIds);
        _etag = await _store.CommitUploadBlocksAsync(_uploadId, _upload, blockIds, _etag, cancellationToken).ConfigureAwait(false);
        _committedIds.AddRange(_stagedIds);
        _stagedIds.Clear();
    }
}

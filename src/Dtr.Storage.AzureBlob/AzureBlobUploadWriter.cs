using System.Buffers;
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
internal sealed class AzureBlobUploadWriter : IBlobUploadWriter
{
    private readonly AzureBlobStore _store;
    private readonly string _uploadId;
    private readonly BlockBlobClient _upload;
    private readonly Guid _blockToken = Guid.NewGuid();
    private readonly List<string> _committedIds;
    private readonly List<string> _stagedIds = [];
    private ETag _etag;
    private byte[]? _buffer;
    private int _buffered;

    public AzureBlobUploadWriter(AzureBlobStore store, string uploadId, BlockBlobClient upload, AzureBlobStore.CommittedBlocks blocks)
    {
        _store = store;
        _uploadId = uploadId;
        _upload = upload;
        _committedIds = blocks.Ids;
        _etag = blocks.ETag;
        Length = blocks.Length;
    }

    /// <inheritdoc />
    public long Length { get; private set; }

    /// <inheritdoc />
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        var blockSize = _store.BlockSizeBytes;
        while (!data.IsEmpty)
        {
            _buffer ??= ArrayPool<byte>.Shared.Rent(blockSize);
            var count = Math.Min(data.Length, blockSize - _buffered);
            data.Span[..count].CopyTo(_buffer.AsSpan(_buffered));
            _buffered += count;
            Length += count;
            data = data[count..];

            if (_buffered == blockSize)
            {
                await StageBufferAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
    {
        if (_buffered > 0)
        {
            await StageBufferAsync(cancellationToken).ConfigureAwait(false);
        }

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

    private async Task StageBufferAsync(CancellationToken cancellationToken)
    {
        var index = _committedIds.Count + _stagedIds.Count;
        if (index >= AzureBlobLayout.MaxBlocksPerBlob)
        {
            throw new IOException(
                $"The upload '{_uploadId}' already has {AzureBlobLayout.MaxBlocksPerBlob} blocks, the most a block blob can hold, so it cannot grow. Send larger chunks, or raise AzureBlobStorageOptions.BlockSizeBytes ({_store.BlockSizeBytes} bytes).");
        }

        var blockId = AzureBlobLayout.CreateBlockId(_blockToken, index);
        await _store.StageUploadBlockAsync(_upload, blockId, _buffer.AsMemory(0, _buffered), cancellationToken).ConfigureAwait(false);
        _stagedIds.Add(blockId);
        _buffered = 0;
    }
}

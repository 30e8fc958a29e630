using Azure;
using Azure.Storage;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Dtr.Digests;
using Polly;

namespace Dtr.Storage.AzureBlob;

/// <summary>Staging and committing blocks: the write side of uploads and the commit of an upload into a blob.</summary>
internal sealed partial class AzureBlobStore
{
    /// <summary>How long the read SAS of an upload stays valid for one Put Block From URL call.</summary>
    private static readonly TimeSpan CopySourceLifetime = TimeSpan.FromHours(1);

    /// <inheritdoc />
    /// <remarks>
    /// The commit stages the upload's bytes as blocks of the target blob with Put Block From URL, in ranges of
    /// <see cref="AzureBlobStorageOptions.CopyBlockSizeBytes"/>, and then commits the block list with
    /// <c>If-None-Match: *</c>. Staged blocks stay invisible until that commit, so a reader sees the whole blob or
    /// none of it. When the condition fails, or the block list names blocks that are gone, a blob with the digest
    /// exists: a second commit of the same digest finished first, or an earlier attempt of this commit succeeded
    /// but its response was lost. Either way the stored copy is kept and the upload is discarded.
    /// </remarks>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        var target = _container.GetBlockBlobClient(Layout.GetBlobKey(digest));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);

        var source = await GetPropertiesOrNullAsync(upload, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);
        var stored = await GetPropertiesOrNullAsync(target, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return await DiscardUploadAsync(uploadId, upload, digest, stored.ContentLength, cancellationToken).ConfigureAwait(false);
        }

        var blockIds = await StageCopyBlocksAsync(upload, target, source.ContentLength, source.ETag, cancellationToken).ConfigureAwait(false);
        try
        {
            var options = new CommitBlockListOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            };
            await CallAsync(token => target.CommitBlockListAsync(blockIds, options, token), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 400 or 409 or 412)
        {
            // A 409 or 412 means that the blob exists. A 400 InvalidBlockList means that another commit of the same
            // digest discarded this commit's uncommitted blocks. Either is a success only when the blob is stored.
            stored = await GetPropertiesOrNullAsync(target, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                throw;
            }

            return await DiscardUploadAsync(uploadId, upload, digest, stored.ContentLength, cancellationToken).ConfigureAwait(false);
        }

        AzureBlobLog.BlobCommitted(_logger, digest, source.ContentLength, uploadId, blockIds.Count);
        await DeleteCommittedUploadAsync(uploadId, upload, digest, cancellationToken).ConfigureAwait(false);
        return new BlobInfo(digest, source.ContentLength);
    }

    /// <summary>Stages one block of an upload from a buffer. Each attempt sends a new stream over the same bytes.</summary>
    internal async Task StageUploadBlockAsync(BlockBlobClient upload, string blockId, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var options = new BlockBlobStageBlockOptions
        {
            TransferValidation = new UploadTransferValidationOptions { ChecksumAlgorithm = StorageChecksumAlgorithm.MD5 },
        };
        await CallAsync(token => upload.StageBlockAsync(blockId, CreateReadOnlyStream(data), options, token), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Commits an upload's new block list on the condition that the blob still has <paramref name="expected"/> as
    /// its ETag, and returns the new ETag.
    /// </summary>
    /// <remarks>
    /// The condition stops a writer from overwriting blocks that another writer committed, and from bringing back
    /// an upload that was deleted. It also fails a retried call whose first attempt succeeded but lost its response.
    /// So after a failed condition the committed block list decides: when it is the list this call sent, the commit
    /// had succeeded.
    /// </remarks>
    /// <exception cref="UploadNotFoundException">The upload was deleted.</exception>
    /// <exception cref="IOException">Another writer changed the upload.</exception>
    internal async Task<ETag> CommitUploadBlocksAsync(string uploadId, BlockBlobClient upload, IReadOnlyList<string> blockIds, ETag expected, CancellationToken cancellationToken)
    {
        try
        {
            var options = new CommitBlockListOptions { Conditions = new BlobRequestConditions { IfMatch = expected } };
            var info = await CallAsync(token => upload.CommitBlockListAsync(blockIds, options, token), cancellationToken).ConfigureAwait(false);
            return info.ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 404 or 412)
        {
            var current = await GetCommittedBlocksAsync(uploadId, upload, cancellationToken).ConfigureAwait(false);
            if (!current.Ids.SequenceEqual(blockIds, StringComparer.Ordinal))
            {
                throw new IOException(
                    $"The upload '{uploadId}' was changed by another writer while this one was open, so its last bytes were not committed. Reopen the upload to continue at its current length.",
                    ex);
            }

            AzureBlobLog.UploadCommitAlreadyApplied(_logger, uploadId);
            return current.ETag;
        }
    }

    /// <summary>
    /// Stages the upload's bytes as uncommitted blocks of the target blob, one Put Block From URL call per range,
    /// and returns the block ids in order. The block ids carry a token of their own, so two commits of the same
    /// digest never replace each other's blocks.
    /// </summary>
    private async Task<List<string>> StageCopyBlocksAsync(BlockBlobClient upload, BlockBlobClient target, long length, ETag sourceETag, CancellationToken cancellationToken)
    {
        // Grow the range when the blob would need more blocks than a block blob can hold.
        var rangeSize = Math.Min(
            AzureBlobStorageOptions.MaxCopyBlockSizeBytes,
            Math.Max(CopyBlockSizeBytes, (length + AzureBlobLayout.MaxBlocksPerBlob - 1) / AzureBlobLayout.MaxBlocksPerBlob));
        var token = Guid.NewGuid();
        var blockIds = new List<string>();
        for (long offset = 0; offset < length; offset += rangeSize)
        {
            var blockId = AzureBlobLayout.CreateBlockId(token, blockIds.Count);
            var options = new StageBlockFromUriOptions
            {
                SourceRange = new HttpRange(offset, Math.Min(rangeSize, length - offset)),

                // The upload must not change while it is copied, so a changed upload fails the call with 412.
                SourceConditions = new RequestConditions { IfMatch = sourceETag },
            };
            await CallAsync(attempt => target.StageBlockFromUriAsync(CreateCopySourceUri(upload), blockId, options, attempt), cancellationToken).ConfigureAwait(false);
            blockIds.Add(blockId);
        }

        return blockIds;
    }

    /// <summary>
    /// Returns a URL through which the storage service may read the upload blob: a read-only SAS signed with the
    /// shared key, or, with a configured SAS, the blob's own URL, which carries that SAS.
    /// </summary>
    private static Uri CreateCopySourceUri(BlockBlobClient upload) =>
        upload.CanGenerateSasUri
            ? upload.GenerateSasUri(BlobSasPermissions.Read, DateTimeOffset.UtcNow.Add(CopySourceLifetime))
            : upload.Uri;

    /// <summary>Deletes an upload whose digest is already stored and returns the stored blob's info.</summary>
    private async Task<BlobInfo> DiscardUploadAsync(string uploadId, BlockBlobClient upload, Digest digest, long storedSize, CancellationToken cancellationToken)
    {
        AzureBlobLog.BlobAlreadyStored(_logger, digest, uploadId);
        await DeleteCommittedUploadAsync(uploadId, upload, digest, cancellationToken).ConfigureAwait(false);
        return new BlobInfo(digest, storedSize);
    }

    /// <summary>
    /// Deletes the upload blob after its digest is stored. A failure is logged rather than thrown, because the blob
    /// is stored and the caller's commit succeeded.
    /// </summary>
    private async Task DeleteCommittedUploadAsync(string uploadId, BlockBlobClient upload, Digest digest, CancellationToken cancellationToken)
    {
        try
        {
            await CallAsync(
                token => upload.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or IOException or HttpRequestException or ExecutionRejectedException)
        {
            AzureBlobLog.UploadCleanupFailed(_logger, ex, uploadId, digest);
        }
    }

    private static MemoryStream CreateReadOnlyStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);
}

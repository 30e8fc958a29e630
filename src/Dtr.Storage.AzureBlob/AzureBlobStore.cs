using System.Runtime.CompilerServices;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Dtr.Digests;
using Dtr.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Dtr.Storage.AzureBlob;

/// <summary>
/// An <see cref="IBlobStore"/> that keeps each blob as one block blob in an Azure Blob Storage container, and each
/// upload in progress as a block blob whose block list grows with every flush.
/// </summary>
/// <remarks>
/// All state lives in the container, so any host can continue, read or commit an upload that another host started.
/// No call keeps a whole blob in memory, because a writer buffers at most one block. A commit copies the upload into
/// the blob inside the storage service with Put Block From URL, so no blob bytes pass through the host. A blob appears
/// only when its block list is committed, which the Blob service makes atomic. Every call to the service runs
/// through the resilience pipeline, and only calls that are safe to repeat are made; see
/// <see cref="CommitUploadAsync"/> for how a repeated commit is recognised.
/// </remarks>
internal sealed partial class AzureBlobStore : IBlobStore, IStorageDescription
{
    /// <summary>The number of blobs requested per listing page: 5000, the most that List Blobs returns in one page.</summary>
    internal const int DefaultListPageSize = 5000;

    private readonly BlobContainerClient _container;
    private readonly ResiliencePipeline _pipeline;
    private readonly ILogger _logger;
    private readonly bool _createContainerIfMissing;
    private readonly string? _prefix;
    private readonly Lock _containerGate = new();
    private Task? _containerCreation;

    /// <summary>Creates the store on a container client, with the resilience pipeline that <paramref name="options"/> sets.</summary>
    public AzureBlobStore(BlobContainerClient container, AzureBlobStorageOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(container);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _container = container;
        _logger = logger;
        _pipeline = StorageResiliencePipeline.Create("azure-blob", options.Resilience, AzureBlobTransientFaults.IsTransient, logger);
        _createContainerIfMissing = options.CreateContainerIfMissing;
        Layout = new AzureBlobLayout(options.Prefix);
        _prefix = options.Prefix;
        BlockSizeBytes = options.BlockSizeBytes;
        CopyBlockSizeBytes = options.CopyBlockSizeBytes;
        _publicEndpoint = string.IsNullOrWhiteSpace(options.PublicEndpoint) ? null : new Uri(options.PublicEndpoint);
        _servicePath = container.GetParentBlobServiceClient().Uri.AbsolutePath.TrimEnd('/');
    }

    internal AzureBlobLayout Layout { get; }

    /// <inheritdoc />
    public string StorageKind => "azureBlob";

    /// <inheritdoc />
    public string StorageLocation => string.IsNullOrEmpty(_prefix)
        ? $"container {_container.Name} in account {_container.AccountName}"
        : $"container {_container.Name} in account {_container.AccountName}, prefix {_prefix}";

    internal int BlockSizeBytes { get; }

    internal long CopyBlockSizeBytes { get; }

    internal BlobContainerClient Container => _container;

    /// <summary>The page size of blob listings. Tests lower it to cover paging.</summary>
    internal int ListPageSize { get; init; } = DefaultListPageSize;

    /// <inheritdoc />
    public async ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(Layout.GetBlobKey(digest));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var properties = await GetPropertiesOrNullAsync(blob, cancellationToken).ConfigureAwait(false);
        return properties is null ? null : new BlobInfo(digest, properties.ContentLength);
    }

    /// <inheritdoc />
    public async ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var blob = _container.GetBlobClient(Layout.GetBlobKey(digest));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);

        var options = new BlobDownloadOptions { Range = offset == 0 ? default : new HttpRange(offset) };
        try
        {
            var download = await CallAsync(token => blob.DownloadStreamingAsync(options, token), cancellationToken).ConfigureAwait(false);
            return download.Content;
        }
        catch (RequestFailedException ex) when (IsBlobNotFound(ex))
        {
            return null;
        }
        catch (RequestFailedException ex) when (ex.Status == 416)
        {
            // The Blob service rejects a range that starts at or past the end of the blob, so the size decides
            // between an empty read and an invalid offset.
            var properties = await GetPropertiesOrNullAsync(blob, cancellationToken).ConfigureAwait(false);
            if (properties is null)
            {
                return null;
            }

            ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, properties.ContentLength);
            return new MemoryStream([], writable: false);
        }
    }

    /// <inheritdoc />
    /// <remarks>
    /// NOTE: when the service deletes the blob but the response is lost, the retried call finds no blob and this
    /// returns false although the blob existed.
    /// </remarks>
    public async ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        var blob = _container.GetBlobClient(Layout.GetBlobKey(digest));
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await CallAsync(
            token => blob.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, token),
            cancellationToken).ConfigureAwait(false);
        if (deleted)
        {
            AzureBlobLog.BlobDeleted(_logger, digest);
        }

        return deleted;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        string? continuation = null;
        do
        {
            var page = await ListPageAsync(Layout.BlobsPrefix, continuation, cancellationToken).ConfigureAwait(false);
            if (page is null)
            {
                yield break;
            }

            foreach (var item in page.Values)
            {
                if (Layout.TryParseBlobKey(item.Name, out var digest))
                {
                    yield return new BlobInfo(digest, item.Properties.ContentLength ?? 0) { LastModified = item.Properties.LastModified };
                }
            }

            continuation = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(continuation));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);

        // An empty block list makes an empty block blob, which each writer flush then extends. Repeating the call
        // writes the same empty blob, so the pipeline may retry it.
        await CallAsync(token => upload.CommitBlockListAsync([], new CommitBlockListOptions(), token), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var properties = await GetPropertiesOrNullAsync(upload, cancellationToken).ConfigureAwait(false);
        return properties?.ContentLength;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var blocks = await GetCommittedBlocksAsync(uploadId, upload, cancellationToken).ConfigureAwait(false);
        return new AzureBlobUploadWriter(this, uploadId, upload, blocks);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var download = await CallAsync(token => upload.DownloadStreamingAsync(new BlobDownloadOptions(), token), cancellationToken).ConfigureAwait(false);
            return download.Content;
        }
        catch (RequestFailedException ex) when (IsBlobNotFound(ex))
        {
            throw new UploadNotFoundException(uploadId);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = GetUploadBlob(uploadId);
        await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
        var deleted = await CallAsync(
            token => upload.DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, conditions: null, token),
            cancellationToken).ConfigureAwait(false);
        if (deleted)
        {
            AzureBlobLog.UploadDeleted(_logger, uploadId);
        }
    }

    /// <summary>Returns whether a failure means that the blob does not exist, as opposed to its container.</summary>
    internal static bool IsBlobNotFound(RequestFailedException exception) =>
        exception.Status == 404 && exception.ErrorCode != BlobErrorCode.ContainerNotFound.ToString();

    /// <summary>Runs one service call through the resilience pipeline and returns the response's value.</summary>
    internal ValueTask<T> CallAsync<T>(Func<CancellationToken, Task<Response<T>>> call, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(async token => (await call(token).ConfigureAwait(false)).Value, cancellationToken);

    /// <summary>Reads the ids, total size and ETag of an upload's committed blocks.</summary>
    /// <exception cref="UploadNotFoundException">The upload blob does not exist.</exception>
    internal async Task<CommittedBlocks> GetCommittedBlocksAsync(string uploadId, BlockBlobClient upload, CancellationToken cancellationToken)
    {
        // Get Block List also returns a list for a blob that has only uncommitted blocks, which a writer leaves
        // behind when it stages blocks after the upload was deleted. Only Get Blob Properties fails for such a blob.
        if (await GetPropertiesOrNullAsync(upload, cancellationToken).ConfigureAwait(false) is null)
        {
            throw new UploadNotFoundException(uploadId);
        }

        try
        {
            var list = await CallAsync(
                token => upload.GetBlockListAsync(BlockListTypes.Committed, snapshot: null, conditions: null, token),
                cancellationToken).ConfigureAwait(false);
            var committed = list.CommittedBlocks.ToList();
            return new CommittedBlocks(committed.Select(block => block.Name).ToList(), committed.Sum(block => block.SizeLong), list.ETag);
        }
        catch (RequestFailedException ex) when (IsBlobNotFound(ex))
        {
            throw new UploadNotFoundException(uploadId);
        }
    }

    private BlockBlobClient GetUploadBlob(string uploadId) => _container.GetBlockBlobClient(Layout.GetUploadBlobName(uploadId));

    /// <summary>Returns a blob's properties, or null when it does not exist.</summary>
    private async Task<BlobProperties?> GetPropertiesOrNullAsync(BlobBaseClient blob, CancellationToken cancellationToken)
    {
        try
        {
            return await CallAsync(token => blob.GetPropertiesAsync(conditions: null, token), cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (IsBlobNotFound(ex))
        {
            return null;
        }
    }

    /// <summary>
    /// Fetches one page of a listing. Each page is its own pipeline call that starts from the continuation token,
    /// so a retry repeats only that page.
    /// </summary>
    private ValueTask<Page<BlobItem>?> ListPageAsync(string prefix, string? continuation, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(
            async token =>
            {
                var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = prefix }, token).AsPages(continuation, ListPageSize);
                await foreach (var page in pages.ConfigureAwait(false))
                {
                    return page;
                }

                return null;
            },
            cancellationToken);

    /// <summary>
    /// Creates the container once per store when <see cref="AzureBlobStorageOptions.CreateContainerIfMissing"/> is
    /// set. A failed attempt is forgotten, so the next call tries again.
    /// </summary>
    private Task EnsureContainerAsync(CancellationToken cancellationToken)
    {
        if (!_createContainerIfMissing)
        {
            return Task.CompletedTask;
        }

        Task creation;
        lock (_containerGate)
        {
            if (_containerCreation is null || _containerCreation.IsFaulted || _containerCreation.IsCanceled)
            {
                _containerCreation = CreateContainerAsync();
            }

            creation = _containerCreation;
        }

        return creation.IsCompletedSuccessfully ? Task.CompletedTask : creation.WaitAsync(cancellationToken);
    }

    private async Task CreateContainerAsync()
    {
        // The creation runs without a caller's token, because several calls may wait for it, and one caller's
        // cancellation must not fail the others.
        var created = await _pipeline.ExecuteAsync(
            async token => await _container.CreateIfNotExistsAsync(PublicAccessType.None, metadata: null, token).ConfigureAwait(false) is not null,
            CancellationToken.None).ConfigureAwait(false);
        if (created)
        {
            AzureBlobLog.ContainerCreated(_logger, _container.Name);
        }
    }

    /// <summary>The committed blocks of an upload blob, in order, and the ETag of the blob they were read from.</summary>
    internal sealed record CommittedBlocks(List<string> Ids, long Length, ETag ETag);
}

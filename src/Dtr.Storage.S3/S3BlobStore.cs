using System.Net;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Digests;
using Dtr.Resilience;
using Microsoft.Extensions.Logging;
using Polly;

namespace Dtr.Storage.S3;

/// <summary>
/// An <see cref="IBlobStore"/> that keeps each blob as one object in an S3 bucket, and each upload in progress as a
/// series of part objects that a commit joins into the blob object.
/// </summary>
/// <remarks>
/// No call keeps a whole blob in memory: a writer buffers at most one part, and a commit reads the part objects in
/// order and sends them on in parts of <see cref="S3StorageOptions.PartSizeBytes"/>. The commit does not use
/// CopyObject or UploadPartCopy, because some S3-compatible servers (s3rver 3.7.1) fail them. A blob appears only
/// when PutObject or CompleteMultipartUpload succeeds, and S3 makes both atomic.
/// <para>
/// Every S3 call runs through the resilience pipeline of <see cref="S3StorageOptions.Resilience"/>, and only calls
/// that are safe to repeat are made: reads, puts of a whole object or part under a fixed key, deletes, and the
/// steps of a multipart upload. Opening a read is retried, but a failure while the caller reads the stream is not.
/// </para>
/// </remarks>
internal sealed partial class S3BlobStore : IBlobStore, IBlobRedirectSource, IStorageDescription, IDisposable
{
    /// <summary>The maximum number of parts in one S3 multipart upload.</summary>
    private const int MaxMultipartParts = 10_000;

    /// <summary>The maximum number of keys in one S3 DeleteObjects request.</summary>
    private const int MaxKeysPerDelete = 1000;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _pipeline;
    private readonly string? _serviceUrl;
    private readonly string? _region;
    private readonly string? _prefix;

    /// <summary>
    /// Creates the store on a client, which <see cref="Dispose"/> disposes only when <paramref name="ownsClient"/>
    /// is true. The client should have the SDK's retries off (<c>MaxErrorRetry</c> and
    /// <c>MaxStaleConnectionRetries</c> 0), as
    /// <see cref="Microsoft.Extensions.DependencyInjection.S3StorageBuilderExtensions.CreateClient"/> sets them,
    /// because the store retries on its own.
    /// </summary>
    public S3BlobStore(IAmazonS3 client, S3StorageOptions options, ILogger logger, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Bucket);
        ArgumentNullException.ThrowIfNull(options.Resilience);
        _client = client;
        _ownsClient = ownsClient;
        _bucket = options.Bucket;
        _serviceUrl = options.ServiceUrl;
        _region = options.Region;
        _prefix = options.Prefix;
        _logger = logger;
        _pipeline = StorageResiliencePipeline.Create("s3", options.Resilience, S3TransientFaults.IsTransient, logger);
        Layout = new S3KeyLayout(options.Prefix);
        UseChunkEncoding = options.UseChunkEncoding;
        PartSizeBytes = options.PartSizeBytes;
        (_presignClient, _presignProtocol) = CreatePresigner(client, options);
    }

    internal S3KeyLayout Layout { get; }

    /// <inheritdoc />
    public string StorageKind => "s3";

    /// <inheritdoc />
    public string StorageLocation => string.IsNullOrEmpty(_prefix) ? $"bucket {_bucket}" : $"bucket {_bucket}, prefix {_prefix}";

    internal bool UseChunkEncoding { get; }

    internal int PartSizeBytes { get; }

    internal IAmazonS3 Client => _client;

    internal string Bucket => _bucket;

    /// <inheritdoc />
    public async ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        var size = await HeadAsync(Layout.GetBlobKey(digest), cancellationToken).ConfigureAwait(false);
        return size is null ? null : new BlobInfo(digest, size.Value);
    }

    /// <inheritdoc />
    public async ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        var key = Layout.GetBlobKey(digest);
        var size = await HeadAsync(key, cancellationToken).ConfigureAwait(false);
        if (size is null)
        {
            return null;
        }

        ArgumentOutOfRangeException.ThrowIfGreaterThan(offset, size.Value);
        if (offset == size.Value)
        {
            // S3 rejects a range that starts at the end of the object, so an empty read needs no request.
            return new MemoryStream([], writable: false);
        }

        try
        {
            // NOTE: only opening the stream is retried. A connection that fails while the caller reads fails the read.
            var response = await RunAsync(
                token => _client.GetObjectAsync(
                    new GetObjectRequest { BucketName = _bucket, Key = key, ByteRange = new ByteRange(offset, size.Value - 1) },
                    token),
                cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // The blob was deleted between HeadObject and GetObject.
            return null;
        }
    }

    /// <inheritdoc />
    public async ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        var key = Layout.GetBlobKey(digest);
        if (await HeadAsync(key, cancellationToken).ConfigureAwait(false) is null)
        {
            return false;
        }

        await RunAsync(
            token => _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, token),
            cancellationToken).ConfigureAwait(false);
        S3Log.BlobDeleted(_logger, digest);
        return true;
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<BlobInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await foreach (var entry in ListObjectsAsync(Layout.BlobsPrefix, cancellationToken).ConfigureAwait(false))
        {
            if (Layout.TryParseBlobKey(entry.Key, out var digest))
            {
                yield return new BlobInfo(digest, entry.Size ?? 0) { LastModified = entry.LastModified is { } modified ? new DateTimeOffset(modified.ToUniversalTime()) : null };
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        await PutObjectAsync(Layout.GetUploadStateKey(uploadId), ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = await ListUploadAsync(uploadId, cancellationToken).ConfigureAwait(false);
        return upload?.Length;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = await ListUploadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);
        var nextSequence = upload.Parts.Count == 0 ? 0 : upload.Parts[^1].Sequence + 1;
        return new S3UploadWriter(this, uploadId, nextSequence, upload.Length);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var upload = await ListUploadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);
        return new S3PartsReadStream(GetObjectAsync, upload.Parts.Select(part => part.Key).ToList());
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default)
    {
        var blobKey = Layout.GetBlobKey(digest);
        var upload = await ListUploadAsync(uploadId, cancellationToken).ConfigureAwait(false)
            ?? throw new UploadNotFoundException(uploadId);

        var storedSize = await HeadAsync(blobKey, cancellationToken).ConfigureAwait(false);
        if (storedSize is not null)
        {
            await DeleteKeysAsync(upload.Keys, cancellationToken).ConfigureAwait(false);
            S3Log.BlobAlreadyStored(_logger, digest, uploadId);
            return new BlobInfo(digest, storedSize.Value);
        }

        // Two commits of the same digest may both get here. Each writes the same bytes, because the caller checked
        // the hash, so whichever finishes last leaves an identical object.
        await using (var source = new S3PartsReadStream(GetObjectAsync, upload.Parts.Select(part => part.Key).ToList()))
        {
            if (upload.Length < S3StorageOptions.MinPartSizeBytes)
            {
                await PutSmallBlobAsync(blobKey, source, upload.Length, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await PutLargeBlobAsync(blobKey, digest, source, upload.Length, cancellationToken).ConfigureAwait(false);
            }
        }

        S3Log.BlobCommitted(_logger, digest, upload.Length, uploadId);

        // NOTE: a crash between the batches below leaves part objects without a marker. No call removes them,
        // so a bucket lifecycle rule on the uploads prefix is the cleanup.
        try
        {
            await DeleteKeysAsync(upload.Keys, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception or IOException or HttpRequestException or ExecutionRejectedException)
        {
            S3Log.UploadCleanupFailed(_logger, ex, uploadId);
        }

        return new BlobInfo(digest, upload.Length);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var prefix = Layout.GetUploadPrefix(uploadId);
        var keys = new List<string>();
        await foreach (var entry in ListObjectsAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(entry.Key);
        }

        if (keys.Count == 0)
        {
            return;
        }

        await DeleteKeysAsync(OrderStateFirst(prefix, keys), cancellationToken).ConfigureAwait(false);
        S3Log.UploadDeleted(_logger, uploadId);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsClient)
        {
            _client.Dispose();
        }

        if (!ReferenceEquals(_presignClient, _client))
        {
            _presignClient.Dispose();
        }
    }

    /// <summary>Uploads one part object of an upload from a buffer.</summary>
    internal Task PutUploadPartAsync(string uploadId, int sequence, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        PutObjectAsync(Layout.GetUploadPartKey(uploadId, sequence), data, cancellationToken);

    /// <summary>Runs one S3 call, which must be safe to repeat, through the resilience pipeline.</summary>
    private async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        await _pipeline.ExecuteAsync(async token => await call(token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Writes an object from a buffer with PutObject. Each attempt reads the buffer through a new stream, because
    /// the SDK closes the stream of a request, and the caller keeps the buffer unchanged until this returns.
    /// </summary>
    private Task<PutObjectResponse> PutObjectAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        RunAsync(
            token => _client.PutObjectAsync(
                new PutObjectRequest
                {
                    BucketName = _bucket,
                    Key = key,
                    InputStream = CreateReadOnlyStream(data),
                    UseChunkEncoding = UseChunkEncoding,
                },
                token),
            cancellationToken);

    /// <summary>Opens a whole object for reading. A failure while the caller reads the stream is not retried.</summary>
    private Task<GetObjectResponse> GetObjectAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(token => _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, token), cancellationToken);

    private static MemoryStream CreateReadOnlyStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>Returns the size of an object, or null when it does not exist.</summary>
    private Task<long?> HeadAsync(string key, CancellationToken cancellationToken) =>
        RunAsync(token => HeadOnceAsync(key, token), cancellationToken);

    /// <summary>Makes one HeadObject request, outside the pipeline, and returns the object's size or null when it does not exist.</summary>
    private async Task<long?> HeadOnceAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectMetadataAsync(
                new GetObjectMetadataRequest { BucketName = _bucket, Key = key },
                cancellationToken).ConfigureAwait(false);
            return response.ContentLength;
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>Lists the marker and the part objects of an upload, or returns null when the marker is missing.</summary>
    private async Task<UploadListing?> ListUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        var prefix = Layout.GetUploadPrefix(uploadId);
        var exists = false;
        var keys = new List<string>();
        var parts = new List<UploadPart>();
        await foreach (var entry in ListObjectsAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            keys.Add(entry.Key);
            if (S3KeyLayout.IsStateKey(prefix, entry.Key))
            {
                exists = true;
            }
            else if (S3KeyLayout.TryParsePartKey(prefix, entry.Key, out var sequence))
            {
                parts.Add(new UploadPart(sequence, entry.Key, entry.Size ?? 0));
            }
        }

        if (!exists)
        {
            return null;
        }

        parts.Sort((left, right) => left.Sequence.CompareTo(right.Sequence));
        return new UploadListing(OrderStateFirst(prefix, keys), parts, parts.Sum(part => part.Size));
    }

    private async IAsyncEnumerable<S3Object> ListObjectsAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? continuationToken = null;
        while (true)
        {
            var pageToken = continuationToken;
            var response = await RunAsync(
                token => _client.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix, ContinuationToken = pageToken },
                    token),
                cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.S3Objects ?? [])
            {
                yield return entry;
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            continuationToken = response.NextContinuationToken;
        }
    }

    /// <summary>
    /// Puts an upload's marker first, so that the first DeleteObjects batch removes it, and a delete that stops
    /// partway leaves an upload that no longer exists rather than one whose length is wrong.
    /// </summary>
    private static List<string> OrderStateFirst(string uploadPrefix, List<string> keys) =>
        keys.OrderBy(key => S3KeyLayout.IsStateKey(uploadPrefix, key) ? 0 : 1).ToList();

    /// <summary>Deletes objects in DeleteObjects batches of up to 1000 keys, the batches in the order given.</summary>
    private async Task DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        for (var start = 0; start < keys.Count; start += MaxKeysPerDelete)
        {
            var batch = keys.Skip(start).Take(MaxKeysPerDelete).Select(key => new KeyVersion { Key = key }).ToList();
            var response = await RunAsync(
                token => _client.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = _bucket, Objects = batch, Quiet = true }, token),
                cancellationToken).ConfigureAwait(false);
            if (response.DeleteErrors is { Count: > 0 } errors)
            {
                throw new IOException($"Deleting {errors.Count} objects failed, the first '{errors[0].Key}' with {errors[0].Code}: {errors[0].Message}");
            }
        }
    }

    private sealed record UploadPart(int Sequence, string Key, long Size);

    private sealed record UploadListing(List<string> Keys, List<UploadPart> Parts, long Length);
}

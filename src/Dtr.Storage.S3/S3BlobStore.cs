using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Digests;
using Microsoft.Extensions.Logging;

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
/// </remarks>
internal sealed class S3BlobStore : IBlobStore, IDisposable
{
    /// <summary>The maximum number of parts in one S3 multipart upload.</summary>
    private const int MaxMultipartParts = 10_000;

    /// <summary>The maximum number of keys in one S3 DeleteObjects request.</summary>
    private const int MaxKeysPerDelete = 1000;

    private readonly IAmazonS3 _client;
    private readonly bool _ownsClient;
    private readonly string _bucket;
    private readonly ILogger _logger;

    /// <summary>Creates the store on a client, which <see cref="Dispose"/> disposes only when <paramref name="ownsClient"/> is true.</summary>
    public S3BlobStore(IAmazonS3 client, S3StorageOptions options, ILogger logger, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Bucket);
        _client = client;
        _ownsClient = ownsClient;
        _bucket = options.Bucket;
        _logger = logger;
        Layout = new S3KeyLayout(options.Prefix);
        UseChunkEncoding = options.UseChunkEncoding;
        PartSizeBytes = options.PartSizeBytes;
    }

    internal S3KeyLayout Layout { get; }

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

        var request = new GetObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            ByteRange = new ByteRange(offset, size.Value - 1),
        };
        try
        {
            var response = await _client.GetObjectAsync(request, cancellationToken).ConfigureAwait(false);
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

        await _client.DeleteObjectAsync(new DeleteObjectRequest { BucketName = _bucket, Key = key }, cancellationToken).ConfigureAwait(false);
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
                yield return new BlobInfo(digest, entry.Size ?? 0);
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public async ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = Layout.GetUploadStateKey(uploadId),
            InputStream = new MemoryStream([], writable: false),
            UseChunkEncoding = UseChunkEncoding,
        };
        await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
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
        return new S3PartsReadStream(_client, _bucket, upload.Parts.Select(part => part.Key).ToList());
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
        await using (var source = new S3PartsReadStream(_client, _bucket, upload.Parts.Select(part => part.Key).ToList()))
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
        catch (Exception ex) when (ex is AmazonS3Exception or IOException)
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
    }

    /// <summary>Uploads one part object of an upload from a buffer.</summary>
    internal async Task PutUploadPartAsync(string uploadId, int sequence, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = Layout.GetUploadPartKey(uploadId, sequence),
            InputStream = CreateReadOnlyStream(data),
            UseChunkEncoding = UseChunkEncoding,
        };
        await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Writes a blob below the minimum multipart part size with one PutObject.</summary>
    private async Task PutSmallBlobAsync(string blobKey, Stream source, long length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            var read = await source.ReadAtLeastAsync(buffer.AsMemory(0, (int)length), (int)length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            EnsureLength(read, length);
            var request = new PutObjectRequest
            {
                BucketName = _bucket,
                Key = blobKey,
                InputStream = CreateReadOnlyStream(buffer.AsMemory(0, read)),
                UseChunkEncoding = UseChunkEncoding,
            };
            await _client.PutObjectAsync(request, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Writes a blob with a multipart upload, reading the upload's part objects in order and sending them on in
    /// parts of one size, because S3 requires every part except the last to be at least 5 MiB and the part
    /// objects of an upload can be smaller.
    /// </summary>
    private async Task PutLargeBlobAsync(string blobKey, Digest digest, Stream source, long length, CancellationToken cancellationToken)
    {
        // Grow the part size when the blob would need more parts than S3 allows.
        var partSize = (int)Math.Min(S3StorageOptions.MaxPartSizeBytes, Math.Max(PartSizeBytes, (length + MaxMultipartParts - 1) / MaxMultipartParts));
        var initiated = await _client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = _bucket, Key = blobKey },
            cancellationToken).ConfigureAwait(false);
        var buffer = ArrayPool<byte>.Shared.Rent(partSize);
        try
        {
            var partETags = new List<PartETag>();
            long sent = 0;
            while (true)
            {
                var read = await source.ReadAtLeastAsync(buffer.AsMemory(0, partSize), partSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                var part = await _client.UploadPartAsync(
                    new UploadPartRequest
                    {
                        BucketName = _bucket,
                        Key = blobKey,
                        UploadId = initiated.UploadId,
                        PartNumber = partETags.Count + 1,
                        PartSize = read,
                        InputStream = CreateReadOnlyStream(buffer.AsMemory(0, read)),
                        UseChunkEncoding = UseChunkEncoding,
                    },
                    cancellationToken).ConfigureAwait(false);
                partETags.Add(new PartETag(part));
                sent += read;
            }

            EnsureLength(sent, length);
            await _client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = _bucket, Key = blobKey, UploadId = initiated.UploadId, PartETags = partETags },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await AbortMultipartUploadAsync(blobKey, digest, initiated.UploadId).ConfigureAwait(false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Aborts a failed multipart upload, and logs a failure instead of hiding the original error.</summary>
    private async Task AbortMultipartUploadAsync(string blobKey, Digest digest, string multipartUploadId)
    {
        try
        {
            // No cancellation token, so a cancelled commit still aborts its multipart upload.
            // NOTE: s3rver 3.7.1 does not implement AbortMultipartUpload, so there this only logs a warning.
            await _client.AbortMultipartUploadAsync(
                new AbortMultipartUploadRequest { BucketName = _bucket, Key = blobKey, UploadId = multipartUploadId },
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception or IOException or HttpRequestException)
        {
            S3Log.MultipartAbortFailed(_logger, ex, multipartUploadId, digest);
        }
    }

    private static void EnsureLength(long read, long expected)
    {
        if (read != expected)
        {
            throw new IOException($"The upload's part objects contained {read} bytes, but their listing showed {expected}. The upload changed during the commit; retry it.");
        }
    }

    private static MemoryStream CreateReadOnlyStream(ReadOnlyMemory<byte> data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data, out var segment)
            ? new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false)
            : new MemoryStream(data.ToArray(), writable: false);

    /// <summary>Returns the size of an object, or null when it does not exist.</summary>
    private async Task<long?> HeadAsync(string key, CancellationToken cancellationToken)
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
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var response = await _client.ListObjectsV2Async(request, cancellationToken).ConfigureAwait(false);
            foreach (var entry in response.S3Objects ?? [])
            {
                yield return entry;
            }

            if (response.IsTruncated != true || string.IsNullOrEmpty(response.NextContinuationToken))
            {
                yield break;
            }

            request.ContinuationToken = response.NextContinuationToken;
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
            var response = await _client.DeleteObjectsAsync(
                new DeleteObjectsRequest { BucketName = _bucket, Objects = batch, Quiet = true },
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

using System.Buffers;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Digests;
using Polly;

namespace Dtr.Storage.S3;

/// <summary>The steps of <see cref="S3BlobStore.CommitUploadAsync"/> that write the blob object.</summary>
internal sealed partial class S3BlobStore
{
    /// <summary>Writes a blob below the minimum multipart part size with one PutObject.</summary>
    private async Task PutSmallBlobAsync(string blobKey, Stream source, long length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Max(length, 1));
        try
        {
            var read = await source.ReadAtLeastAsync(buffer.AsMemory(0, (int)length), (int)length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            EnsureLength(read, length);
            await PutObjectAsync(blobKey, buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
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

        // NOTE: when the response to InitiateMultipartUpload is lost, the retry starts a second multipart upload
        // and the first stays incomplete until a bucket lifecycle rule aborts it.
        var initiated = await RunAsync(
            token => _client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = _bucket, Key = blobKey }, token),
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

                // Each attempt sends the same bytes under the same part number, so a retried part replaces the
                // one a lost response left behind.
                var partNumber = partETags.Count + 1;
                var part = await RunAsync(
                    token => _client.UploadPartAsync(
                        new UploadPartRequest
                        {
                            BucketName = _bucket,
                            Key = blobKey,
                            UploadId = initiated.UploadId,
                            PartNumber = partNumber,
                            PartSize = read,
                            InputStream = CreateReadOnlyStream(buffer.AsMemory(0, read)),
                            UseChunkEncoding = UseChunkEncoding,
                        },
                        token),
                    cancellationToken).ConfigureAwait(false);
                partETags.Add(new PartETag(part));
                sent += read;
            }

            EnsureLength(sent, length);
            await CompleteMultipartUploadAsync(blobKey, digest, initiated.UploadId, partETags, length, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// Completes a multipart upload. An attempt whose response was lost may already have completed it, and then a
    /// repeated CompleteMultipartUpload fails: S3 returns 404 NoSuchUpload, and s3rver 3.7.1 returns 500
    /// InternalError. So a retry first checks whether the blob object exists with the expected size.
    /// </summary>
    private async Task CompleteMultipartUploadAsync(
        string blobKey,
        Digest digest,
        string multipartUploadId,
        List<PartETag> partETags,
        long length,
        CancellationToken cancellationToken)
    {
        var attempts = 0;
        await _pipeline.ExecuteAsync(
            async token =>
            {
                attempts++;
                if (attempts > 1 && await HeadOnceAsync(blobKey, token).ConfigureAwait(false) == length)
                {
                    S3Log.MultipartAlreadyCompleted(_logger, multipartUploadId, digest);
                    return;
                }

                try
                {
                    await _client.CompleteMultipartUploadAsync(
                        new CompleteMultipartUploadRequest { BucketName = _bucket, Key = blobKey, UploadId = multipartUploadId, PartETags = partETags },
                        token).ConfigureAwait(false);
                }
                catch (AmazonS3Exception error) when (attempts > 1 && error.ErrorCode == "NoSuchUpload")
                {
                    // The earlier attempt may have finished on the server only after the check above.
                    if (await HeadOnceAsync(blobKey, token).ConfigureAwait(false) != length)
                    {
                        throw;
                    }

                    S3Log.MultipartAlreadyCompleted(_logger, multipartUploadId, digest);
                }
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Aborts a failed multipart upload, and logs a failure instead of hiding the original error.</summary>
    private async Task AbortMultipartUploadAsync(string blobKey, Digest digest, string multipartUploadId)
    {
        try
        {
            // No cancellation token, so a cancelled commit still aborts its multipart upload.
            // NOTE: s3rver 3.7.1 does not implement AbortMultipartUpload, so there this only logs a warning.
            await RunAsync(
                token => _client.AbortMultipartUploadAsync(
                    new AbortMultipartUploadRequest { BucketName = _bucket, Key = blobKey, UploadId = multipartUploadId },
                    token),
                CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is AmazonS3Exception or IOException or HttpRequestException or ExecutionRejectedException)
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
}

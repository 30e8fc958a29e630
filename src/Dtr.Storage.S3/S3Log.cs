using Dtr.Digests;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.S3;

/// <summary>Log messages of the S3 blob store, event ids 2100 to 2199.</summary>
internal static partial class S3Log
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Debug, Message = "Stored blob {Digest} ({Size} bytes) from upload {UploadId}.")]
    public static partial void BlobCommitted(ILogger logger, Digest digest, long size, string uploadId);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "Blob {Digest} was already stored, so upload {UploadId} was discarded.")]
    public static partial void BlobAlreadyStored(ILogger logger, Digest digest, string uploadId);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "Deleting the objects of committed upload {UploadId} failed; the blob is stored, and the objects stay until the upload is deleted.")]
    public static partial void UploadCleanupFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Warning, Message = "Aborting multipart upload {MultipartUploadId} for blob {Digest} failed; the server keeps its parts until a bucket lifecycle rule removes them.")]
    public static partial void MultipartAbortFailed(ILogger logger, Exception exception, string multipartUploadId, Digest digest);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "Deleted blob {Digest}.")]
    public static partial void BlobDeleted(ILogger logger, Digest digest);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "Deleted upload {UploadId}.")]
    public static partial void UploadDeleted(ILogger logger, string uploadId);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug, Message = "Presigned a download URL for blob {Digest}, valid for {LifetimeSeconds:F0} s.")]
    public static partial void DownloadUriSigned(ILogger logger, Digest digest, double lifetimeSeconds);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Multipart upload {MultipartUploadId} of blob {Digest} had already completed when CompleteMultipartUpload was retried; the blob is stored.")]
    public static partial void MultipartAlreadyCompleted(ILogger logger, string multipartUploadId, Digest digest);
}

using Dtr.Digests;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.AzureBlob;

/// <summary>Log messages of the Azure blob store, event ids 2300 to 2399.</summary>
internal static partial class AzureBlobLog
{
    [LoggerMessage(EventId = 2300, Level = LogLevel.Debug, Message = "Stored blob {Digest} ({Size} bytes) from upload {UploadId} in {BlockCount} server-side copied blocks.")]
    public static partial void BlobCommitted(ILogger logger, Digest digest, long size, string uploadId, int blockCount);

    [LoggerMessage(EventId = 2301, Level = LogLevel.Debug, Message = "Blob {Digest} was already stored, so upload {UploadId} was discarded.")]
    public static partial void BlobAlreadyStored(ILogger logger, Digest digest, string uploadId);

    [LoggerMessage(EventId = 2302, Level = LogLevel.Warning, Message = "Deleting the blob of committed upload {UploadId} failed; the blob {Digest} is stored, and the upload blob stays until the upload is deleted or a lifecycle rule removes it.")]
    public static partial void UploadCleanupFailed(ILogger logger, Exception exception, string uploadId, Digest digest);

    [LoggerMessage(EventId = 2303, Level = LogLevel.Debug, Message = "Deleted blob {Digest}.")]
    public static partial void BlobDeleted(ILogger logger, Digest digest);

    [LoggerMessage(EventId = 2304, Level = LogLevel.Debug, Message = "Deleted upload {UploadId}.")]
    public static partial void UploadDeleted(ILogger logger, string uploadId);

    [LoggerMessage(EventId = 2305, Level = LogLevel.Information, Message = "Created the blob container {ContainerName}, which did not exist.")]
    public static partial void ContainerCreated(ILogger logger, string containerName);

    [LoggerMessage(EventId = 2306, Level = LogLevel.Debug, Message = "Upload {UploadId} already had the block list that a retried commit sent, so the earlier attempt had succeeded.")]
    public static partial void UploadCommitAlreadyApplied(ILogger logger, string uploadId);
}

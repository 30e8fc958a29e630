using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Logging;

/// <summary>
/// Log messages of the registry endpoints; event ids 3000–3999 belong to this package.
/// </summary>
/// <remarks>
/// A client's bad request is logged at Debug or Information; Error is kept for faults an operator must act on.
/// </remarks>
internal static partial class RegistryLog
{
    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Registry data folder is {DataDirectory}")]
    public static partial void DataDirectory(ILogger logger, string dataDirectory);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Metadata store schema is up to date")]
    public static partial void MetadataMigrated(ILogger logger);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "Blob store {StoreType} accepted the start-up check")]
    public static partial void BlobStoreChecked(ILogger logger, string storeType);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Blob store {StoreType} failed the start-up check with a transient fault; the registry starts anyway, and requests that need the store get 503 until it answers")]
    public static partial void BlobStoreCheckTransientFailure(ILogger logger, string storeType, Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Blob store {StoreType} did not answer the start-up check within {TimeoutSeconds:F0} s; the registry starts anyway")]
    public static partial void BlobStoreCheckTimedOut(ILogger logger, string storeType, double timeoutSeconds, Exception exception);

    [LoggerMessage(EventId = 3010, Level = LogLevel.Debug, Message = "Upload {UploadId} started in {Repository}")]
    public static partial void UploadStarted(ILogger logger, string repository, string uploadId);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Information, Message = "Blob {Digest} ({Size} bytes) committed to {Repository} from upload {UploadId}")]
    public static partial void BlobCommitted(ILogger logger, string repository, string digest, long size, string uploadId);

    [LoggerMessage(EventId = 3024, Level = LogLevel.Warning, Message = "Blob {Digest} ({Size} bytes) committed to {Repository} by a retried completion of upload {UploadId}, whose first completion stored the blob but failed before recording it")]
    public static partial void InterruptedUploadFinished(ILogger logger, string repository, string digest, long size, string uploadId);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Information, Message = "Upload {UploadId} in {Repository} discarded: expected digest {Digest}, content has {ActualDigest}")]
    public static partial void UploadDigestMismatch(ILogger logger, string repository, string uploadId, string digest, string actualDigest);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "Upload {UploadId} cancelled in {Repository}")]
    public static partial void UploadCancelled(ILogger logger, string repository, string uploadId);

    [LoggerMessage(EventId = 3014, Level = LogLevel.Debug, Message = "Upload {UploadId} in {Repository} hashed again from storage ({Size} bytes)")]
    public static partial void UploadRehashed(ILogger logger, string repository, string uploadId, long size);

    [LoggerMessage(EventId = 3015, Level = LogLevel.Information, Message = "Blob {Digest} mounted into {Repository} from {SourceRepository}")]
    public static partial void BlobMounted(ILogger logger, string repository, string digest, string sourceRepository);

    [LoggerMessage(EventId = 3016, Level = LogLevel.Debug, Message = "Upload {UploadId} in {Repository} is leased to another request; waiting up to {WaitSeconds:F0} s")]
    public static partial void UploadLeaseWaiting(ILogger logger, string repository, string uploadId, double waitSeconds);

    [LoggerMessage(EventId = 3017, Level = LogLevel.Warning, Message = "Upload {UploadId} in {Repository} stayed leased to another request for {WaitSeconds:F0} s; the request was rejected")]
    public static partial void UploadLeaseWaitTimedOut(ILogger logger, string repository, string uploadId, double waitSeconds);

    [LoggerMessage(EventId = 3018, Level = LogLevel.Warning, Message = "Request lost the lease on upload {UploadId} in {Repository} (holder {Holder}) and stopped writing")]
    public static partial void UploadLeaseLost(ILogger logger, string repository, string uploadId, string holder);

    [LoggerMessage(EventId = 3019, Level = LogLevel.Warning, Message = "Releasing the lease on upload {UploadId} in {Repository} (holder {Holder}) failed; the next request waits until it expires")]
    public static partial void UploadLeaseReleaseFailed(ILogger logger, string repository, string uploadId, string holder, Exception exception);

    [LoggerMessage(EventId = 3020, Level = LogLevel.Information, Message = "Manifest {Digest} stored in {Repository} with tags {Tags}")]
    public static partial void ManifestStored(ILogger logger, string repository, string digest, string tags);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Information, Message = "Manifest {Digest} deleted from {Repository}")]
    public static partial void ManifestDeleted(ILogger logger, string repository, string digest);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Information, Message = "Tag {Tag} deleted from {Repository}")]
    public static partial void TagDeleted(ILogger logger, string repository, string tag);

    [LoggerMessage(EventId = 3023, Level = LogLevel.Information, Message = "Blob {Digest} unlinked from {Repository}")]
    public static partial void BlobUnlinked(ILogger logger, string repository, string digest);

    [LoggerMessage(EventId = 3090, Level = LogLevel.Debug, Message = "Request {Method} {Path} rejected with {Code}: {Message}")]
    public static partial void RequestRejected(ILogger logger, string method, string path, string code, string message);

    [LoggerMessage(EventId = 3091, Level = LogLevel.Error, Message = "Request {Method} {Path} failed")]
    public static partial void RequestFailed(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 3093, Level = LogLevel.Error, Message = "Request {Method} {Path} failed because storage is unavailable")]
    public static partial void StorageUnavailable(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 3092, Level = LogLevel.Debug, Message = "Request {Method} {Path} was aborted by the client")]
    public static partial void RequestAborted(ILogger logger, string method, string path);
}

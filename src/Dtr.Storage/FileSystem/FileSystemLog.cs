using Dtr.Digests;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.FileSystem;

/// <summary>Log messages of the filesystem blob store, event ids 2000 to 2099.</summary>
internal static partial class FileSystemLog
{
    [LoggerMessage(EventId = 2000, Level = LogLevel.Debug, Message = "Stored blob {Digest} ({Size} bytes) from upload {UploadId}.")]
    public static partial void BlobCommitted(ILogger logger, Digest digest, long size, string uploadId);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Debug, Message = "Blob {Digest} was already stored, so upload {UploadId} was discarded.")]
    public static partial void BlobAlreadyStored(ILogger logger, Digest digest, string uploadId);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Warning, Message = "Removing the folder of committed upload {UploadId} failed; the blob is stored, and the folder stays until the upload is deleted.")]
    public static partial void UploadCleanupFailed(ILogger logger, Exception exception, string uploadId);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Folder entries cannot be flushed to disk on this system, so a blob committed just before a power loss may be missing afterwards.")]
    public static partial void DirectoryFlushUnsupported(ILogger logger);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Debug, Message = "Deleted blob {Digest}.")]
    public static partial void BlobDeleted(ILogger logger, Digest digest);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Debug, Message = "Deleted upload {UploadId}.")]
    public static partial void UploadDeleted(ILogger logger, string uploadId);
}

using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.GarbageCollection;

/// <summary>Log messages of the garbage collection API and of uploads that meet a run; event ids 3250–3299.</summary>
internal static partial class GarbageCollectionHttpLog
{
    [LoggerMessage(EventId = 3250, Level = LogLevel.Information, Message = "Garbage collection run {RunId} started by {Caller} (dry run {DryRun}, delete untagged {DeleteUntagged})")]
    public static partial void RunStarted(ILogger logger, string runId, string caller, bool dryRun, bool deleteUntagged);

    [LoggerMessage(EventId = 3251, Level = LogLevel.Information, Message = "Cancellation of garbage collection run {RunId} requested by {Caller}")]
    public static partial void CancelRequested(ILogger logger, string runId, string caller);

    [LoggerMessage(EventId = 3260, Level = LogLevel.Debug, Message = "Upload {UploadId} in {Repository} waits for garbage collection to finish deleting blob {Digest}")]
    public static partial void WaitingForBlobDeletion(ILogger logger, string repository, string uploadId, string digest);

    [LoggerMessage(EventId = 3261, Level = LogLevel.Warning, Message = "Upload {UploadId} in {Repository} rejected: garbage collection kept blob {Digest} marked for deletion for {WaitSeconds:F0} s")]
    public static partial void BlobDeletionWaitTimedOut(ILogger logger, string repository, string uploadId, string digest, double waitSeconds);

    [LoggerMessage(EventId = 3262, Level = LogLevel.Warning, Message = "Upload {UploadId} in {Repository} rejected: garbage collection deleted blob {Digest} while the upload completed; the client must upload it again")]
    public static partial void BlobDeletedDuringCompletion(ILogger logger, string repository, string uploadId, string digest);

    [LoggerMessage(EventId = 3263, Level = LogLevel.Debug, Message = "Mount of blob {Digest} into {Repository} from {SourceRepository} skipped because garbage collection deleted or is deleting it; a plain upload session was started")]
    public static partial void MountSkippedForDeletion(ILogger logger, string repository, string digest, string sourceRepository);

    [LoggerMessage(EventId = 3264, Level = LogLevel.Debug, Message = "Use of blob {Digest} not recorded because garbage collection is deleting it")]
    public static partial void UseOfDeletedBlob(ILogger logger, string digest);
}

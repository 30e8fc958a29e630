using Microsoft.Extensions.Logging;

namespace Dtr.Gc;

/// <summary>Log messages of garbage collection; event ids 5000–5099.</summary>
internal static partial class GcLog
{
    [LoggerMessage(EventId = 5000, Level = LogLevel.Information, Message = "Garbage collection run {RunId} started ({Trigger}, dry run {DryRun}, delete untagged {DeleteUntagged}, cutoff {Cutoff:O})")]
    public static partial void RunStarted(ILogger logger, string runId, string trigger, bool dryRun, bool deleteUntagged, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Garbage collection run {RunId} ended {Status} after {Seconds:F1} s: {Manifests} manifests, {BlobLinks} blob links, {Blobs} blobs ({Bytes} bytes), {Uploads} uploads, {Errors} errors")]
    public static partial void RunEnded(ILogger logger, string runId, string status, double seconds, long manifests, long blobLinks, long blobs, long bytes, long uploads, int errors);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "Garbage collection run {RunId} failed")]
    public static partial void RunFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} lost the collection lease to another host and stopped")]
    public static partial void LeaseLost(ILogger logger, string runId);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "Garbage collection run {RunId} stops: cancellation was requested")]
    public static partial void CancelRequested(ILogger logger, string runId);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "Garbage collection run {RunId} stops: its time budget of {Budget} ran out")]
    public static partial void BudgetExhausted(ILogger logger, string runId, TimeSpan budget);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} failed to renew its lease or record its progress; retrying at the next heartbeat")]
    public static partial void HeartbeatFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Information, Message = "Garbage collection marked {Count} runs left running by a stopped host as interrupted")]
    public static partial void RunsInterrupted(ILogger logger, int count);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Error, Message = "Garbage collection run {RunId} failed to write its final record or release its lease")]
    public static partial void FinishFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Warning, Message = "Garbage collection failed to check for runs left running by a stopped host; the next listing of runs checks again")]
    public static partial void AbandonedRunCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 5010, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} failed to delete blob {Digest}; the blob is kept")]
    public static partial void BlobDeleteFailed(ILogger logger, string runId, string digest, Exception exception);

    [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} failed to purge upload {UploadId} of {Repository}")]
    public static partial void UploadPurgeFailed(ILogger logger, string runId, string uploadId, string repository, Exception exception);

    [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} failed to sweep repository {Repository}; the run goes on with the next one")]
    public static partial void RepositoryFailed(ILogger logger, string runId, string repository, Exception exception);

    [LoggerMessage(EventId = 5013, Level = LogLevel.Information, Message = "Garbage collection run {RunId} finished {Count} blob deletions left pending by earlier runs")]
    public static partial void PendingDeletionsFinished(ILogger logger, string runId, int count);

    [LoggerMessage(EventId = 5014, Level = LogLevel.Debug, Message = "Garbage collection run {RunId} swept repository {Repository}: {Manifests} manifests, {BlobLinks} blob links")]
    public static partial void RepositorySwept(ILogger logger, string runId, string repository, int manifests, int blobLinks);

    [LoggerMessage(EventId = 5015, Level = LogLevel.Information, Message = "Garbage collection deleted the records of {Count} runs that ended before {EndedBefore:O}")]
    public static partial void RunsExpired(ILogger logger, int count, DateTimeOffset endedBefore);

    [LoggerMessage(EventId = 5016, Level = LogLevel.Warning, Message = "Garbage collection run {RunId} failed to clear the deletion marks of {Count} blobs; the next run finishes them")]
    public static partial void EndDeletionFailed(ILogger logger, string runId, int count, Exception exception);

    [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Garbage collection schedule started: {Schedule}")]
    public static partial void SchedulerStarted(ILogger logger, string schedule);

    [LoggerMessage(EventId = 5021, Level = LogLevel.Information, Message = "Garbage collection schedule stopped")]
    public static partial void SchedulerStopped(ILogger logger);

    [LoggerMessage(EventId = 5022, Level = LogLevel.Debug, Message = "Garbage collection schedule: the next run is due at {Due:O}")]
    public static partial void SchedulerNextDue(ILogger logger, DateTimeOffset due);

    [LoggerMessage(EventId = 5023, Level = LogLevel.Debug, Message = "Garbage collection schedule: run {RunningRunId} of another host is in progress or already ran this due time, so the due time is computed again")]
    public static partial void SchedulerConflict(ILogger logger, string? runningRunId);

    [LoggerMessage(EventId = 5024, Level = LogLevel.Error, Message = "Garbage collection schedule failed to start a run; retrying in {DelaySeconds:F0} s")]
    public static partial void SchedulerFailed(ILogger logger, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 5025, Level = LogLevel.Warning, Message = "Garbage collection schedule stopped: the cron expression {Cron} has no later occurrence")]
    public static partial void SchedulerNoOccurrence(ILogger logger, string cron);

    [LoggerMessage(EventId = 5026, Level = LogLevel.Information, Message = "Scheduled garbage collection run {RunId} ended {Status}")]
    public static partial void ScheduledRunEnded(ILogger logger, string runId, string status);
}

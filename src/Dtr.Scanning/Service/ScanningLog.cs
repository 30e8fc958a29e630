using Microsoft.Extensions.Logging;

namespace Dtr.Scanning.Service;

/// <summary>Log messages of the scanning service; event ids 4100–4199.</summary>
internal static partial class ScanningLog
{
    [LoggerMessage(EventId = 4100, Level = LogLevel.Information, Message = "Scan worker {Holder} started with concurrency {Concurrency}")]
    public static partial void WorkerStarted(ILogger logger, string holder, int concurrency);

    [LoggerMessage(EventId = 4101, Level = LogLevel.Information, Message = "Scan worker {Holder} stopped")]
    public static partial void WorkerStopped(ILogger logger, string holder);

    [LoggerMessage(EventId = 4109, Level = LogLevel.Information, Message = "Scan worker {Holder} paused because scanning is disabled; it claims no job until scanning is enabled")]
    public static partial void WorkerPaused(ILogger logger, string holder);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Information, Message = "Scan job {JobId} of {Digest} in {Repository} claimed, attempt {Attempt}")]
    public static partial void JobClaimed(ILogger logger, long jobId, string repository, string digest, int attempt);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Information, Message = "Scan job {JobId} of {Digest} in {Repository} finished: {ImageCount} image(s) scanned in {Seconds:F1} s")]
    public static partial void JobFinished(ILogger logger, long jobId, string repository, string digest, int imageCount, double seconds);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Warning, Message = "Scan job {JobId} of {Digest} in {Repository} was claimed {Attempts} times without finishing; recorded as failed")]
    public static partial void JobGaveUp(ILogger logger, long jobId, string repository, string digest, int attempts);

    [LoggerMessage(EventId = 4105, Level = LogLevel.Warning, Message = "Scan job {JobId} of {Digest} lost its lease to another host; the scan was stopped")]
    public static partial void JobLeaseLost(ILogger logger, long jobId, string digest);

    [LoggerMessage(EventId = 4106, Level = LogLevel.Error, Message = "Scan worker {Holder} failed to read or update the scan queue; retrying in {DelaySeconds:F0} s")]
    public static partial void QueueFailed(ILogger logger, string holder, double delaySeconds, Exception exception);

    [LoggerMessage(EventId = 4107, Level = LogLevel.Warning, Message = "Renewing the lease on scan job {JobId} of {Digest} failed; retrying at the next renewal")]
    public static partial void JobRenewFailed(ILogger logger, long jobId, string digest, Exception exception);

    [LoggerMessage(EventId = 4108, Level = LogLevel.Error, Message = "Scan job {JobId} of {Digest} in {Repository} failed; it is retried when its lease expires")]
    public static partial void JobFailed(ILogger logger, long jobId, string repository, string digest, Exception exception);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Information, Message = "Image {Digest} in {Repository} scanned: {Status}, {PackageCount} packages, {VulnerabilityCount} vulnerabilities, database version {DatabaseVersion}")]
    public static partial void ImageScanned(ILogger logger, string repository, string digest, string status, int packageCount, int vulnerabilityCount, long databaseVersion);

    [LoggerMessage(EventId = 4111, Level = LogLevel.Warning, Message = "Scan of {Digest} in {Repository} failed: {Error}")]
    public static partial void ScanFailed(ILogger logger, string repository, string digest, string error, Exception? exception);

    [LoggerMessage(EventId = 4112, Level = LogLevel.Debug, Message = "Layer {Digest} analysed ({Seconds:F1} s) and stored")]
    public static partial void LayerAnalyzed(ILogger logger, string digest, double seconds);

    [LoggerMessage(EventId = 4113, Level = LogLevel.Debug, Message = "Index {Digest} child {Child} skipped: {Reason}")]
    public static partial void ChildSkipped(ILogger logger, string digest, string child, string reason);

    [LoggerMessage(EventId = 4115, Level = LogLevel.Information, Message = "Scan of {Digest} in {Repository} queued ({Reason})")]
    public static partial void ScanQueued(ILogger logger, string repository, string digest, string reason);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Information, Message = "Re-match against database version {DatabaseVersion} started")]
    public static partial void RematchStarted(ILogger logger, long databaseVersion);

    [LoggerMessage(EventId = 4121, Level = LogLevel.Information, Message = "Re-match against database version {DatabaseVersion}: {Count} scans rewritten so far")]
    public static partial void RematchProgress(ILogger logger, long databaseVersion, int count);

    [LoggerMessage(EventId = 4122, Level = LogLevel.Information, Message = "Re-match against database version {DatabaseVersion} finished: {Count} scans rewritten in {Seconds:F1} s")]
    public static partial void RematchFinished(ILogger logger, long databaseVersion, int count, double seconds);

    [LoggerMessage(EventId = 4123, Level = LogLevel.Error, Message = "Re-match failed; it resumes at the next check")]
    public static partial void RematchFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4124, Level = LogLevel.Warning, Message = "Re-match skipped scan {Digest} because its inventory cannot be read")]
    public static partial void RematchInventoryInvalid(ILogger logger, string digest, Exception exception);

    [LoggerMessage(EventId = 4130, Level = LogLevel.Information, Message = "Vulnerability database update from {Url} started")]
    public static partial void UpdateStarted(ILogger logger, string url);

    [LoggerMessage(EventId = 4131, Level = LogLevel.Information, Message = "Vulnerability database source {Url} is unchanged (304 Not Modified)")]
    public static partial void UpdateNotModified(ILogger logger, string url);

    [LoggerMessage(EventId = 4132, Level = LogLevel.Information, Message = "Vulnerability database source {Source} imported: {RecordCount} records, {SkippedCount} skipped, database version {DatabaseVersion}")]
    public static partial void SourceImported(ILogger logger, string source, int recordCount, int skippedCount, long databaseVersion);

    [LoggerMessage(EventId = 4137, Level = LogLevel.Information, Message = "Vulnerability database source {Source} is unchanged: the archive {Digest} is the current copy")]
    public static partial void SourceUnchanged(ILogger logger, string source, string digest);

    [LoggerMessage(EventId = 4133, Level = LogLevel.Error, Message = "Vulnerability database update from {Url} failed; the previous database stays in use: {Error}")]
    public static partial void UpdateFailed(ILogger logger, string url, string error, Exception? exception);

    [LoggerMessage(EventId = 4134, Level = LogLevel.Warning, Message = "Download of {Url} failed with {Outcome}; retry {Attempt} in {DelaySeconds:F1} s")]
    public static partial void DownloadRetry(ILogger logger, string url, string outcome, int attempt, double delaySeconds);

    [LoggerMessage(EventId = 4135, Level = LogLevel.Information, Message = "Vulnerability database update skipped: another host holds the update lease")]
    public static partial void UpdateLeaseHeld(ILogger logger);

    [LoggerMessage(EventId = 4136, Level = LogLevel.Information, Message = "Next vulnerability database update at {NextAttemptAt:O}")]
    public static partial void UpdateScheduled(ILogger logger, DateTimeOffset nextAttemptAt);

    [LoggerMessage(EventId = 4138, Level = LogLevel.Error, Message = "A scan listener failed after scan job {JobId} of {Repository}@{Digest} ended; the scan result is stored")]
    public static partial void ListenerFailed(ILogger logger, long jobId, string repository, string digest, Exception error);
}

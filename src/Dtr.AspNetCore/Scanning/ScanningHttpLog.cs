using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Scanning;

/// <summary>Log messages of the scanning endpoints and hooks; event ids 3200–3249.</summary>
internal static partial class ScanningHttpLog
{
    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Pull of {Digest} from {Repository} denied by the pull policy: {Reason}")]
    public static partial void PullDenied(ILogger logger, string repository, string digest, string reason);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Queueing a scan of {Digest} in {Repository} after a push failed; the push succeeded and the image stays unscanned")]
    public static partial void ScanOnPushFailed(ILogger logger, string repository, string digest, Exception exception);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Information, Message = "Vulnerability database upload for source {Source} by {Caller} rejected: {Error}")]
    public static partial void UploadRejected(ILogger logger, string source, string caller, string error);

    [LoggerMessage(EventId = 3203, Level = LogLevel.Information, Message = "Vulnerability database source {Source} uploaded by {Caller}: {RecordCount} records")]
    public static partial void Uploaded(ILogger logger, string source, string caller, int recordCount);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Pull policy of {Repository} set by {Caller}: block {BlockSeverity}, allow unscanned {AllowUnscanned}, {AllowlistCount} allowlisted")]
    public static partial void PolicySet(ILogger logger, string repository, string caller, string blockSeverity, bool allowUnscanned, int allowlistCount);

    [LoggerMessage(EventId = 3206, Level = LogLevel.Information, Message = "Vulnerability database source {Source} removed by {Caller}")]
    public static partial void SourceRemoved(ILogger logger, string source, string caller);

    [LoggerMessage(EventId = 3205, Level = LogLevel.Information, Message = "Online vulnerability database update requested by {Caller}")]
    public static partial void UpdateRequested(ILogger logger, string caller);
}

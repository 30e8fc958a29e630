using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Audit;

internal static partial class AuditLogMessages
{
    [LoggerMessage(EventId = 3500, Level = LogLevel.Warning, Message = "Audit entry dropped because the queue of {Capacity} entries is full; {Dropped} dropped since start")]
    public static partial void EntriesDropped(ILogger logger, long dropped, int capacity);

    [LoggerMessage(EventId = 3501, Level = LogLevel.Error, Message = "Failed to store {Count} audit entries; they are lost")]
    public static partial void AppendFailed(ILogger logger, int count, Exception error);

    [LoggerMessage(EventId = 3502, Level = LogLevel.Information, Message = "Deleted {Count} audit entries recorded before {Cutoff}")]
    public static partial void EntriesExpired(ILogger logger, long count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 3503, Level = LogLevel.Error, Message = "Failed to delete audit entries recorded before {Cutoff}; retrying in an hour")]
    public static partial void RetentionFailed(ILogger logger, DateTimeOffset cutoff, Exception error);
}

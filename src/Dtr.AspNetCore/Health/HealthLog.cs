using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Health;

/// <summary>Log messages of the readiness checks; event ids 3450–3459.</summary>
internal static partial class HealthLog
{
    [LoggerMessage(EventId = 3450, Level = LogLevel.Error, Message = "Readiness check {CheckName} failed with status {Status}: {Description}")]
    public static partial void CheckFailed(ILogger logger, string checkName, string status, string? description, Exception? exception);

    [LoggerMessage(EventId = 3451, Level = LogLevel.Debug, Message = "Readiness check {CheckName} is still failing, {FailedRuns} failed runs since {Since:u}: {Description}")]
    public static partial void CheckStillFailing(ILogger logger, string checkName, int failedRuns, DateTimeOffset since, string? description);

    [LoggerMessage(EventId = 3452, Level = LogLevel.Information, Message = "Readiness check {CheckName} passes again after {FailedRuns} failed runs since {Since:u}")]
    public static partial void CheckRecovered(ILogger logger, string checkName, int failedRuns, DateTimeOffset since);
}

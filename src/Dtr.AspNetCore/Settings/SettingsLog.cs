using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Settings;

/// <summary>Log messages of the runtime settings; event ids 3400–3449. No message carries a database URL's credentials.</summary>
internal static partial class SettingsLog
{
    [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Runtime settings version {Version} saved by {Caller}: {Members}")]
    public static partial void SettingsChanged(ILogger logger, long version, string caller, string members);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Runtime settings version {Version}, saved by {UpdatedBy}, applied from the metadata store")]
    public static partial void SettingsRefreshed(ILogger logger, long version, string updatedBy);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Error, Message = "Stored runtime settings version {Version} cannot be read; the settings in effect stay")]
    public static partial void StoredSettingsUnreadable(ILogger logger, long version, Exception exception);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Error, Message = "Stored runtime settings version {Version} are invalid on this host, so the settings in effect stay: {Errors}")]
    public static partial void StoredSettingsInvalid(ILogger logger, long version, string errors);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Warning, Message = "Reading the runtime settings from the metadata store failed ({FailureCount} times in a row); retrying in {DelaySeconds:F0} s")]
    public static partial void RefreshFailed(ILogger logger, int failureCount, double delaySeconds, Exception exception);
}

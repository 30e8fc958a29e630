using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Log messages of authentication and authorization, event ids 3100–3199. No message carries a password or token.
/// </summary>
internal static partial class SecurityLog
{
    /// <summary>The maximum length of a client-supplied value, such as a user or scope name, in a log message.</summary>
    public const int MaxValueLength = 200;

    /// <summary>
    /// Returns <paramref name="value"/> cut to <see cref="MaxValueLength"/> characters and marked with <c>…</c>, so a
    /// client cannot write arbitrarily long log lines.
    /// </summary>
    public static string Truncate(string value) => value.Length <= MaxValueLength ? value : value[..MaxValueLength] + "…";

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Token signing key loaded from {Path}")]
    public static partial void SigningKeyLoaded(ILogger logger, string path);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Token signing key generated and saved to {Path}")]
    public static partial void SigningKeyGenerated(ILogger logger, string path);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Sign-in of user {UserName} from {ClientAddress} failed: {Reason}")]
    public static partial void SignInFailed(ILogger logger, string userName, string clientAddress, string reason);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "Sign-in of user {UserName} from {ClientAddress} rejected: too many failed sign-ins, retry after {RetryAfterSeconds} s")]
    public static partial void SignInThrottled(ILogger logger, string userName, string clientAddress, int retryAfterSeconds);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Information, Message = "Bearer token from {ClientAddress} rejected: {Reason}")]
    public static partial void TokenRejected(ILogger logger, string clientAddress, string reason);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Information, Message = "Host-authenticated principal from {ClientAddress} maps to no active registry user")]
    public static partial void HostUserUnmapped(ILogger logger, string clientAddress);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Information, Message = "Browser session of user {UserName} started from {ClientAddress} with {Credential}, valid until {ExpiresAt:O}")]
    public static partial void SessionStarted(ILogger logger, string userName, string clientAddress, string credential, DateTimeOffset expiresAt);

    [LoggerMessage(EventId = 3115, Level = LogLevel.Information, Message = "Browser session of user {UserName} ended from {ClientAddress}")]
    public static partial void SessionEnded(ILogger logger, string userName, string clientAddress);

    [LoggerMessage(EventId = 3116, Level = LogLevel.Information, Message = "Session cookie from {ClientAddress} rejected: {Reason}")]
    public static partial void SessionRejected(ILogger logger, string clientAddress, string reason);

    [LoggerMessage(EventId = 3117, Level = LogLevel.Warning, Message = "{Method} {Path} by the browser session of {UserName} from {ClientAddress} rejected: the X-CSRF-Token header is {Problem}")]
    public static partial void AntiforgeryRejected(ILogger logger, string method, string path, string userName, string clientAddress, string problem);

    [LoggerMessage(EventId = 3120, Level = LogLevel.Information, Message = "Access denied to {UserName} for {Action} on {Repository} ({Method} {Path}): {Reason}")]
    public static partial void AccessDenied(ILogger logger, string userName, string action, string repository, string method, string path, string reason);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Debug, Message = "Token issued to {UserName} for {Granted} (requested {Requested})")]
    public static partial void TokenIssued(ILogger logger, string userName, string granted, string requested);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Information, Message = "Repository {Repository} created on first push by {UserName}")]
    public static partial void RepositoryCreatedOnPush(ILogger logger, string repository, string userName);

    [LoggerMessage(EventId = 3123, Level = LogLevel.Information, Message = "Token for {UserName} issued without {DeniedScopes}; {DroppedCount} scopes with an invalid name or unknown resource left out")]
    public static partial void TokenScopesDenied(ILogger logger, string userName, string deniedScopes, int droppedCount);

    [LoggerMessage(EventId = 3124, Level = LogLevel.Debug, Message = "Cross-repository mount from {SourceRepository} into {Repository} skipped: {UserName} may not pull the source")]
    public static partial void MountSourceDenied(ILogger logger, string repository, string sourceRepository, string userName);

    [LoggerMessage(EventId = 3130, Level = LogLevel.Warning, Message = "Recording the use of access token {TokenId} failed")]
    public static partial void AccessTokenTouchFailed(ILogger logger, string tokenId, Exception exception);
}

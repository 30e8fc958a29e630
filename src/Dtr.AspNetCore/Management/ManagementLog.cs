using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Management;

/// <summary>Log messages of the management API and the administrator bootstrap; event ids 3100–3199.</summary>
internal static partial class ManagementLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Debug, Message = "Management request {Method} {Path} rejected with {Status}: {Detail}")]
    public static partial void RequestRejected(ILogger logger, string method, string path, int status, string detail);

    [LoggerMessage(EventId = 3109, Level = LogLevel.Error, Message = "Management request {Method} {Path} failed because storage is unavailable")]
    public static partial void StoreUnavailable(ILogger logger, string method, string path, Exception exception);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "User {UserName} created by {Caller}")]
    public static partial void UserCreated(ILogger logger, string userName, string caller);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Information, Message = "User {UserName} deleted by {Caller}")]
    public static partial void UserDeleted(ILogger logger, string userName, string caller);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Information, Message = "Access token {TokenId} of {UserName} created by {Caller}")]
    public static partial void TokenCreated(ILogger logger, string tokenId, string userName, string caller);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Information, Message = "Access token {TokenId} of {UserName} revoked by {Caller}")]
    public static partial void TokenRevoked(ILogger logger, string tokenId, string userName, string caller);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information, Message = "Organization {Organization} created by {Caller}")]
    public static partial void OrganizationCreated(ILogger logger, string organization, string caller);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "Organization {Organization} deleted by {Caller}")]
    public static partial void OrganizationDeleted(ILogger logger, string organization, string caller);

    [LoggerMessage(EventId = 3120, Level = LogLevel.Information, Message = "Repository {Repository} created by {Caller}")]
    public static partial void RepositoryCreated(ILogger logger, string repository, string caller);

    [LoggerMessage(EventId = 3121, Level = LogLevel.Information, Message = "Repository {Repository} deleted by {Caller}")]
    public static partial void RepositoryDeleted(ILogger logger, string repository, string caller);

    [LoggerMessage(EventId = 3123, Level = LogLevel.Information, Message = "Tag {Tag} of {Repository} deleted by {Caller}")]
    public static partial void TagDeleted(ILogger logger, string repository, string tag, string caller);

    [LoggerMessage(EventId = 3124, Level = LogLevel.Information, Message = "Manifest {Digest} of {Repository} deleted by {Caller}")]
    public static partial void ManifestDeleted(ILogger logger, string repository, string digest, string caller);

    [LoggerMessage(EventId = 3122, Level = LogLevel.Information, Message = "Team {Organization}/{Team} granted {AccessLevel} on {Repository} by {Caller}")]
    public static partial void TeamAccessSet(ILogger logger, string repository, string organization, string team, string accessLevel, string caller);

    // The one log line that contains a secret: the generated password is shown once so the operator can sign in.
    [LoggerMessage(EventId = 3150, Level = LogLevel.Warning, Message = "Created administrator '{UserName}' with password {Password}; change it after signing in, because this line is the only place it is shown")]
    public static partial void AdministratorCreatedWithGeneratedPassword(ILogger logger, string userName, string password);

    [LoggerMessage(EventId = 3151, Level = LogLevel.Information, Message = "Created administrator '{UserName}' with the configured password")]
    public static partial void AdministratorCreated(ILogger logger, string userName);

    [LoggerMessage(EventId = 3152, Level = LogLevel.Information, Message = "Administrator '{UserName}' was created by another instance at the same time; nothing to do")]
    public static partial void AdministratorCreatedElsewhere(ILogger logger, string userName);
}

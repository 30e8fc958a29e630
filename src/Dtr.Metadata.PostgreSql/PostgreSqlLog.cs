using Dtr.Digests;
using Dtr.Identity;
using Microsoft.Extensions.Logging;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Log messages of the PostgreSQL metadata store, event ids 2200 to 2299.</summary>
internal static partial class PostgreSqlLog
{
    [LoggerMessage(EventId = 2200, Level = LogLevel.Information, Message = "Applied metadata schema migration {Version} to PostgreSQL schema {Schema}.")]
    public static partial void MigrationApplied(ILogger logger, int version, string schema);

    [LoggerMessage(EventId = 2201, Level = LogLevel.Debug, Message = "The metadata schema {Schema} is up to date at version {Version}.")]
    public static partial void SchemaUpToDate(ILogger logger, string schema, int version);

    [LoggerMessage(EventId = 2203, Level = LogLevel.Debug, Message = "Manifest {Digest} was not stored in {Repository}: {MissingBlobCount} blobs and {MissingManifestCount} child manifests are missing from the repository.")]
    public static partial void ManifestMissingReferences(ILogger logger, string repository, Digest digest, int missingBlobCount, int missingManifestCount);

    [LoggerMessage(EventId = 2204, Level = LogLevel.Debug, Message = "Stored manifest {Digest} in {Repository}.")]
    public static partial void ManifestStored(ILogger logger, string repository, Digest digest);

    [LoggerMessage(EventId = 2205, Level = LogLevel.Debug, Message = "Pointed tag {Tag} of {Repository} at manifest {Digest}.")]
    public static partial void TagSet(ILogger logger, string repository, string tag, Digest digest);

    [LoggerMessage(EventId = 2206, Level = LogLevel.Debug, Message = "Deleted manifest {Digest} from {Repository}, with {TagCount} tags that pointed to it.")]
    public static partial void ManifestDeleted(ILogger logger, string repository, Digest digest, int tagCount);

    [LoggerMessage(EventId = 2207, Level = LogLevel.Information, Message = "Created user {UserName} (administrator: {IsAdmin}).")]
    public static partial void UserCreated(ILogger logger, string userName, bool isAdmin);

    [LoggerMessage(EventId = 2208, Level = LogLevel.Information, Message = "Deleted user {UserName} with their memberships, ownerships and access tokens.")]
    public static partial void UserDeleted(ILogger logger, string userName);

    [LoggerMessage(EventId = 2209, Level = LogLevel.Information, Message = "Created organization {Organization}.")]
    public static partial void OrganizationCreated(ILogger logger, string organization);

    [LoggerMessage(EventId = 2210, Level = LogLevel.Information, Message = "Deleted organization {Organization} with its teams.")]
    public static partial void OrganizationDeleted(ILogger logger, string organization);

    [LoggerMessage(EventId = 2211, Level = LogLevel.Information, Message = "Created access token {TokenId} for user {UserName}.")]
    public static partial void AccessTokenCreated(ILogger logger, string tokenId, string userName);

    [LoggerMessage(EventId = 2212, Level = LogLevel.Information, Message = "Revoked access token {TokenId} of user {UserName}.")]
    public static partial void AccessTokenDeleted(ILogger logger, string tokenId, string userName);

    [LoggerMessage(EventId = 2213, Level = LogLevel.Information, Message = "Created repository {Repository} with visibility {Visibility}.")]
    public static partial void RepositoryCreated(ILogger logger, string repository, string visibility);

    [LoggerMessage(EventId = 2214, Level = LogLevel.Information, Message = "Deleted repository {Repository} with its tags, manifests, blob links, upload sessions and grants.")]
    public static partial void RepositoryDeleted(ILogger logger, string repository);

    [LoggerMessage(EventId = 2215, Level = LogLevel.Information, Message = "Granted team {Organization}/{Team} {Level} access to {Repository}.")]
    public static partial void TeamAccessSet(ILogger logger, string repository, string organization, string team, AccessLevel level);

    [LoggerMessage(EventId = 2216, Level = LogLevel.Debug, Message = "Manifest {Digest} was not stored in {Repository}: the repository's tags are immutable and {TagCount} requested tags already point to other manifests, first {Tag}.")]
    public static partial void ManifestRejectedImmutableTags(ILogger logger, string repository, Digest digest, int tagCount, string tag);

    [LoggerMessage(EventId = 2217, Level = LogLevel.Debug, Message = "Garbage collection deleted {DeletedCount} of {RequestedCount} requested manifests from {Repository}.")]
    public static partial void UnreferencedManifestsDeleted(ILogger logger, string repository, int deletedCount, int requestedCount);

    [LoggerMessage(EventId = 2218, Level = LogLevel.Debug, Message = "Garbage collection deleted {DeletedCount} of {RequestedCount} requested blob links from {Repository}.")]
    public static partial void UnusedBlobLinksDeleted(ILogger logger, string repository, int deletedCount, int requestedCount);

    [LoggerMessage(EventId = 2219, Level = LogLevel.Debug, Message = "Garbage collection run {RunId} marked {MarkedCount} of {RequestedCount} requested blobs for deletion.")]
    public static partial void BlobDeletionBegun(ILogger logger, string runId, int markedCount, int requestedCount);
}

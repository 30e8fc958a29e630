using Dtr.Digests;
using Dtr.Identity;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.Sqlite;

/// <summary>Log messages of the SQLite metadata store, event ids 2100 to 2199.</summary>
internal static partial class SqliteLog
{
    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "Applied metadata schema migration {Version} to {DataSource}.")]
    public static partial void MigrationApplied(ILogger logger, int version, string dataSource);

    [LoggerMessage(EventId = 2101, Level = LogLevel.Debug, Message = "The metadata schema of {DataSource} is up to date at version {Version}.")]
    public static partial void SchemaUpToDate(ILogger logger, string dataSource, int version);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Warning, Message = "The database {DataSource} did not switch to WAL mode and uses journal mode '{JournalMode}'; concurrent readers will wait for writers.")]
    public static partial void WalUnavailable(ILogger logger, string dataSource, string journalMode);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Debug, Message = "Manifest {Digest} was not stored in {Repository}: {MissingBlobCount} blobs and {MissingManifestCount} child manifests are missing from the repository.")]
    public static partial void ManifestMissingReferences(ILogger logger, string repository, Digest digest, int missingBlobCount, int missingManifestCount);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Debug, Message = "Stored manifest {Digest} in {Repository}.")]
    public static partial void ManifestStored(ILogger logger, string repository, Digest digest);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Debug, Message = "Pointed tag {Tag} of {Repository} at manifest {Digest}.")]
    public static partial void TagSet(ILogger logger, string repository, string tag, Digest digest);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Debug, Message = "Deleted manifest {Digest} from {Repository}, with {TagCount} tags that pointed to it.")]
    public static partial void ManifestDeleted(ILogger logger, string repository, Digest digest, int tagCount);

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Created user {UserName} (administrator: {IsAdmin}).")]
    public static partial void UserCreated(ILogger logger, string userName, bool isAdmin);

    [LoggerMessage(EventId = 2108, Level = LogLevel.Information, Message = "Deleted user {UserName} with their memberships, ownerships and access tokens.")]
    public static partial void UserDeleted(ILogger logger, string userName);

    [LoggerMessage(EventId = 2109, Level = LogLevel.Information, Message = "Created organization {Organization}.")]
    public static partial void OrganizationCreated(ILogger logger, string organization);

    [LoggerMessage(EventId = 2110, Level = LogLevel.Information, Message = "Deleted organization {Organization} with its teams.")]
    public static partial void OrganizationDeleted(ILogger logger, string organization);

    [LoggerMessage(EventId = 2111, Level = LogLevel.Information, Message = "Created access token {TokenId} for user {UserName}.")]
    public static partial void AccessTokenCreated(ILogger logger, string tokenId, string userName);

    [LoggerMessage(EventId = 2112, Level = LogLevel.Information, Message = "Revoked access token {TokenId} of user {UserName}.")]
    public static partial void AccessTokenDeleted(ILogger logger, string tokenId, string userName);

    [LoggerMessage(EventId = 2113, Level = LogLevel.Information, Message = "Created repository {Repository} with visibility {Visibility}.")]
    public static partial void RepositoryCreated(ILogger logger, string repository, string visibility);

    [LoggerMessage(EventId = 2114, Level = LogLevel.Information, Message = "Deleted repository {Repository} with its tags, manifests, blob links, upload sessions and grants.")]
    public static partial void RepositoryDeleted(ILogger logger, string repository);

    [LoggerMessage(EventId = 2115, Level = LogLevel.Information, Message = "Granted team {Organization}/{Team} {Level} access to {Repository}.")]
    public static partial void TeamAccessSet(ILogger logger, string repository, string organization, string team, AccessLevel level);

    [LoggerMessage(EventId = 2116, Level = LogLevel.Debug, Message = "Manifest {Digest} was not stored in {Repository}: the repository's tags are immutable and {TagCount} requested tags already point to other manifests, first {Tag}.")]
    public static partial void ManifestRejectedImmutableTags(ILogger logger, string repository, Digest digest, int tagCount, string tag);

    [LoggerMessage(EventId = 2117, Level = LogLevel.Information, Message = "Changed the mode of {Path} from {OldMode} to {NewMode} (octal), so other users cannot read it.")]
    public static partial void FileModeRestricted(ILogger logger, string path, string oldMode, string newMode);

    [LoggerMessage(EventId = 2118, Level = LogLevel.Warning, Message = "{Path} has mode {Mode} (octal), which lets other users read it, and changing the mode failed; run chmod o-rwx on it.")]
    public static partial void FileModeNotRestricted(ILogger logger, Exception exception, string path, string mode);

    [LoggerMessage(EventId = 2119, Level = LogLevel.Debug, Message = "Did not link blob {Digest} into {Repository}: a garbage collection run is deleting its bytes.")]
    public static partial void BlobLinkRejected(ILogger logger, string repository, Digest digest);

    [LoggerMessage(EventId = 2120, Level = LogLevel.Debug, Message = "Garbage collection deleted {DeletedCount} of {RequestedCount} manifests from {Repository}; the others are tagged, referenced, new or gone.")]
    public static partial void UnreferencedManifestsDeleted(ILogger logger, string repository, int deletedCount, int requestedCount);

    [LoggerMessage(EventId = 2121, Level = LogLevel.Debug, Message = "Garbage collection deleted {DeletedCount} of {RequestedCount} blob links from {Repository}; the others are referenced, new, recently used or gone.")]
    public static partial void UnusedBlobLinksDeleted(ILogger logger, string repository, int deletedCount, int requestedCount);

    [LoggerMessage(EventId = 2122, Level = LogLevel.Debug, Message = "Garbage collection run {RunId} marked {MarkedCount} of {RequestedCount} blobs for deletion.")]
    public static partial void BlobsMarkedForDeletion(ILogger logger, string runId, int markedCount, int requestedCount);

    [LoggerMessage(EventId = 2123, Level = LogLevel.Debug, Message = "Ended the deletion of {Count} blobs (bytes deleted: {Deleted}).")]
    public static partial void BlobDeletionEnded(ILogger logger, int count, bool deleted);

    [LoggerMessage(EventId = 2124, Level = LogLevel.Information, Message = "Marked {Count} garbage collection runs that were still recorded as running as interrupted; run {RunId} holds the collection lease now.")]
    public static partial void RunsMarkedInterrupted(ILogger logger, int count, string runId);

    [LoggerMessage(EventId = 2125, Level = LogLevel.Debug, Message = "Deleted {Count} garbage collection run records that ended before {EndedBefore}.")]
    public static partial void RunsDeleted(ILogger logger, int count, DateTimeOffset endedBefore);
}

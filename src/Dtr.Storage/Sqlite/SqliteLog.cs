using Dtr.Digests;
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
}

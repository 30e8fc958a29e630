using System.Globalization;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;

namespace Dtr.Metadata.PostgreSql;

/// <summary>
/// Stores registry metadata, users, organizations, teams, tokens and repository settings in a PostgreSQL database.
/// </summary>
/// <remarks>
/// Each method takes a pooled connection from one <see cref="NpgsqlDataSource"/> and runs one transaction. Reads
/// run at REPEATABLE READ, so the statements of one read see one snapshot. Writes run at READ COMMITTED and first
/// take a transaction-level advisory lock that every writer of the schema shares, on every host. Writers therefore
/// run one at a time, as in the SQLite store, and each check-then-insert (a free user name, a missing repository
/// row, a tag that is immutable) reads every write committed before it. The unique constraints stay as a second
/// guard. Upload lease updates are single-row statements and skip the advisory lock.
/// NOTE: serializing writers limits writes to one transaction at a time per schema; reads never wait for them.
/// Every transaction runs through the resilience pipeline of <see cref="PostgreSqlMetadataOptions.Resilience"/>: a
/// transient fault (see <see cref="IsTransient"/>) re-runs the whole transaction on a new connection, except when
/// the COMMIT itself failed without a rollback error, because the server may have committed the transaction.
/// </remarks>
internal sealed partial class PostgreSqlMetadataStore : IMetadataStore, Dtr.Storage.IStorageDescription, IAsyncDisposable, IDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _schema;
    private readonly long _writeLockKey;
    private readonly IReadOnlyList<string> _migrations;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<PostgreSqlMetadataStore> _logger;
    private readonly ResiliencePipeline _pipeline;

    public PostgreSqlMetadataStore(IOptions<PostgreSqlMetadataOptions> options, TimeProvider timeProvider, ILogger<PostgreSqlMetadataStore> logger)
        : this(options, timeProvider, logger, PostgreSqlMigrations.Scripts)
    {
    }

    /// <summary>Creates a store with a custom migration list, so tests can check how upgrades are applied.</summary>
    internal PostgreSqlMetadataStore(IOptions<PostgreSqlMetadataOptions> options, TimeProvider timeProvider, ILogger<PostgreSqlMetadataStore> logger, IReadOnlyList<string> migrations)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        if (string.IsNullOrWhiteSpace(value.ConnectionString))
        {
            throw new InvalidOperationException(
                "PostgreSqlMetadataOptions.ConnectionString is not set. Set it to an Npgsql connection string, such as 'Host=db;Database=registry;Username=dtr'.");
        }

        _schema = value.Schema;
        _writeLockKey = WriteLockKeyFor(_schema);
        var builder = new NpgsqlDataSourceBuilder(value.ConnectionString);

        // Unqualified table names in every statement resolve to the configured schema.
        builder.ConnectionStringBuilder.SearchPath = QuoteIdentifier(_schema);

        // The store sends the same few statements over and over, so let Npgsql prepare them once per physical
        // connection unless the connection string chose its own setting.
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }
        _dataSource = builder.Build();
        _migrations = migrations;
        _timeProvider = timeProvider;
        _logger = logger;

        // Retry delays run on the system clock. The injected TimeProvider only stamps rows, and a test's fake clock
        // would never let a delay end.
        _pipeline = StorageResiliencePipeline.Create("postgresql", value.Resilience, ShouldRetry, logger);
    }

    /// <summary>The schema that contains the store's tables.</summary>
    public string Schema => _schema;

    /// <inheritdoc />
    public string StorageKind => "postgresql";

    /// <inheritdoc />
    /// <remarks>Only the host, port and database are read from the connection string, never the credentials.</remarks>
    public string StorageLocation
    {
        get
        {
            var settings = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
            return $"database {settings.Database} on {settings.Host}:{settings.Port}, schema {_schema}";
        }
    }

    /// <summary>Closes the pooled connections.</summary>
    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    /// <summary>Closes the pooled connections; a service provider that is disposed synchronously calls this.</summary>
    public void Dispose() => _dataSource.Dispose();

    /// <inheritdoc />
    /// <remarks>
    /// Each pending migration runs in its own transaction under an advisory lock, so hosts that start at once
    /// apply each migration exactly once: a host that waited reads the version that the first one wrote.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The schema has a newer version than this package supports.</exception>
    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        // A re-run after a transient fault reads the version again and skips the steps that committed.
        // NOTE: the attempt timeout covers all pending steps together; a slow migration needs a larger AttemptTimeout.
        try
        {
            await RunAsync(async attemptToken =>
            {
                await MigrateOnceAsync(attemptToken).ConfigureAwait(false);
                return true;
            }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is NpgsqlException or ExecutionRejectedException && !cancellationToken.IsCancellationRequested)
        {
            // Migration is the store's first contact with the server, so a failure here is usually a wrong setting.
            throw new InvalidOperationException(
                $"The PostgreSQL metadata store could not prepare schema '{_schema}': {error.Message} Check PostgreSqlMetadataOptions.ConnectionString (host, port, database, user and password) and that the server is running.",
                error);
        }
    }

    private async Task MigrateOnceAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var quotedSchema = QuoteIdentifier(_schema);
        for (var version = 1; version <= _migrations.Count; version++)
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
            await using (var command = CreateCommand(connection, transaction, "SELECT pg_advisory_xact_lock(@key);"))
            {
                command.Parameters.AddWithValue("@key", MigrationLockKey);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            // Creating the schema and the version table under the lock keeps two hosts from racing on them.
            await ExecuteNonQueryAsync(connection, transaction, $"""
                CREATE SCHEMA IF NOT EXISTS {quotedSchema};
                CREATE TABLE IF NOT EXISTS {quotedSchema}.schema_version (version integer NOT NULL);
                INSERT INTO {quotedSchema}.schema_version (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {quotedSchema}.schema_version);
                """, cancellationToken).ConfigureAwait(false);
            var current = Convert.ToInt32(
                await ExecuteScalarAsync(connection, transaction, $"SELECT version FROM {quotedSchema}.schema_version;", cancellationToken).ConfigureAwait(false),
                CultureInfo.InvariantCulture);
            if (current > _migrations.Count)
            {
                throw new InvalidOperationException(
                    $"The metadata schema '{_schema}' has version {current}, but this version of Dtr.Metadata.PostgreSql knows only " +
                    $"versions up to {_migrations.Count}. Upgrade Dtr.Metadata.PostgreSql, or set PostgreSqlMetadataOptions.Schema to another schema.");
            }

            if (current >= version)
            {
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            await ExecuteNonQueryAsync(connection, transaction, $"SET LOCAL search_path TO {quotedSchema};", cancellationToken).ConfigureAwait(false);
            await ExecuteNonQueryAsync(connection, transaction, _migrations[version - 1], cancellationToken).ConfigureAwait(false);
            await using (var command = CreateCommand(connection, transaction, $"UPDATE {quotedSchema}.schema_version SET version = @version;"))
            {
                command.Parameters.AddWithValue("@version", version);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            PostgreSqlLog.MigrationApplied(_logger, version, _schema);
        }

        PostgreSqlLog.SchemaUpToDate(_logger, _schema, _migrations.Count);
    }

    /// <inheritdoc />
    public ValueTask<bool> RepositoryExistsAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
            await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false) is not null,
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ListRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            // Two query texts rather than "@last IS NULL OR name > @last", so PostgreSQL can seek the name index.
            var sql = last is null
                ? $"SELECT r.name FROM repositories r WHERE {RepositoryHasContent} ORDER BY r.name LIMIT @limit;"
                : $"SELECT r.name FROM repositories r WHERE r.name > @last AND {RepositoryHasContent} ORDER BY r.name LIMIT @limit;";
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("@last", last);
            }

            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The use is recorded in the <c>blobs</c> table in the same write transaction. A garbage collection run that marks
    /// blobs for deletion therefore either finds the recorded use and keeps the blob, or marks it first, and then the
    /// link fails.
    /// </remarks>
    public async ValueTask LinkBlobAsync(RepositoryName repository, Digest digest, long size, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            if (!await TryRecordBlobUseAsync(connection, transaction, digest, Now(), cancellationToken).ConfigureAwait(false))
            {
                throw new BlobDeletionPendingException(digest);
            }

            var repositoryId = await GetOrCreateRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO blob_links (repository_id, digest, size, created_at)
                VALUES (@repository_id, @digest, @size, @now)
                ON CONFLICT (repository_id, digest) DO NOTHING;
                """);
            command.Parameters.AddWithValue("@repository_id", repositoryId);
            command.Parameters.AddWithValue("@digest", digest.Value);
            command.Parameters.AddWithValue("@size", size);
            command.Parameters.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<long?> GetBlobLinkAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT b.size FROM blob_links AS b
                JOIN repositories AS r ON r.id = b.repository_id
                WHERE r.name = @repository AND b.digest = @digest;
                """);
            command.Parameters.AddWithValue("@repository", repository.Value);
            command.Parameters.AddWithValue("@digest", digest.Value);
            var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            return result is null ? (long?)null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> UnlinkBlobAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                DELETE FROM blob_links
                WHERE repository_id = (SELECT id FROM repositories WHERE name = @repository) AND digest = @digest;
                """);
            command.Parameters.AddWithValue("@repository", repository.Value);
            command.Parameters.AddWithValue("@digest", digest.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }
}

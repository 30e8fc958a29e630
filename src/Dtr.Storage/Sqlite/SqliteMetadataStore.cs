using System.Globalization;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Resilience;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Dtr.Storage.Sqlite;

/// <summary>
/// Stores registry metadata in one SQLite database file in WAL mode, so reads go on while a write is in progress.
/// </summary>
/// <remarks>
/// Each method opens a pooled connection and runs one transaction. Methods that write start with
/// <c>BEGIN IMMEDIATE</c>, which takes the write lock up front: a deferred transaction that reads first and then
/// writes can fail with <c>SQLITE_BUSY</c> when another writer got in between, and waiting does not help it.
/// Writers queue for up to <see cref="SqliteMetadataOptions.BusyTimeout"/>. A transaction that still finds the
/// database busy or locked then runs again from its start, as <see cref="SqliteMetadataOptions.Resilience"/> sets.
/// NOTE: Microsoft.Data.Sqlite has no asynchronous I/O, so the async methods block a thread pool thread while they
/// wait for the lock or the disk.
/// </remarks>
internal sealed partial class SqliteMetadataStore : IMetadataStore, IStorageDescription
{
    private readonly string _connectionString;
    private readonly string _dataSource;
    private readonly bool _isFileDatabase;
    private readonly bool _createsFile;
    private readonly int _busyTimeoutMilliseconds;
    private readonly IReadOnlyList<string> _migrations;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<SqliteMetadataStore> _logger;
    private readonly ResiliencePipeline _pipeline;

    public SqliteMetadataStore(IOptions<SqliteMetadataOptions> options, TimeProvider timeProvider, ILogger<SqliteMetadataStore> logger)
        : this(options, timeProvider, logger, SqliteMigrations.Scripts)
    {
    }

    /// <summary>Creates a store with a custom migration list, so tests can check how upgrades are applied.</summary>
    internal SqliteMetadataStore(IOptions<SqliteMetadataOptions> options, TimeProvider timeProvider, ILogger<SqliteMetadataStore> logger, IReadOnlyList<string> migrations)
    {
        ArgumentNullException.ThrowIfNull(options);
        var value = options.Value;
        var builder = CreateConnectionStringBuilder(value);
        _connectionString = builder.ToString();
        _dataSource = builder.DataSource;
        _isFileDatabase = NamesFile(builder);
        _createsFile = builder.Mode == SqliteOpenMode.ReadWriteCreate;
        _busyTimeoutMilliseconds = (int)Math.Ceiling(value.BusyTimeout.TotalMilliseconds);
        _migrations = migrations;
        _timeProvider = timeProvider;
        _logger = logger;

        // Retry delays run on the system clock. The injected TimeProvider only stamps rows, and a test's fake clock
        // would never let a delay end.
        _pipeline = StorageResiliencePipeline.Create("sqlite", value.Resilience, IsTransient, logger);
    }

    /// <summary>The database file.</summary>
    public string DataSource => _dataSource;

    /// <summary>The connection string every operation opens, with pooling and foreign keys turned on.</summary>
    public string ConnectionString => _connectionString;

    /// <inheritdoc />
    public string StorageKind => "sqlite";

    /// <inheritdoc />
    public string StorageLocation => _dataSource;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The database has a newer schema than this version supports.</exception>
    public async ValueTask MigrateAsync(CancellationToken cancellationToken = default)
    {
        // A re-run after a busy database reads the version again and skips the steps that committed.
        await RunAsync(async attemptToken =>
        {
            await MigrateOnceAsync(attemptToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    private async Task MigrateOnceAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(_dataSource));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        RestrictDatabaseFileMode();

        await using var connection = await OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

        // The journal mode is stored in the database file, so setting it once here covers every later connection.
        // It cannot change inside a transaction.
        var journalMode = Convert.ToString(await ExecuteScalarAsync(connection, null, "PRAGMA journal_mode = WAL;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
        {
            SqliteLog.WalUnavailable(_logger, _dataSource, journalMode ?? "unknown");
        }

        for (var version = 1; version <= _migrations.Count; version++)
        {
            // One immediate transaction per step: two hosts migrating at once queue here, and the second reads
            // the version the first wrote.
            await using var transaction = connection.BeginTransaction(deferred: false);
            var current = await GetSchemaVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            if (current > _migrations.Count)
            {
                throw new InvalidOperationException(
                    $"The metadata database '{_dataSource}' has schema version {current}, but this version of Dtr.Storage knows only " +
                    $"versions up to {_migrations.Count}. Upgrade Dtr.Storage, or point SqliteMetadataOptions.DatabasePath at another file.");
            }

            if (current >= version)
            {
                continue;
            }

            await ExecuteNonQueryAsync(connection, transaction, _migrations[version - 1], cancellationToken).ConfigureAwait(false);

            // PRAGMA takes no parameters; the version is an int, so formatting it into the text is safe.
            await ExecuteNonQueryAsync(connection, transaction, $"PRAGMA user_version = {version.ToString(CultureInfo.InvariantCulture)};", cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            SqliteLog.MigrationApplied(_logger, version, _dataSource);
        }

        SqliteLog.SchemaUpToDate(_logger, _dataSource, _migrations.Count);
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
            // Two query texts rather than "$last IS NULL OR name > $last", so SQLite can seek the name index.
            var sql = last is null
                ? $"SELECT r.name FROM repositories r WHERE {RepositoryHasContent} ORDER BY r.name LIMIT $limit;"
                : $"SELECT r.name FROM repositories r WHERE r.name > $last AND {RepositoryHasContent} ORDER BY r.name LIMIT $limit;";
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The use is recorded and the deletion mark checked in the same immediate transaction as the link, so a garbage
    /// collection run that marks the blob either finds the link in place or makes this call throw.
    /// </remarks>
    public async ValueTask LinkBlobAsync(RepositoryName repository, Digest digest, long size, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            if (!await TryRecordBlobUseAsync(connection, transaction, digest, Now(), cancellationToken).ConfigureAwait(false))
            {
                SqliteLog.BlobLinkRejected(_logger, repository.Value, digest);
                throw new BlobDeletionPendingException(digest);
            }

            var repositoryId = await GetOrCreateRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO blob_links (repository_id, digest, size, created_at)
                VALUES ($repository_id, $digest, $size, $now)
                ON CONFLICT (repository_id, digest) DO NOTHING;
                """);
            command.Parameters.AddWithValue("$repository_id", repositoryId);
            command.Parameters.AddWithValue("$digest", digest.Value);
            command.Parameters.AddWithValue("$size", size);
            command.Parameters.AddWithValue("$now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<long?> GetBlobLinkAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT b.size FROM blob_links AS b
                JOIN repositories AS r ON r.id = b.repository_id
                WHERE r.name = $repository AND b.digest = $digest;
                """);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$digest", digest.Value);
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
                WHERE repository_id = (SELECT id FROM repositories WHERE name = $repository) AND digest = $digest;
                """);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$digest", digest.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    private static SqliteConnectionStringBuilder CreateConnectionStringBuilder(SqliteMetadataOptions options)
    {
        SqliteConnectionStringBuilder builder;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            builder = new SqliteConnectionStringBuilder(options.ConnectionString);
        }
        else if (!string.IsNullOrWhiteSpace(options.DatabasePath))
        {
            builder = new SqliteConnectionStringBuilder
            {
                DataSource = Path.GetFullPath(options.DatabasePath),
                Mode = SqliteOpenMode.ReadWriteCreate,
            };
        }
        else
        {
            throw new InvalidOperationException(
                "SqliteMetadataOptions.DatabasePath is not set. Set it to the database file, or set SqliteMetadataOptions.ConnectionString.");
        }

        builder.Pooling = true;
        builder.ForeignKeys = true;

        // Microsoft.Data.Sqlite retries a busy statement until the command timeout, in whole seconds, runs out.
        builder.DefaultTimeout = Math.Max(1, (int)Math.Ceiling(options.BusyTimeout.TotalSeconds));
        return builder;
    }
}

using Dtr.Metadata;
using Dtr.Names;
using Dtr.Resilience;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteMetadataStoreTests : MetadataStoreContractTests
{
    private readonly TempDirectory _folder = new();
    private readonly List<SqliteMetadataStore> _stores = [];

    private string DatabasePath => Path.Combine(_folder.Path, "db", "metadata.db");

    protected override Task<IMetadataStore> CreateStoreAsync() => Task.FromResult<IMetadataStore>(CreateSqliteStore());

    protected override Task DisposeStoreAsync()
    {
        foreach (var store in _stores)
        {
            using var connection = new SqliteConnection(store.ConnectionString);
            SqliteConnection.ClearPool(connection);
        }

        _folder.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Migrate_ExistingFileKeepsData()
    {
        var repository = RepositoryName.Parse("kept/repo");
        await Store.LinkBlobAsync(repository, BlobDigest("kept"), 3);

        var reopened = CreateSqliteStore();
        await reopened.MigrateAsync();
        await reopened.MigrateAsync();

        Assert.Equal(3, await reopened.GetBlobLinkAsync(repository, BlobDigest("kept")));
        Assert.Equal(SqliteMigrations.Scripts.Count, await QueryIntAsync("PRAGMA user_version;"));
    }

    [Fact]
    public async Task Migrate_SetsWalMode()
    {
        Assert.Equal("wal", await QueryStringAsync("PRAGMA journal_mode;"));
    }

    [Fact]
    public async Task Migrate_NewFileIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // The base class migrated the store at DatabasePath; a write makes SQLite create the -wal and -shm files.
        await Store.LinkBlobAsync(RepositoryName.Parse("mode/repo"), BlobDigest("mode"), 4);

        foreach (var path in new[] { DatabasePath, DatabasePath + "-wal", DatabasePath + "-shm" })
        {
            Assert.True(File.Exists(path), $"{path} does not exist.");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public async Task Migrate_ExistingFileLosesOtherAccess()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var path = Path.Combine(_folder.Path, "readable.db");
        await CreateSqliteStore(path).MigrateAsync();
        var readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(path, readable);

        await CreateSqliteStore(path).MigrateAsync();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(path));
    }

    [Fact]
    public async Task Migrate_AppliesOnlyNewScripts()
    {
        var path = Path.Combine(_folder.Path, "upgrade.db");
        string[] version1 = ["CREATE TABLE counter (n INTEGER NOT NULL);"];
        string[] version2 = [.. version1, "INSERT INTO counter (n) VALUES (1);"];

        await CreateSqliteStore(path, version1).MigrateAsync();
        await CreateSqliteStore(path, version2).MigrateAsync();
        await CreateSqliteStore(path, version2).MigrateAsync();

        Assert.Equal(1, await QueryIntAsync("SELECT COUNT(*) FROM counter;", path));
        Assert.Equal(2, await QueryIntAsync("PRAGMA user_version;", path));
    }

    [Fact]
    public async Task Migrate_FailedScriptRollsBack()
    {
        var path = Path.Combine(_folder.Path, "broken.db");
        string[] migrations = ["CREATE TABLE first (n INTEGER);", "CREATE TABLE second (n INTEGER); THIS IS NOT SQL;"];

        await Assert.ThrowsAsync<SqliteException>(async () => await CreateSqliteStore(path, migrations).MigrateAsync());

        Assert.Equal(1, await QueryIntAsync("PRAGMA user_version;", path));
        Assert.Equal(0, await QueryIntAsync("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'second';", path));
    }

    [Fact]
    public async Task Migrate_NewerSchemaThrows()
    {
        await ExecuteAsync("PRAGMA user_version = 99;");

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(async () => await CreateSqliteStore().MigrateAsync());

        Assert.Contains("schema version 99", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Upload_DuplicateIdThrows()
    {
        var session = new UploadSession("dup", RepositoryName.Parse("a/b"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);
        await Store.CreateUploadAsync(session);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.CreateUploadAsync(session));
    }

    [Theory]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("has space")]
    public async Task Upload_InvalidIdRejected(string uploadId)
    {
        var session = new UploadSession(uploadId, RepositoryName.Parse("a/b"), DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.CreateUploadAsync(session));

        Assert.False(await Store.RepositoryExistsAsync(RepositoryName.Parse("a/b")));
    }

    [Fact]
    public async Task Timestamps_UseTimeProvider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
        var store = CreateSqliteStore(timeProvider: time);
        await store.LinkBlobAsync(RepositoryName.Parse("timed/repo"), BlobDigest("timed"), 1);

        var createdAt = await QueryIntAsync("SELECT created_at FROM repositories WHERE name = 'timed/repo';");

        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds(), createdAt);
    }

    [Fact]
    public async Task ForeignKeys_AreOn()
    {
        await using var connection = new SqliteConnection(((SqliteMetadataStore)Store).ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA foreign_keys;";

        Assert.Equal(1L, await command.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData(5, 5, true)]
    [InlineData(5, 517, true)]
    [InlineData(6, 6, true)]
    [InlineData(6, 262, true)]
    [InlineData(1, 1, false)]
    [InlineData(8, 8, false)]
    [InlineData(11, 11, false)]
    [InlineData(19, 2067, false)]
    public void IsTransient_SqliteErrorCodes(int errorCode, int extendedErrorCode, bool expected)
    {
        var error = new SqliteException("test error", errorCode, extendedErrorCode);

        Assert.Equal(expected, SqliteMetadataStore.IsTransient(error));
    }

    [Fact]
    public void IsTransient_OtherExceptionsAreNot()
    {
        Assert.False(SqliteMetadataStore.IsTransient(new InvalidOperationException("busy")));
        Assert.False(SqliteMetadataStore.IsTransient(new TimeoutException()));
    }

    [Fact]
    public async Task Retry_BusyDatabaseWriteSucceeds()
    {
        var logger = new RecordingLogger<SqliteMetadataStore>();
        var store = CreateSqliteStore(busyTimeout: TimeSpan.Zero, resilience: FastRetries(), logger: logger);
        var repository = RepositoryName.Parse("busy/repo");
        await using var blocker = await BeginWriteOnOtherConnectionAsync();

        var write = Task.Run(async () => await store.LinkBlobAsync(repository, BlobDigest("busy"), 7));
        await logger.WaitForEventAsync(RetryScheduledEventId, TimeSpan.FromSeconds(30));
        Assert.False(write.IsCompleted);
        await blocker.CommitAsync();
        await write;

        Assert.Equal(7, await store.GetBlobLinkAsync(repository, BlobDigest("busy")));
        Assert.Contains(logger.Records, record => record.EventId.Id == RetryScheduledEventId && record.Message.Contains("sqlite", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retry_DisabledBusyWriteThrows()
    {
        var store = CreateSqliteStore(busyTimeout: TimeSpan.Zero, resilience: new StorageResilienceOptions { Enabled = false });
        await using var blocker = await BeginWriteOnOtherConnectionAsync();

        var error = await Assert.ThrowsAsync<SqliteException>(async () => await store.LinkBlobAsync(RepositoryName.Parse("busy/repo"), BlobDigest("busy"), 7));

        Assert.Equal(5, error.SqliteErrorCode);
    }

    // The event id of StorageResiliencePipeline's retry warning.
    private const int RetryScheduledEventId = 1000;

    private static StorageResilienceOptions FastRetries() => new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
        MaxRetryAttempts = 10,
    };

    /// <summary>Opens a connection that holds the database's write lock until it commits or is disposed.</summary>
    private async Task<WriteLockHolder> BeginWriteOnOtherConnectionAsync()
    {
        var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        var transaction = connection.BeginTransaction(deferred: false);
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "INSERT INTO repositories (name, created_at) VALUES ('blocker/repo', 0);";
        await command.ExecuteNonQueryAsync();
        return new WriteLockHolder(connection, transaction);
    }

    private sealed class WriteLockHolder(SqliteConnection connection, SqliteTransaction transaction) : IAsyncDisposable
    {
        public Task CommitAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }

    private SqliteMetadataStore CreateSqliteStore(
        string? path = null,
        IReadOnlyList<string>? migrations = null,
        TimeProvider? timeProvider = null,
        TimeSpan? busyTimeout = null,
        StorageResilienceOptions? resilience = null,
        ILogger<SqliteMetadataStore>? logger = null)
    {
        var options = Options.Create(new SqliteMetadataOptions
        {
            DatabasePath = path ?? DatabasePath,
            BusyTimeout = busyTimeout ?? TimeSpan.FromSeconds(5),
            Resilience = resilience ?? new StorageResilienceOptions(),
        });
        var store = new SqliteMetadataStore(options, timeProvider ?? TimeProvider.System, logger ?? NullLogger<SqliteMetadataStore>.Instance, migrations ?? SqliteMigrations.Scripts);
        _stores.Add(store);
        return store;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> QueryIntAsync(string sql, string? path = null) =>
        Convert.ToInt64(await QueryScalarAsync(sql, path), System.Globalization.CultureInfo.InvariantCulture);

    private async Task<string?> QueryStringAsync(string sql) => (string?)await QueryScalarAsync(sql, null);

    private async Task<object?> QueryScalarAsync(string sql, string? path)
    {
        await using var connection = new SqliteConnection($"Data Source={path ?? DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}

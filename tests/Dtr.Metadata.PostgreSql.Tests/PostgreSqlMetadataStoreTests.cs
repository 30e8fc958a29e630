using Dtr.Identity;
using Dtr.Names;
using Dtr.Resilience;
using Dtr.Storage.Tests;
using Dtr.Storage.Tests.Contracts;
using Npgsql;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlMetadataStoreTests(PostgreSqlCluster cluster) : MetadataStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<IMetadataStore> CreateStoreAsync() => await _stores.CreateAsync();

    protected override Task DisposeStoreAsync() => _stores.DisposeAsync().AsTask();

    [Fact]
    public async Task Migrate_RecordsSchemaVersion()
    {
        Assert.Equal(PostgreSqlMigrations.Scripts.Count, await QueryIntAsync("SELECT version FROM dtr.schema_version;"));
        Assert.Equal(1, await QueryIntAsync("SELECT count(*)::int FROM dtr.schema_version;"));
    }

    [Fact]
    public async Task Migrate_ManyHostsAtOnce()
    {
        var stores = new List<PostgreSqlMetadataStore>();
        for (var i = 0; i < 6; i++)
        {
            stores.Add(await _stores.CreateAsync(schema: "racing"));
        }

        await Task.WhenAll(stores.Select(store => Task.Run(async () => await store.MigrateAsync())));

        Assert.Equal(PostgreSqlMigrations.Scripts.Count, await QueryIntAsync("SELECT version FROM racing.schema_version;"));
        await stores[0].LinkBlobAsync(RepositoryName.Parse("race/app"), BlobDigest("a"), 1);
        Assert.True(await stores[^1].RepositoryExistsAsync(RepositoryName.Parse("race/app")));
    }

    [Fact]
    public async Task Migrate_AppliesOnlyNewScripts()
    {
        var first = await _stores.CreateAsync(schema: "upgraded", migrations: ["CREATE TABLE first_step (id integer);"]);
        await first.MigrateAsync();
        await ExecuteAsync("INSERT INTO upgraded.first_step VALUES (7);");

        var second = await _stores.CreateAsync(schema: "upgraded", migrations: ["CREATE TABLE first_step (id integer);", "ALTER TABLE first_step ADD COLUMN note text;"]);
        await second.MigrateAsync();

        Assert.Equal(2, await QueryIntAsync("SELECT version FROM upgraded.schema_version;"));
        Assert.Equal(7, await QueryIntAsync("SELECT id FROM upgraded.first_step WHERE note IS NULL;"));
    }

    [Fact]
    public async Task Migrate_NewerSchemaRejected()
    {
        await ExecuteAsync("UPDATE dtr.schema_version SET version = 999;");

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(async () => await Store.MigrateAsync());

        Assert.Contains("version 999", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schema_KeepsStoresApart()
    {
        var other = await _stores.CreateAsync(schema: "other_registry");
        await other.MigrateAsync();
        var repository = RepositoryName.Parse("apart/app");

        await Store.LinkBlobAsync(repository, BlobDigest("a"), 1);

        Assert.True(await Store.RepositoryExistsAsync(repository));
        Assert.False(await other.RepositoryExistsAsync(repository));
    }

    [Fact]
    public async Task Listings_OrdinalUnderIcuCollation()
    {
        // ICU's en-US collation sorts '_' before '-' and '.', while the store's listings
        // are ordinal. The "C" collation of the name columns keeps them so.
        await using var icuStores = new PostgreSqlStores(cluster, icuLocale: "en-US");
        var store = await icuStores.CreateAsync();
        await store.MigrateAsync();
        string[] names = ["a_b", "ab", "a.b", "a-b"];
        foreach (var name in names)
        {
            await store.LinkBlobAsync(RepositoryName.Parse(name + "/app"), BlobDigest(name), 1);
            await store.CreateUserAsync(new NewUser { Name = name });
        }

        string[] ordinal = ["a-b", "a.b", "a_b", "ab"];
        Assert.Equal(ordinal.Select(name => name + "/app"), await store.ListRepositoriesAsync(null, 10));
        Assert.Equal(["a_b/app", "ab/app"], await store.ListRepositoriesAsync("a.b/app", 10));
        Assert.Equal(ordinal, (await store.ListUsersAsync(null, 10)).Select(user => user.Name));
    }

    [Fact]
    public async Task Hosts_CreateSameUserOnce()
    {
        // Each store has its own connection pool, as separate registry hosts would.
        var hosts = new List<PostgreSqlMetadataStore>();
        for (var i = 0; i < 4; i++)
        {
            hosts.Add(await _stores.CreateAsync());
        }

        var attempts = hosts.SelectMany(host => Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            try
            {
                await host.CreateUserAsync(new NewUser { Name = "contested" });
                return true;
            }
            catch (IdentityConflictException)
            {
                return false;
            }
        }))).ToList();
        var outcomes = await Task.WhenAll(attempts);

        Assert.Equal(1, outcomes.Count(created => created));
        Assert.Equal(15, outcomes.Count(created => !created));
        Assert.Single(await hosts[0].ListUsersAsync(null, 10));
    }

    [Fact]
    public async Task Hosts_LinkSameRepositoryOnce()
    {
        var hosts = new List<PostgreSqlMetadataStore>();
        for (var i = 0; i < 4; i++)
        {
            hosts.Add(await _stores.CreateAsync());
        }

        var repository = RepositoryName.Parse("shared/app");
        await Task.WhenAll(hosts.SelectMany((host, h) => Enumerable.Range(0, 8).Select(b => Task.Run(async () =>
            await host.LinkBlobAsync(repository, BlobDigest($"blob {h} {b}"), b)))));

        Assert.Equal(["shared/app"], await hosts[0].ListRepositoriesAsync(null, 10));
        Assert.Equal(1, await QueryIntAsync("SELECT count(*)::int FROM dtr.repositories;"));
        Assert.Equal(32, await QueryIntAsync("SELECT count(*)::int FROM dtr.blob_links;"));
    }

    [Fact]
    public async Task Retry_TerminatedConnectionsRecover()
    {
        var logger = new RecordingLogger<PostgreSqlMetadataStore>();
        var store = await _stores.CreateAsync(resilience: FastRetries(), logger: logger);
        var repository = RepositoryName.Parse("resilient/app");
        await store.LinkBlobAsync(repository, BlobDigest("before"), 1);

        await TerminateOtherBackendsAsync();
        await store.LinkBlobAsync(repository, BlobDigest("after"), 2);
        var writeRetries = logger.Records.Count(record => record.EventId.Id == RetryScheduledEventId);

        await TerminateOtherBackendsAsync();
        var size = await store.GetBlobLinkAsync(repository, BlobDigest("after"));
        var retries = logger.Records.Where(record => record.EventId.Id == RetryScheduledEventId).ToList();

        Assert.Equal(2, size);
        Assert.True(writeRetries >= 1, "The write after the termination was not retried.");
        Assert.True(retries.Count > writeRetries, "The read after the termination was not retried.");
        Assert.All(retries, record => Assert.Contains("postgresql", record.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retry_DisabledTerminatedConnectionThrows()
    {
        var store = await _stores.CreateAsync(resilience: new StorageResilienceOptions { Enabled = false });
        var repository = RepositoryName.Parse("fragile/app");
        await store.LinkBlobAsync(repository, BlobDigest("before"), 1);

        await TerminateOtherBackendsAsync();

        var error = await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await store.LinkBlobAsync(repository, BlobDigest("after"), 2));
        Assert.True(PostgreSqlMetadataStore.IsTransient(error), $"The fault was not classified as transient: {error}");
    }

    // The event id of StorageResiliencePipeline's retry warning.
    private const int RetryScheduledEventId = 1000;

    private static StorageResilienceOptions FastRetries() => new()
    {
        BaseDelay = TimeSpan.FromMilliseconds(10),
        MaxDelay = TimeSpan.FromMilliseconds(50),
    };

    /// <summary>
    /// Ends every server process connected to this test's database, the stores' pooled connections among them, as
    /// a server restart or a network failure would, and waits until they have exited.
    /// </summary>
    private async Task TerminateOtherBackendsAsync()
    {
        // An unpooled connection, so that this one is never handed out again after being ended itself.
        var connectionString = new NpgsqlConnectionStringBuilder(_stores.ConnectionString) { Pooling = false }.ToString();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        const string OtherBackends = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";

        await using (var terminate = new NpgsqlCommand($"SELECT count(pg_terminate_backend(pid))::int {OtherBackends};", connection))
        {
            Assert.True((int)(await terminate.ExecuteScalarAsync())! > 0, "No server process was connected to terminate.");
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var count = new NpgsqlCommand($"SELECT count(*)::int {OtherBackends};", connection);
        while ((int)(await count.ExecuteScalarAsync(timeout.Token))! > 0)
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_stores.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<int> QueryIntAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_stores.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

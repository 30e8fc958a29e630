using System.Globalization;
using Dtr.Identity;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteScanStoreTests(ITestOutputHelper output) : ScanStoreContractTests(output)
{
    // The last schema version before image scanning and named leases.
    private const int VersionBeforeScanning = 4;

    private readonly TempDirectory _folder = new();
    private readonly List<SqliteMetadataStore> _stores = [];

    private string DatabasePath => Path.Combine(_folder.Path, "metadata.db");

    protected override Task<ScanStores> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = CreateSqliteStore(DatabasePath, SqliteMigrations.Scripts, timeProvider);
        return Task.FromResult(new ScanStores(store, store, store, store));
    }

    protected override Task DisposeStoresAsync()
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
    public async Task Migrate_FromVersionBeforeScanning()
    {
        var path = Path.Combine(_folder.Path, "version4.db");
        var repository = RepositoryName.Parse("alice/app");
        var before = CreateSqliteStore(path, SqliteMigrations.Scripts.Take(VersionBeforeScanning).ToList(), Time);
        await before.MigrateAsync();
        await before.CreateUserAsync(new NewUser { Name = "alice" });
        await before.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, null, true, false, DateTimeOffset.UnixEpoch));
        Assert.Equal(VersionBeforeScanning, await QueryIntAsync(path, "PRAGMA user_version;"));

        var upgraded = CreateSqliteStore(path, SqliteMigrations.Scripts, Time);
        await upgraded.MigrateAsync();

        Assert.Equal(SqliteMigrations.Scripts.Count, await QueryIntAsync(path, "PRAGMA user_version;"));
        Assert.Equal(0, (await upgraded.GetVulnerabilityDatabaseAsync()).Version);
        await upgraded.SetScanPolicyAsync(repository, new ScanPolicy(Severity.High, false, []));
        Assert.Equal(Severity.High, (await upgraded.GetScanPolicyAsync(repository))?.BlockSeverity);
        Assert.True((await upgraded.GetRepositoryAsync(repository))?.ScanOnPush);
    }

    [Fact]
    public async Task Import_LeftoverRowsPurgedByNextBegin()
    {
        await ImportAsync("osv", Entry("CVE-1", "npm", "a"), Entry("CVE-2", "npm", "b"));

        // A crash after the switch but before the batched delete leaves a discarded import with its rows.
        await ExecuteAsync(DatabasePath, "UPDATE vulnerability_imports SET state = 2;");
        await ExecuteAsync(DatabasePath, "DELETE FROM vulnerability_sources;");
        Assert.Equal(2, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_records;"));

        await Scans.BeginVulnerabilityImportAsync("other");

        Assert.Equal(0, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_records;"));
        Assert.Equal(0, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_packages;"));
        Assert.Equal(1, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_imports;"));
    }

    [Fact]
    public async Task Import_ReplacedCopyRowsDeleted()
    {
        await ImportAsync("osv", Entry("CVE-1", "npm", "a"), Entry("CVE-2", "npm", "b"));
        await ImportAsync("osv", Entry("CVE-3", "npm", "c"));

        Assert.Equal(1, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_records;"));
        Assert.Equal(1, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_packages;"));
        Assert.Equal(1, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM vulnerability_imports;"));
    }

    private SqliteMetadataStore CreateSqliteStore(string path, IReadOnlyList<string> migrations, TimeProvider timeProvider)
    {
        var options = Options.Create(new SqliteMetadataOptions { DatabasePath = path });
        var store = new SqliteMetadataStore(options, timeProvider, NullLogger<SqliteMetadataStore>.Instance, migrations);
        _stores.Add(store);
        return store;
    }

    private static async Task ExecuteAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<long> QueryIntAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

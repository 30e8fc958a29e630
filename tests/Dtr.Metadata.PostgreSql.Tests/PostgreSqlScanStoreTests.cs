using Dtr.Identity;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Storage.Tests.Contracts;
using Npgsql;
using Xunit.Abstractions;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlScanStoreTests(PostgreSqlCluster cluster, ITestOutputHelper output) : ScanStoreContractTests(output)
{
    // The last schema version before image scanning and named leases.
    private const int VersionBeforeScanning = 3;

    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<ScanStores> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = await _stores.CreateAsync(timeProvider);
        return new ScanStores(store, store, store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();

    [Fact]
    public async Task Migrate_FromVersionBeforeScanning()
    {
        var repository = RepositoryName.Parse("alice/app");
        var before = await _stores.CreateAsync(Time, schema: "upgraded", migrations: PostgreSqlMigrations.Scripts.Take(VersionBeforeScanning).ToList());
        await before.MigrateAsync();
        await before.CreateUserAsync(new NewUser { Name = "alice" });
        await before.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, null, true, false, DateTimeOffset.UnixEpoch));
        Assert.Equal(VersionBeforeScanning, await QueryLongAsync("SELECT version FROM upgraded.schema_version;"));

        var upgraded = await _stores.CreateAsync(Time, schema: "upgraded");
        await upgraded.MigrateAsync();

        Assert.Equal(PostgreSqlMigrations.Scripts.Count, await QueryLongAsync("SELECT version FROM upgraded.schema_version;"));
        Assert.Equal(0, (await upgraded.GetVulnerabilityDatabaseAsync()).Version);
        await upgraded.SetScanPolicyAsync(repository, new ScanPolicy(Severity.High, false, []));
        Assert.Equal(Severity.High, (await upgraded.GetScanPolicyAsync(repository))?.BlockSeverity);
        Assert.True((await upgraded.GetRepositoryAsync(repository))?.ScanOnPush);
    }

    [Fact]
    public async Task Import_LeftoverRowsPurgedByNextBegin()
    {
        await ImportAsync("osv", Entry("CVE-1", "npm", "a"), Entry("CVE-2", "npm", "b"));

        // A crash after the switch but before the delete leaves a discarded import with its rows.
        await ExecuteAsync("UPDATE dtr.vulnerability_imports SET state = 2; DELETE FROM dtr.vulnerability_sources;");
        Assert.Equal(2, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_records;"));

        await Scans.BeginVulnerabilityImportAsync("other");

        Assert.Equal(0, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_records;"));
        Assert.Equal(0, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_packages;"));
        Assert.Equal(1, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_imports;"));
    }

    [Fact]
    public async Task Import_ReplacedCopyRowsDeleted()
    {
        await ImportAsync("osv", Entry("CVE-1", "npm", "a"), Entry("CVE-2", "npm", "b"));
        await ImportAsync("osv", Entry("CVE-3", "npm", "c"));

        Assert.Equal(1, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_records;"));
        Assert.Equal(1, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_packages;"));
        Assert.Equal(1, await QueryLongAsync("SELECT count(*) FROM dtr.vulnerability_imports;"));
    }

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_stores.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> QueryLongAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_stores.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

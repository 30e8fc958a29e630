using System.Globalization;
using System.Text;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteIdentityStoreTests : IdentityStoreContractTests
{
    private readonly TempDirectory _folder = new();
    private readonly List<SqliteMetadataStore> _stores = [];

    private string DatabasePath => Path.Combine(_folder.Path, "metadata.db");

    protected override Task<(IIdentityStore Identity, IMetadataStore Metadata)> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = CreateSqliteStore(DatabasePath, SqliteMigrations.Scripts, timeProvider);
        return Task.FromResult<(IIdentityStore, IMetadataStore)>((store, store));
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
    public async Task Migrate_Version1FileKeepsContent()
    {
        var path = Path.Combine(_folder.Path, "version1.db");
        var version1 = CreateSqliteStore(path, SqliteMigrations.Scripts.Take(1).ToList(), Time);
        await version1.MigrateAsync();
        var repository = RepositoryName.Parse("alice/app");
        var config = await LinkBlobAsync(path, repository, "config");
        var layer = await LinkBlobAsync(path, repository, "layer");
        var content = Encoding.UTF8.GetBytes("""{"schemaVersion":2,"label":"from version 1"}""");
        var digest = Digest.Compute(content);
        var manifest = new ParsedManifest { MediaType = MediaTypes.OciManifest, Config = config with { MediaType = MediaTypes.OciConfig }, Layers = [layer] };
        Assert.True((await version1.PutManifestAsync(new ManifestWrite { Repository = repository, Digest = digest, Content = content, Manifest = manifest })).Stored);

        // Version 1 has no tag checks to trip over, so add the tag directly.
        await ExecuteAsync(path, "INSERT INTO tags (repository_id, name, manifest_id, updated_at) SELECT repository_id, 'v1', id, 0 FROM manifests;");
        Assert.Equal(1, await QueryIntAsync(path, "PRAGMA user_version;"));

        var upgraded = CreateSqliteStore(path, SqliteMigrations.Scripts, Time);
        await upgraded.MigrateAsync();

        Assert.Equal(SqliteMigrations.Scripts.Count, await QueryIntAsync(path, "PRAGMA user_version;"));
        Assert.Equal(digest, (await upgraded.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
        Assert.Equal(layer.Size, await upgraded.GetBlobLinkAsync(repository, layer.Digest));
        Assert.Null(await upgraded.GetRepositoryAsync(repository));
        Assert.False((await upgraded.GetAccessFactsAsync(null, repository)).RepositoryExists);

        // The pushed repository gains settings once its namespace exists, and keeps its content.
        await upgraded.CreateUserAsync(new NewUser { Name = "alice" });
        var settings = await upgraded.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Public, null, false, false, DateTimeOffset.UnixEpoch));
        Assert.Equal(RepositoryVisibility.Public, settings.Visibility);
        Assert.True((await upgraded.GetAccessFactsAsync("alice", repository)).IsNamespaceOwner);
        Assert.Equal(["v1"], await upgraded.ListTagsAsync(repository, null, 10));
    }

    [Fact]
    public async Task AccessFacts_QuerySeeksIndexes()
    {
        // The query runs on every registry request, so no table may be scanned. The only scans allowed are of the
        // one-row derived table "one" and the constant row it selects.
        var plan = await QueryPlanAsync(SqliteMetadataStore.AccessFactsSql, ("$repository", "acme/app"), ("$namespace", "acme"), ("$user", "alice"));

        Assert.DoesNotContain(plan, step => step.StartsWith("SCAN ", StringComparison.Ordinal) && step is not ("SCAN one" or "SCAN CONSTANT ROW"));
        Assert.Contains(plan, step => step.StartsWith("SEARCH r ", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith("SEARCH a ", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith("SEARCH m ", StringComparison.Ordinal));
        Assert.Contains(plan, step => step.StartsWith("SEARCH organization_owners ", StringComparison.Ordinal));
    }

    /// <summary>Returns the detail column of EXPLAIN QUERY PLAN, one entry per step.</summary>
    private async Task<IReadOnlyList<string>> QueryPlanAsync(string sql, params (string Name, string Value)[] parameters)
    {
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        var steps = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            steps.Add(reader.GetString(3));
        }

        return steps;
    }

    private SqliteMetadataStore CreateSqliteStore(string path, IReadOnlyList<string> migrations, TimeProvider timeProvider)
    {
        var options = Options.Create(new SqliteMetadataOptions { DatabasePath = path });
        var store = new SqliteMetadataStore(options, timeProvider, NullLogger<SqliteMetadataStore>.Instance, migrations);
        _stores.Add(store);
        return store;
    }

    /// <summary>
    /// Links a blob with SQL, because the current LinkBlobAsync also records the blob's use in a table that the
    /// version 1 schema lacks.
    /// </summary>
    private static async Task<Descriptor> LinkBlobAsync(string path, RepositoryName repository, string name)
    {
        var bytes = Encoding.UTF8.GetBytes(name);
        var blob = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Compute(bytes), Size = bytes.Length };
        await ExecuteAsync(path, $"""
            INSERT OR IGNORE INTO repositories (name, created_at) VALUES ('{repository.Value}', 0);
            INSERT INTO blob_links (repository_id, digest, size, created_at)
            SELECT id, '{blob.Digest.Value}', {blob.Size}, 0 FROM repositories WHERE name = '{repository.Value}';
            """);
        return blob;
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

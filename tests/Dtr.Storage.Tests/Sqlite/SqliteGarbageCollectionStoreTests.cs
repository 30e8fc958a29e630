using System.Diagnostics;
using System.Globalization;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteGarbageCollectionStoreTests(ITestOutputHelper output) : GarbageCollectionStoreContractTests
{
    // The last schema version before garbage collection state.
    private const int VersionBeforeGarbageCollection = 5;

    // The tables that grow with the registry. A per-digest statement must search them by index and never scan them.
    private static readonly string[] s_largeTables = ["manifests", "manifest_references", "blob_links", "blobs", "tags", "image_scans", "scan_jobs"];

    private readonly TempDirectory _folder = new();
    private readonly List<SqliteMetadataStore> _stores = [];

    private string DatabasePath => Path.Combine(_folder.Path, "metadata.db");

    protected override Task<GarbageCollectionStores> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = CreateSqliteStore(DatabasePath, SqliteMigrations.Scripts, timeProvider);
        return Task.FromResult(new GarbageCollectionStores(store, store, store));
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
    public async Task Migrate_LinksBeforeUpgradeHaveNoUse()
    {
        var path = Path.Combine(_folder.Path, "version5.db");
        var repository = RepositoryName.Parse("library/old");
        var digest = BlobDigest("linked before the upgrade");
        var before = CreateSqliteStore(path, SqliteMigrations.Scripts.Take(VersionBeforeGarbageCollection).ToList(), Time);
        await before.MigrateAsync();
        await ExecuteAsync(path, $"INSERT INTO repositories (id, name, created_at) VALUES (1, 'library/old', 0); INSERT INTO blob_links VALUES (1, '{digest.Value}', 5, 0);");

        var upgraded = CreateSqliteStore(path, SqliteMigrations.Scripts, Time);
        await upgraded.MigrateAsync();

        Assert.Equal(SqliteMigrations.Scripts.Count, await QueryIntAsync(path, "PRAGMA user_version;"));
        var contents = await upgraded.GetRepositoryContentsAsync(repository);
        Assert.Null(Assert.Single(contents!.BlobLinks).LastUsedAt);
        Assert.Single(await upgraded.DeleteUnusedBlobLinksAsync(repository, [digest], Start));
    }

    [Fact]
    public async Task QueryPlans_SearchLargeTablesByIndex()
    {
        string[] statements =
        [
            SqliteMetadataStore.DeletableManifestQuery,
            SqliteMetadataStore.UnusedBlobLinkDelete,
            SqliteMetadataStore.BlobToKeepQuery,
            SqliteMetadataStore.BlobDeletionMark,
            "SELECT 1 FROM manifests WHERE digest = $digest LIMIT 1;",
            "DELETE FROM scan_jobs WHERE manifest_digest = $digest AND holder IS NULL;",
        ];

        foreach (var statement in statements)
        {
            var plan = await ExplainAsync(DatabasePath, statement);
            output.WriteLine(statement);
            output.WriteLine(string.Join(Environment.NewLine, plan));
            foreach (var table in s_largeTables)
            {
                Assert.DoesNotContain(plan, line => line.StartsWith($"SCAN {table}", StringComparison.Ordinal) || line.Contains($"SCAN {table} ", StringComparison.Ordinal));
            }

            // A search on the repository alone walks every manifest of the repository for each digest.
            Assert.DoesNotContain(plan, line => line.EndsWith("(repository_id=?)", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Batches_LargeRepository()
    {
        const int Manifests = 10_000;
        const int BlobsPerManifest = 10;
        const int BatchSize = 1_000;
        var repository = RepositoryName.Parse("library/large");
        var blobDigests = await SeedLargeRepositoryAsync(Manifests, BlobsPerManifest);
        Time.Advance(TimeSpan.FromDays(1));
        var cutoff = Time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();

        var contents = await Gc.GetRepositoryContentsAsync(repository);
        Assert.Equal(Manifests, contents!.Manifests.Count);
        Assert.Equal(Manifests * BlobsPerManifest, contents.BlobLinks.Count);
        var read = stopwatch.Elapsed;

        stopwatch.Restart();
        var manifestsDeleted = 0;
        foreach (var batch in contents.Manifests.Select(node => node.Digest).Chunk(BatchSize))
        {
            manifestsDeleted += (await Gc.DeleteUnreferencedManifestsAsync(repository, batch, cutoff)).Count;
        }

        Assert.Equal(Manifests, manifestsDeleted);
        var manifestTime = stopwatch.Elapsed;

        stopwatch.Restart();
        var linksDeleted = 0;
        foreach (var batch in blobDigests.Chunk(BatchSize))
        {
            linksDeleted += (await Gc.DeleteUnusedBlobLinksAsync(repository, batch, cutoff)).Count;
        }

        Assert.Equal(blobDigests.Count, linksDeleted);
        var linkTime = stopwatch.Elapsed;

        stopwatch.Restart();
        var kept = 0;
        foreach (var batch in blobDigests.Chunk(BatchSize))
        {
            kept += (await Gc.FindBlobsToKeepAsync(batch, cutoff)).Count;
        }

        Assert.Equal(0, kept);
        var findTime = stopwatch.Elapsed;

        stopwatch.Restart();
        var marked = 0;
        foreach (var batch in blobDigests.Chunk(BatchSize))
        {
            var digests = await Gc.BeginBlobDeletionAsync("large-run", batch, cutoff);
            marked += digests.Count;
            await Gc.EndBlobDeletionAsync(digests, deleted: true);
        }

        Assert.Equal(blobDigests.Count, marked);
        var markTime = stopwatch.Elapsed;
        Assert.Equal(0, await QueryIntAsync(DatabasePath, "SELECT count(*) FROM blobs;"));

        output.WriteLine(
            $"{Manifests:N0} manifests, {blobDigests.Count:N0} blobs, batches of {BatchSize:N0}: contents read in {read.TotalSeconds:F2} s, " +
            $"manifests deleted in {manifestTime.TotalSeconds:F2} s, links deleted in {linkTime.TotalSeconds:F2} s, " +
            $"blobs checked in {findTime.TotalSeconds:F2} s, blobs marked and unmarked in {markTime.TotalSeconds:F2} s.");
    }

    /// <summary>
    /// Writes one repository with untagged image manifests, each referencing its own linked blobs, straight into the
    /// database at <see cref="GarbageCollectionStoreContractTests.Start"/>, because a hundred thousand LinkBlobAsync
    /// calls would take most of the test's time. Every blob gets a use record at the same time.
    /// </summary>
    private async Task<IReadOnlyList<Digest>> SeedLargeRepositoryAsync(int manifests, int blobsPerManifest)
    {
        var start = Start.ToUnixTimeMilliseconds();
        var digests = new List<Digest>();
        await using var connection = new SqliteConnection($"Data Source={DatabasePath};Pooling=False;Foreign Keys=True");
        await connection.OpenAsync();
        await using var transaction = connection.BeginTransaction();
        await using (var repository = connection.CreateCommand())
        {
            repository.CommandText = "INSERT INTO repositories (id, name, created_at) VALUES (1, 'library/large', $now);";
            repository.Parameters.AddWithValue("$now", start);
            await repository.ExecuteNonQueryAsync();
        }

        await using var manifest = connection.CreateCommand();
        manifest.CommandText = """
            INSERT INTO manifests (id, repository_id, digest, media_type, content, size, created_at)
            VALUES ($id, 1, $digest, 'application/vnd.oci.image.manifest.v1+json', x'7B7D', 2, $now);
            """;
        var manifestId = manifest.Parameters.Add("$id", SqliteType.Integer);
        var manifestDigest = manifest.Parameters.Add("$digest", SqliteType.Text);
        manifest.Parameters.AddWithValue("$now", start);

        await using var blob = connection.CreateCommand();
        blob.CommandText = """
            INSERT INTO blob_links (repository_id, digest, size, created_at) VALUES (1, $digest, 1000, $now);
            INSERT INTO manifest_references (manifest_id, kind, digest) VALUES ($manifest_id, 0, $digest);
            INSERT INTO blobs (digest, last_used_at) VALUES ($digest, $now);
            """;
        var blobDigest = blob.Parameters.Add("$digest", SqliteType.Text);
        var blobManifest = blob.Parameters.Add("$manifest_id", SqliteType.Integer);
        blob.Parameters.AddWithValue("$now", start);

        for (var i = 1; i <= manifests; i++)
        {
            manifestId.Value = i;
            manifestDigest.Value = BlobDigest($"large manifest {i}").Value;
            await manifest.ExecuteNonQueryAsync();
            for (var j = 0; j < blobsPerManifest; j++)
            {
                var digest = BlobDigest($"large blob {i}/{j}");
                digests.Add(digest);
                blobDigest.Value = digest.Value;
                blobManifest.Value = i;
                await blob.ExecuteNonQueryAsync();
            }
        }

        await transaction.CommitAsync();
        return digests;
    }

    private SqliteMetadataStore CreateSqliteStore(string path, IReadOnlyList<string> migrations, TimeProvider timeProvider)
    {
        var options = Options.Create(new SqliteMetadataOptions { DatabasePath = path });
        var store = new SqliteMetadataStore(options, timeProvider, NullLogger<SqliteMetadataStore>.Instance, migrations);
        _stores.Add(store);
        return store;
    }

    private static async Task<IReadOnlyList<string>> ExplainAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        var lines = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.GetString(3));
        }

        return lines;
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

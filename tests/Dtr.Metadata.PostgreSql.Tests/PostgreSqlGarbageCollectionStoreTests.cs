using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Names;
using Dtr.Storage.Tests.Contracts;
using Npgsql;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlGarbageCollectionStoreTests(PostgreSqlCluster cluster) : GarbageCollectionStoreContractTests
{
    // The last schema version before garbage collection.
    private const int VersionBeforeGarbageCollection = 4;

    private readonly PostgreSqlStores _stores = new(cluster);
    protected override async Task<GarbageCollectionStores> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = await _stores.CreateAsync(timeProvider);
        return new GarbageCollectionStores(store, store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();

    [Fact]
    public async Task Migrate_FromVersionBeforeGarbageCollection()
    {
        var repository = RepositoryName.Parse("library/app");
        var before = await _stores.CreateAsync(Time, schema: "upgraded", migrations: PostgreSqlMigrations.Scripts.Take(VersionBeforeGarbageCollection).ToList());
        await before.MigrateAsync();

        // This package's LinkBlobAsync needs the blobs table, so the link is written as version 4 would have.
        var layer = Blob("layer");
        await ExecuteAsync($"""
            INSERT INTO upgraded.repositories (name, created_at) VALUES ('{repository}', {Start.ToUnixTimeMilliseconds()});
            INSERT INTO upgraded.blob_links (repository_id, digest, size, created_at)
            SELECT id, '{layer.Digest}', {layer.Size}, {Start.ToUnixTimeMilliseconds()} FROM upgraded.repositories;
            """);
        var manifest = ManifestWriteFor(repository, new ParsedManifest { MediaType = MediaTypes.OciManifest, Layers = [layer] }, "image", ["latest"]);
        Assert.True((await before.PutManifestAsync(manifest)).Stored);
        await before.CreateUploadAsync(new UploadSession("upload-1", repository, Start, Start));
        Assert.Equal(VersionBeforeGarbageCollection, await QueryLongAsync("SELECT version FROM upgraded.schema_version;"));

        var upgraded = await _stores.CreateAsync(Time, schema: "upgraded");
        await upgraded.MigrateAsync();

        Assert.Equal(PostgreSqlMigrations.Scripts.Count, await QueryLongAsync("SELECT version FROM upgraded.schema_version;"));
        Assert.NotNull(await upgraded.GetManifestAsync(repository, ManifestReference.ForTag("latest")));
        Assert.NotNull(await upgraded.GetUploadAsync("upload-1"));
        var contents = await upgraded.GetRepositoryContentsAsync(repository);
        Assert.NotNull(contents);
        var node = Assert.Single(contents.Manifests);
        Assert.True(node.Tagged);
        Assert.Equal([layer.Digest], node.Blobs);

        // A link made before the upgrade has no use record until the blob is used again.
        Assert.Equal(new BlobLinkEntry(layer.Digest, layer.Size, Start), Assert.Single(contents.BlobLinks));
        var usedAt = Start.AddHours(1);
        Assert.True(await upgraded.TryUseBlobAsync(layer.Digest, usedAt));
        contents = await upgraded.GetRepositoryContentsAsync(repository);
        Assert.Equal(usedAt, Assert.Single(contents!.BlobLinks).LastUsedAt);
    }

    [Fact]
    public async Task Hosts_BeginDeletionRacesLink()
    {
        // A second store with its own connection pool, as a second registry host would have.
        var client = await _stores.CreateAsync(Time);
        var repository = RepositoryName.Parse("library/blobs");
        var other = RepositoryName.Parse("library/other");
        const int Count = 200;
        var blobs = new List<Descriptor>();
        for (var i = 0; i < Count; i++)
        {
            var blob = Blob($"blob {i}");
            await client.LinkBlobAsync(repository, blob.Digest, blob.Size);
            Assert.True(await client.UnlinkBlobAsync(repository, blob.Digest));
            blobs.Add(blob);
        }

        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow().AddMinutes(-1);

        // The run marks blobs from the front while the client links them from the back, so the two meet in between.
        var marking = Task.Run(async () =>
        {
            var marked = new List<Digest>();
            foreach (var blob in blobs)
            {
                marked.AddRange(await Gc.BeginBlobDeletionAsync("run-1", [blob.Digest], cutoff));
            }

            return marked;
        });
        var linking = Task.Run(async () =>
        {
            var linked = new List<Digest>();
            for (var i = blobs.Count - 1; i >= 0; i--)
            {
                try
                {
                    await client.LinkBlobAsync(other, blobs[i].Digest, blobs[i].Size);
                    linked.Add(blobs[i].Digest);
                }
                catch (BlobDeletionPendingException exception)
                {
                    Assert.Equal(blobs[i].Digest, exception.Digest);
                }
            }

            return linked;
        });
        var markedDigests = await marking;
        var linkedDigests = await linking;

        Assert.Empty(markedDigests.Intersect(linkedDigests));
        Assert.Equal(Count, markedDigests.Count + linkedDigests.Count);
        foreach (var digest in markedDigests)
        {
            Assert.Null(await client.GetBlobLinkAsync(other, digest));
        }

        Assert.Equal(Count, (await Gc.FindBlobsToKeepAsync(blobs.Select(blob => blob.Digest).ToList(), cutoff)).Count);
        var pending = await Gc.ListPendingBlobDeletionsAsync(Count + 1);
        Assert.Equal(Sorted(markedDigests), Sorted(pending.Select(deletion => deletion.Digest)));
        Assert.Equal(linkedDigests.Count, await QueryLongAsync("SELECT count(*) FROM dtr.blob_links;"));
    }

    private static List<string> Sorted(IEnumerable<Digest> digests) =>
        digests.Select(digest => digest.Value).Order(StringComparer.Ordinal).ToList();

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

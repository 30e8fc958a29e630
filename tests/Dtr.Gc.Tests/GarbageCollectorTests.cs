using Dtr.Digests;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Gc.Tests;

/// <summary>What a run removes and keeps, on the real SQLite metadata store and filesystem blob store.</summary>
public sealed class GarbageCollectorTests
{
    private static readonly RepositoryName App = RepositoryName.Parse("team/app");
    private static readonly RepositoryName Other = RepositoryName.Parse("team/other");

    private static GarbageCollectionRequest Request(bool deleteUntagged = false, bool dryRun = false) =>
        new() { DeleteUntagged = deleteUntagged, DryRun = dryRun };

    private static async Task<bool> HasBlobAsync(GcTestHost host, Digest digest) => await host.Blobs.StatAsync(digest) is not null;

    [Fact]
    public async Task SharedLayer_SurvivesDeletedImage()
    {
        await using var host = await GcTestHost.StartAsync();
        var shared = GcTestHost.Bytes("shared layer");
        var unique = GcTestHost.Bytes("unique layer");
        var config1 = GcTestHost.Bytes("config 1");
        var config2 = GcTestHost.Bytes("config 2");
        var image1 = await host.PushImageAsync(App, config1, [shared, unique], "v1");
        var image2 = await host.PushImageAsync(App, config2, [shared], "v2");
        Assert.True(await host.Metadata.DeleteManifestAsync(App, image1.Digest));
        host.PassGracePeriod();

        var run = await host.Collector.RunAsync(Request());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.True(await HasBlobAsync(host, Digest.Compute(shared)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(config2)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(unique)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(config1)));
        Assert.Null(await host.Metadata.GetBlobLinkAsync(App, Digest.Compute(unique)));
        Assert.NotNull(await host.Metadata.GetBlobLinkAsync(App, Digest.Compute(shared)));
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(image2.Digest)));
        Assert.Equal(2, run.BlobLinksDeleted);
        Assert.Equal(2, run.BlobsDeleted);
        Assert.Equal(unique.Length + config1.Length, run.BytesFreed);
        Assert.Equal(0, run.ManifestsDeleted);
    }

    [Fact]
    public async Task IndexChildren_SurviveWhenOnlyIndexTagged()
    {
        await using var host = await GcTestHost.StartAsync();
        var amd64Layer = GcTestHost.Bytes("amd64 layer");
        var arm64Layer = GcTestHost.Bytes("arm64 layer");
        var orphanLayer = GcTestHost.Bytes("orphan layer");
        var amd64 = await host.PushImageAsync(App, GcTestHost.Bytes("amd64 config"), [amd64Layer]);
        var arm64 = await host.PushImageAsync(App, GcTestHost.Bytes("arm64 config"), [arm64Layer]);
        var index = await host.PushIndexAsync(App, [amd64, arm64], "latest");
        var orphan = await host.PushImageAsync(App, GcTestHost.Bytes("orphan config"), [orphanLayer]);
        host.PassGracePeriod();

        var run = await host.Collector.RunAsync(Request(deleteUntagged: true));

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(index.Digest)));
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(amd64.Digest)));
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(arm64.Digest)));
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(orphan.Digest)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(amd64Layer)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(arm64Layer)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(orphanLayer)));
        Assert.Equal(1, run.ManifestsDeleted);
    }

    [Fact]
    public async Task Referrers_LiveAndGoWithSubject()
    {
        await using var host = await GcTestHost.StartAsync();
        var imageLayer = GcTestHost.Bytes("image layer");
        var signatureLayer = GcTestHost.Bytes("signature");
        var counterLayer = GcTestHost.Bytes("counter-signature");
        var image = await host.PushImageAsync(App, GcTestHost.Bytes("config"), [imageLayer], "v1");
        var signature = await host.PushReferrerAsync(App, image, signatureLayer);
        var counter = await host.PushReferrerAsync(App, signature, counterLayer);
        host.PassGracePeriod();

        var first = await host.Collector.RunAsync(Request(deleteUntagged: true));

        Assert.Equal(0, first.ManifestsDeleted);
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(signature.Digest)));
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(counter.Digest)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(counterLayer)));

        Assert.True(await host.Metadata.DeleteTagAsync(App, "v1"));
        host.PassGracePeriod();
        var second = await host.Collector.RunAsync(Request(deleteUntagged: true));

        Assert.Equal(3, second.ManifestsDeleted);
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(image.Digest)));
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(signature.Digest)));
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(counter.Digest)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(imageLayer)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(signatureLayer)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(counterLayer)));
        var manifestItems = (await host.ListItemsAsync(second.Id)).Where(item => item.Kind == GarbageCollectionItemKind.Manifest).Select(item => item.Digest).ToList();
        Assert.Equal([image.Digest, signature.Digest, counter.Digest], manifestItems);
    }

    [Fact]
    public async Task Untagged_KeptWithoutDeleteUntagged()
    {
        await using var host = await GcTestHost.StartAsync();
        var layer = GcTestHost.Bytes("layer");
        var image = await host.PushImageAsync(App, GcTestHost.Bytes("config"), [layer]);
        host.PassGracePeriod();

        var run = await host.Collector.RunAsync(Request());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(image.Digest)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(layer)));
        Assert.Equal(0, run.ManifestsDeleted);
        Assert.Equal(0, run.BlobsDeleted);
    }

    [Fact]
    public async Task GracePeriod_KeepsNewContent()
    {
        await using var host = await GcTestHost.StartAsync();
        var oldLayer = GcTestHost.Bytes("old layer");
        var old = await host.PushImageAsync(App, GcTestHost.Bytes("old config"), [oldLayer]);
        var oldLoose = await host.StoreBlobAsync(GcTestHost.Bytes("old loose"));
        var usedLoose = await host.StoreBlobAsync(GcTestHost.Bytes("used loose"));
        var oldLink = await host.PutBlobAsync(Other, GcTestHost.Bytes("old link"));
        host.PassGracePeriod();

        var newLayer = GcTestHost.Bytes("new layer");
        var recent = await host.PushImageAsync(App, GcTestHost.Bytes("new config"), [newLayer]);
        var newLink = await host.PutBlobAsync(Other, GcTestHost.Bytes("new link"));
        var newLoose = await host.StoreBlobAsync(GcTestHost.Bytes("new loose"));
        File.SetLastWriteTimeUtc(FindBlobFile(host, newLoose), host.Time.GetUtcNow().UtcDateTime);
        Assert.True(await host.Store.TryUseBlobAsync(usedLoose, host.Time.GetUtcNow()));

        var run = await host.Collector.RunAsync(Request(deleteUntagged: true));

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(old.Digest)));
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(recent.Digest)));
        Assert.False(await HasBlobAsync(host, Digest.Compute(oldLayer)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(newLayer)));
        Assert.False(await HasBlobAsync(host, oldLoose));
        Assert.True(await HasBlobAsync(host, newLoose));
        Assert.True(await HasBlobAsync(host, usedLoose));
        Assert.Null(await host.Metadata.GetBlobLinkAsync(Other, oldLink));
        Assert.False(await HasBlobAsync(host, oldLink));
        Assert.NotNull(await host.Metadata.GetBlobLinkAsync(Other, newLink));
        Assert.True(await HasBlobAsync(host, newLink));
    }

    [Fact]
    public async Task DryRun_ChangesNothingAndMatchesRealRun()
    {
        await using var host = await GcTestHost.StartAsync();
        var shared = GcTestHost.Bytes("shared");
        var kept = await host.PushImageAsync(App, GcTestHost.Bytes("kept config"), [shared], "v1");
        var untagged = await host.PushImageAsync(App, GcTestHost.Bytes("untagged config"), [shared, GcTestHost.Bytes("untagged layer")]);
        await host.PushReferrerAsync(App, untagged, GcTestHost.Bytes("signature"));
        var index = await host.PushIndexAsync(Other, [await host.PushImageAsync(Other, GcTestHost.Bytes("child config"), [GcTestHost.Bytes("child layer")])]);
        for (var i = 0; i < 5; i++)
        {
            await host.StoreBlobAsync(GcTestHost.Bytes($"loose {i}"));
        }

        await host.PutBlobAsync(Other, GcTestHost.Bytes("unused link"));
        await CreateUploadAsync(host, App, "stale-upload", GcTestHost.Bytes("partial"), host.Time.GetUtcNow());
        host.Time.Advance(host.Options.UploadMaxAge);
        host.PassGracePeriod();
        var blobsBefore = await host.ListBlobsAsync();
        var metadataBefore = await host.DescribeMetadataAsync();

        var dry = await host.Collector.RunAsync(Request(deleteUntagged: true, dryRun: true));

        Assert.Equal(GarbageCollectionStatus.Completed, dry.Status);
        Assert.Equal(blobsBefore, await host.ListBlobsAsync());
        Assert.Equal(metadataBefore, await host.DescribeMetadataAsync());
        Assert.NotNull(await host.Metadata.GetUploadAsync("stale-upload"));
        Assert.NotNull(await host.Blobs.GetUploadLengthAsync("stale-upload"));

        var real = await host.Collector.RunAsync(Request(deleteUntagged: true));

        Assert.Equal(GarbageCollectionStatus.Completed, real.Status);
        Assert.Equal(4, real.ManifestsDeleted);
        Assert.Equal(dry.ManifestsDeleted, real.ManifestsDeleted);
        Assert.Equal(dry.BlobLinksDeleted, real.BlobLinksDeleted);
        Assert.Equal(dry.BlobsDeleted, real.BlobsDeleted);
        Assert.Equal(dry.BytesFreed, real.BytesFreed);
        Assert.Equal(dry.UploadsPurged, real.UploadsPurged);
        Assert.Equal(1, real.UploadsPurged);
        var dryItems = (await host.ListItemsAsync(dry.Id)).Select(item => item with { Position = 0 }).ToList();
        var realItems = (await host.ListItemsAsync(real.Id)).Select(item => item with { Position = 0 }).ToList();
        Assert.Equal(dryItems, realItems);
        Assert.NotEqual(blobsBefore, await host.ListBlobsAsync());
        Assert.NotNull(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(kept.Digest)));
        Assert.Null(await host.Metadata.GetManifestAsync(Other, ManifestReference.ForDigest(index.Digest)));
    }

    [Fact]
    public async Task DeletedRepository_LosesUnsharedBlobs()
    {
        await using var host = await GcTestHost.StartAsync();
        var shared = GcTestHost.Bytes("shared");
        var own = GcTestHost.Bytes("own");
        await host.PushImageAsync(App, GcTestHost.Bytes("app config"), [shared, own], "v1");
        await host.PushImageAsync(Other, GcTestHost.Bytes("other config"), [shared], "v1");
        var identity = host.Services.GetRequiredService<IIdentityStore>();
        Assert.True(await identity.DeleteRepositoryAsync(App));
        host.PassGracePeriod();

        var run = await host.Collector.RunAsync(Request());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.False(await HasBlobAsync(host, Digest.Compute(own)));
        Assert.True(await HasBlobAsync(host, Digest.Compute(shared)));
        Assert.Equal(2, run.BlobsDeleted);
    }

    [Fact]
    public async Task UploadPurge_KeepsFreshAndLeased()
    {
        await using var host = await GcTestHost.StartAsync();
        var start = host.Time.GetUtcNow();
        var data = GcTestHost.Bytes("partial upload");
        await CreateUploadAsync(host, App, "old", data, start);
        await CreateUploadAsync(host, App, "leased", GcTestHost.Bytes("leased"), start);
        host.Time.Advance(host.Options.UploadMaxAge + TimeSpan.FromMinutes(1));
        await CreateUploadAsync(host, App, "fresh", GcTestHost.Bytes("fresh"), host.Time.GetUtcNow());
        var now = host.Time.GetUtcNow();
        Assert.True(await host.Metadata.TryAcquireUploadLeaseAsync("leased", "client-request", now, now.AddMinutes(5)));

        var run = await host.Collector.RunAsync(Request());

        Assert.Equal(1, run.UploadsPurged);
        Assert.Null(await host.Metadata.GetUploadAsync("old"));
        Assert.Null(await host.Blobs.GetUploadLengthAsync("old"));
        Assert.NotNull(await host.Metadata.GetUploadAsync("leased"));
        Assert.NotNull(await host.Blobs.GetUploadLengthAsync("leased"));
        Assert.NotNull(await host.Metadata.GetUploadAsync("fresh"));
        Assert.NotNull(await host.Blobs.GetUploadLengthAsync("fresh"));
        var item = Assert.Single(await host.ListItemsAsync(run.Id));
        Assert.Equal(new GarbageCollectionItem(item.Position, GarbageCollectionItemKind.Upload, App.Value, null, "old", data.Length), item);
    }

    [Fact]
    public async Task PendingDeletions_OfInterruptedRunAreFinished()
    {
        await using var host = await GcTestHost.StartAsync();
        var loose = await host.StoreBlobAsync(GcTestHost.Bytes("loose"));
        host.PassGracePeriod();
        var now = host.Time.GetUtcNow();
        await host.Store.CreateRunAsync(new GarbageCollectionRun { Id = "crashed", Status = GarbageCollectionStatus.Running, StartedAt = now });
        Assert.Equal([loose], await host.Store.BeginBlobDeletionAsync("crashed", [loose], now));
        await Assert.ThrowsAsync<BlobDeletionPendingException>(async () => await host.Metadata.LinkBlobAsync(App, loose, 5));

        var run = await host.Collector.RunAsync(Request());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.False(await HasBlobAsync(host, loose));
        Assert.Equal(GarbageCollectionStatus.Interrupted, (await host.Store.GetRunAsync("crashed"))?.Status);
        Assert.Empty(await host.Store.ListPendingBlobDeletionsAsync(10));
        Assert.Equal(1, run.BlobsDeleted);
        await host.Metadata.LinkBlobAsync(App, loose, 5);
    }

    [Fact]
    public async Task Retention_DeletesOldRunRecords()
    {
        await using var host = await GcTestHost.StartAsync(options => options.RunRetention = TimeSpan.FromDays(30));
        var now = host.Time.GetUtcNow();
        foreach (var (id, age) in new[] { ("ancient", 31), ("recent", 29) })
        {
            var run = new GarbageCollectionRun { Id = id, Status = GarbageCollectionStatus.Running, StartedAt = now.AddDays(-age) };
            await host.Store.CreateRunAsync(run);
            await host.Store.UpdateRunAsync(run with { Status = GarbageCollectionStatus.Completed, EndedAt = now.AddDays(-age) });
        }

        var current = await host.Collector.RunAsync(Request());

        Assert.Null(await host.Store.GetRunAsync("ancient"));
        Assert.NotNull(await host.Store.GetRunAsync("recent"));
        Assert.NotNull(await host.Store.GetRunAsync(current.Id));
    }

    [Fact]
    public async Task Estimate_MatchesDryRunFromMetadata()
    {
        await using var host = await GcTestHost.StartAsync();
        var layer = GcTestHost.Bytes("layer");
        await host.PushImageAsync(App, GcTestHost.Bytes("config"), [layer]);
        await host.PushImageAsync(App, GcTestHost.Bytes("tagged config"), [GcTestHost.Bytes("tagged layer")], "v1");
        host.PassGracePeriod();

        var keepUntagged = await host.Collector.EstimateReclaimableAsync(deleteUntagged: false);
        var deleteUntagged = await host.Collector.EstimateReclaimableAsync(deleteUntagged: true);
        var dry = await host.Collector.RunAsync(Request(deleteUntagged: true, dryRun: true));

        Assert.Equal(0, keepUntagged.Manifests);
        Assert.Equal(0, keepUntagged.Blobs);
        Assert.Equal(dry.ManifestsDeleted, deleteUntagged.Manifests);
        Assert.Equal(dry.BlobsDeleted, deleteUntagged.Blobs);
        Assert.Equal(dry.BytesFreed, deleteUntagged.Bytes);
        Assert.Equal(2, deleteUntagged.Blobs);
    }

    [Fact]
    public async Task Estimate_CountsDeletedRepositoryBlobs()
    {
        await using var host = await GcTestHost.StartAsync();
        var shared = GcTestHost.Bytes("shared");
        var own = GcTestHost.Bytes("own");
        var ownConfig = GcTestHost.Bytes("app config");
        await host.PushImageAsync(App, ownConfig, [shared, own], "v1");
        await host.PushImageAsync(Other, GcTestHost.Bytes("other config"), [shared], "v1");
        await host.StoreBlobAsync(GcTestHost.Bytes("never linked"));
        var identity = host.Services.GetRequiredService<IIdentityStore>();
        Assert.True(await identity.DeleteRepositoryAsync(App));
        host.PassGracePeriod();

        var estimate = await host.Collector.EstimateReclaimableAsync(deleteUntagged: false);
        var dry = await host.Collector.RunAsync(Request(dryRun: true));

        Assert.Equal(GarbageCollectionStatus.Completed, dry.Status);
        Assert.Equal(3, dry.BlobsDeleted);
        Assert.Equal(dry.ManifestsDeleted, estimate.Manifests);
        Assert.Equal(dry.BlobsDeleted, estimate.Blobs);
        Assert.Equal(dry.BytesFreed, estimate.Bytes);
        Assert.Equal(own.Length + ownConfig.Length + "never linked ".Length + 32, estimate.Bytes);
    }

    [Fact]
    public async Task Estimate_IsCachedForThirtySeconds()
    {
        await using var host = await GcTestHost.StartAsync();
        await host.PushImageAsync(App, GcTestHost.Bytes("config"), [GcTestHost.Bytes("layer")], "v1");
        host.PassGracePeriod();
        var first = await host.Collector.EstimateReclaimableAsync(deleteUntagged: true);
        Assert.True(await host.Metadata.DeleteTagAsync(App, "v1"));
        host.Time.Advance(TimeSpan.FromSeconds(29));

        var cached = await host.Collector.EstimateReclaimableAsync(deleteUntagged: true);
        host.Time.Advance(TimeSpan.FromSeconds(1));
        var fresh = await host.Collector.EstimateReclaimableAsync(deleteUntagged: true);

        Assert.Same(first, cached);
        Assert.Equal(0, first.Manifests);
        Assert.Equal(1, fresh.Manifests);
        Assert.Equal(2, fresh.Blobs);
    }

    internal static async Task CreateUploadAsync(GcTestHost host, RepositoryName repository, string id, byte[] data, DateTimeOffset updatedAt)
    {
        await host.Blobs.CreateUploadAsync(id);
        await using (var writer = await host.Blobs.OpenUploadWriterAsync(id))
        {
            await writer.WriteAsync(data);
            await writer.FlushAsync();
        }

        await host.Metadata.CreateUploadAsync(new UploadSession(id, repository, updatedAt, updatedAt));
    }

    private static string FindBlobFile(GcTestHost host, Digest digest) =>
        Directory.EnumerateFiles(Path.Combine(host.Folder, "blobs"), digest.Encoded, SearchOption.AllDirectories).Single();
}

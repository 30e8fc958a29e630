using Dtr.Benchmarks.GarbageCollection;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Gc.Tests;

/// <summary>
/// Checks the seeding code of the garbage collection benchmark (benchmarks/Dtr.Benchmarks, command <c>gc</c>) on a
/// small registry: the stores contain what the plan lays out, and a run removes the counts that the plan expects.
/// </summary>
public sealed class BenchmarkSeedingTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dtr-gc-seed-test-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void DefaultPlan_ExpectsGarbageMix()
    {
        var plan = new GcSeedPlan(GcSeedShape.Default);

        Assert.Equal(10_000, plan.Manifests.Count);
        Assert.Equal(80_020, plan.ReferencedBlobs);
        Assert.Equal(9_990, plan.ExtraLinks.Count);
        Assert.Equal(3_000, plan.Expected.Manifests);
        Assert.Equal(33_990, plan.Expected.BlobLinks);
        Assert.Equal(43_980, plan.Expected.Blobs);
        Assert.Equal(28_147_062, plan.Expected.BytesFreed);
        Assert.Equal(56_020, plan.Expected.BlobsLeft);
        Assert.Equal(100, plan.Expected.Uploads);
    }

    [Fact]
    public async Task SmallPlan_SeedsSqliteAndFileSystem()
    {
        var shape = new GcSeedShape(Repositories: 3, ManifestsPerRepository: 10, Blobs: 300, UntaggedPercent: 30, StaleUploadsPerRepository: 1);
        var plan = new GcSeedPlan(shape);
        await using var services = GcBenchmarkCommand.BuildServices(GcBenchmarkSettings.ForSqlite(_root, shape), _root);
        var metadata = services.GetRequiredService<IMetadataStore>();
        var blobs = services.GetRequiredService<IBlobStore>();
        await metadata.MigrateAsync();

        await new GcSeeder(metadata, blobs, concurrency: 4, TimeProvider.System, _ => { }).SeedAsync(plan, CancellationToken.None);

        var stored = new List<BlobInfo>();
        await foreach (var blob in blobs.ListAsync())
        {
            stored.Add(blob);
        }

        Assert.Equal(shape.Blobs, stored.Count);
        Assert.Equal(Enumerable.Range(0, shape.Blobs).Sum(blob => (long)GcSeedPlan.BlobSize(blob)), stored.Sum(blob => blob.Size));

        var repository = GcSeedPlan.RepositoryName(0);
        var tags = await metadata.ListTagsAsync(repository, null, 100);
        Assert.Equal(["v3", "v4", "v5", "v6", "v7", "v8", "v9"], tags);

        var tagDeleted = plan.Manifests.First(manifest => manifest.Fate == ManifestFate.TagDeleted);
        var untagged = await metadata.GetManifestAsync(repository, ManifestReferenceOf(plan, tagDeleted));
        Assert.NotNull(untagged);

        var (extraRepository, extraBlob) = plan.ExtraLinks[0];
        Assert.Equal(GcSeedPlan.BlobSize(extraBlob), await metadata.GetBlobLinkAsync(GcSeedPlan.RepositoryName(extraRepository), plan.BlobDigest(extraBlob)));
        var orphan = shape.Blobs - 1;
        Assert.Null(await metadata.GetBlobLinkAsync(GcSeedPlan.RepositoryName(orphan % shape.Repositories), plan.BlobDigest(orphan)));
    }

    [Fact]
    public async Task SmallPlan_RunRemovesExpectedCounts()
    {
        var shape = new GcSeedShape(Repositories: 3, ManifestsPerRepository: 10, Blobs: 300, UntaggedPercent: 30, StaleUploadsPerRepository: 1);
        var plan = new GcSeedPlan(shape);
        await using var services = GcBenchmarkCommand.BuildServices(GcBenchmarkSettings.ForSqlite(_root, shape), _root);
        var metadata = services.GetRequiredService<IMetadataStore>();
        await metadata.MigrateAsync();
        await new GcSeeder(metadata, services.GetRequiredService<IBlobStore>(), concurrency: 4, TimeProvider.System, _ => { }).SeedAsync(plan, CancellationToken.None);

        // The benchmark's grace period is zero, so the run's start must come after the last seeded write time.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        var run = await services.GetRequiredService<IGarbageCollector>().RunAsync(new GarbageCollectionRequest { DeleteUntagged = true });

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.Equal(plan.Expected.Manifests, run.ManifestsDeleted);
        Assert.Equal(plan.Expected.BlobLinks, run.BlobLinksDeleted);
        Assert.Equal(plan.Expected.Blobs, run.BlobsDeleted);
        Assert.Equal(plan.Expected.BytesFreed, run.BytesFreed);
        Assert.Equal(plan.Expected.Uploads, run.UploadsPurged);
    }

    private static ManifestReference ManifestReferenceOf(GcSeedPlan plan, PlannedManifest manifest) =>
        ManifestReference.ForDigest(Digest.Compute(plan.ManifestContent(manifest).Content));
}

using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>Stale upload sessions, run records and their items, and deletes racing manifest pushes.</summary>
public abstract partial class GarbageCollectionStoreContractTests
{
    private static readonly IReadOnlyList<string> s_noErrors = [];

    // ----- Upload sessions -----

    [Fact]
    public async Task StaleUploads_OldestFirstBeforeTime()
    {
        var repository = RepositoryName.Parse("library/uploads");
        await Metadata.CreateUploadAsync(new UploadSession("upload-new", repository, Start, Start));
        await Metadata.CreateUploadAsync(new UploadSession("upload-old", repository, Start.AddHours(-5), Start.AddHours(-3)));
        await Metadata.CreateUploadAsync(new UploadSession("upload-middle", repository, Start.AddHours(-4), Start.AddHours(-2)));

        var stale = await Gc.ListStaleUploadsAsync(Start.AddHours(-1), 10);

        Assert.Equal(["upload-old", "upload-middle"], stale.Select(upload => upload.Id));
        Assert.Equal(new UploadSession("upload-old", repository, Start.AddHours(-5), Start.AddHours(-3)), stale[0]);
        Assert.Equal(["upload-old"], (await Gc.ListStaleUploadsAsync(Start.AddHours(-1), 1)).Select(upload => upload.Id));
        Assert.Empty(await Gc.ListStaleUploadsAsync(Start.AddHours(-3), 10));
    }

    // ----- Run records -----

    [Fact]
    public async Task CreateRun_StoresEveryField()
    {
        var run = new GarbageCollectionRun
        {
            Id = "run-1",
            Trigger = GarbageCollectionTrigger.Schedule,
            DryRun = true,
            DeleteUntagged = true,
            MaxDuration = TimeSpan.FromMinutes(90),
            RequestedBy = "alice",
            Host = "registry-0",
            Status = GarbageCollectionStatus.Completed,
            StartedAt = Start,
            EndedAt = Start.AddMinutes(3),
            HeartbeatAt = Start.AddMinutes(2),
            ManifestsDeleted = 1,
            BlobLinksDeleted = 2,
            BlobsDeleted = 3,
            BytesFreed = 4_000_000_000_000,
            UploadsPurged = 5,
            Errors = ["Deleting blob sha256:00 failed: timed out.", "Second error."],
        };

        await Gc.CreateRunAsync(run);

        AssertRun(run, await Gc.GetRunAsync("run-1"));
    }

    [Fact]
    public async Task CreateRun_NullableFieldsStayNull()
    {
        var run = NewRun("run-1");

        await Gc.CreateRunAsync(run);

        var stored = await Gc.GetRunAsync("run-1");
        AssertRun(run, stored);
        Assert.Null(stored!.MaxDuration);
        Assert.Null(stored.EndedAt);
    }

    [Fact]
    public async Task CreateRun_DuplicateIdThrows()
    {
        await Gc.CreateRunAsync(NewRun("run-1"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Gc.CreateRunAsync(NewRun("run-1") with { Host = "other" }));
        Assert.Null((await Gc.GetRunAsync("run-1"))!.Host);
    }

    [Fact]
    public async Task GetRun_UnknownIsNull()
    {
        Assert.Null(await Gc.GetRunAsync("no-such-run"));
    }

    [Fact]
    public async Task UpdateRun_KeepsCancelRequest()
    {
        await Gc.CreateRunAsync(NewRun("run-1"));
        Assert.True(await Gc.RequestRunCancellationAsync("run-1"));
        var update = NewRun("run-1") with
        {
            Status = GarbageCollectionStatus.Cancelled,
            EndedAt = Start.AddMinutes(1),
            HeartbeatAt = Start.AddSeconds(30),
            ManifestsDeleted = 7,
            BlobLinksDeleted = 8,
            BlobsDeleted = 9,
            BytesFreed = 10,
            UploadsPurged = 11,
            Errors = ["One error."],
            CancelRequested = false,
        };

        await Gc.UpdateRunAsync(update);

        AssertRun(update with { CancelRequested = true }, await Gc.GetRunAsync("run-1"));
    }

    [Fact]
    public async Task UpdateRun_CannotSetCancelRequest()
    {
        await Gc.CreateRunAsync(NewRun("run-1"));

        await Gc.UpdateRunAsync(NewRun("run-1") with { CancelRequested = true, HeartbeatAt = Start.AddSeconds(10) });

        var stored = await Gc.GetRunAsync("run-1");
        Assert.False(stored!.CancelRequested);
        Assert.Equal(Start.AddSeconds(10), stored.HeartbeatAt);
    }

    [Fact]
    public async Task ListRuns_NewestFirstWithPaging()
    {
        await Gc.CreateRunAsync(NewRun("run-a") with { StartedAt = Start.AddHours(1) });
        await Gc.CreateRunAsync(NewRun("run-b") with { StartedAt = Start.AddHours(3) });
        await Gc.CreateRunAsync(NewRun("run-c") with { StartedAt = Start.AddHours(2) });
        await Gc.CreateRunAsync(NewRun("run-d") with { StartedAt = Start.AddHours(2) });

        Assert.Equal(["run-b", "run-d", "run-c", "run-a"], (await Gc.ListRunsAsync(null, 10)).Select(run => run.Id));
        Assert.Equal(["run-b", "run-d"], (await Gc.ListRunsAsync(null, 2)).Select(run => run.Id));
        Assert.Equal(["run-c", "run-a"], (await Gc.ListRunsAsync("run-d", 2)).Select(run => run.Id));
        Assert.Empty(await Gc.ListRunsAsync("run-a", 2));
    }

    [Fact]
    public async Task ListRuns_FiltersByTrigger()
    {
        await Gc.CreateRunAsync(NewRun("manual-1") with { StartedAt = Start.AddHours(1) });
        await Gc.CreateRunAsync(NewRun("scheduled-1") with { StartedAt = Start.AddHours(2), Trigger = GarbageCollectionTrigger.Schedule });
        await Gc.CreateRunAsync(NewRun("manual-2") with { StartedAt = Start.AddHours(3) });
        await Gc.CreateRunAsync(NewRun("scheduled-2") with { StartedAt = Start.AddHours(4), Trigger = GarbageCollectionTrigger.Schedule });

        Assert.Equal(["scheduled-2", "scheduled-1"], (await Gc.ListRunsAsync(null, 10, GarbageCollectionTrigger.Schedule)).Select(run => run.Id));
        Assert.Equal(["manual-2", "manual-1"], (await Gc.ListRunsAsync(null, 10, GarbageCollectionTrigger.Manual)).Select(run => run.Id));
        Assert.Equal(["manual-1"], (await Gc.ListRunsAsync("manual-2", 10, GarbageCollectionTrigger.Manual)).Select(run => run.Id));
        Assert.Equal(["scheduled-1"], (await Gc.ListRunsAsync("manual-2", 10, GarbageCollectionTrigger.Schedule)).Select(run => run.Id));
    }

    [Fact]
    public async Task RequestCancellation_OnlyRunning()
    {
        await Gc.CreateRunAsync(NewRun("running"));
        await Gc.CreateRunAsync(NewRun("completed") with { Status = GarbageCollectionStatus.Completed, EndedAt = Start });

        Assert.True(await Gc.RequestRunCancellationAsync("running"));
        Assert.False(await Gc.RequestRunCancellationAsync("completed"));
        Assert.False(await Gc.RequestRunCancellationAsync("no-such-run"));

        Assert.True((await Gc.GetRunAsync("running"))!.CancelRequested);
        Assert.False((await Gc.GetRunAsync("completed"))!.CancelRequested);
    }

    [Fact]
    public async Task MarkInterrupted_AllRunningButCurrent()
    {
        await Gc.CreateRunAsync(NewRun("stale-1"));
        await Gc.CreateRunAsync(NewRun("stale-2"));
        await Gc.CreateRunAsync(NewRun("completed") with { Status = GarbageCollectionStatus.Completed, EndedAt = Start.AddMinutes(1) });
        await Gc.CreateRunAsync(NewRun("current"));
        var endedAt = Start.AddHours(1);

        Assert.Equal(2, await Gc.MarkRunsInterruptedAsync("current", endedAt));

        foreach (var id in new[] { "stale-1", "stale-2" })
        {
            var run = await Gc.GetRunAsync(id);
            Assert.Equal(GarbageCollectionStatus.Interrupted, run!.Status);
            Assert.Equal(endedAt, run.EndedAt);
        }

        Assert.Equal(GarbageCollectionStatus.Running, (await Gc.GetRunAsync("current"))!.Status);
        Assert.Equal(Start.AddMinutes(1), (await Gc.GetRunAsync("completed"))!.EndedAt);
        Assert.Equal(0, await Gc.MarkRunsInterruptedAsync("current", endedAt));
    }

    [Fact]
    public async Task RunItems_PositionsContinue()
    {
        await Gc.CreateRunAsync(NewRun("run-1"));
        await Gc.CreateRunAsync(NewRun("run-2"));
        var manifest = BlobDigest("manifest");
        var blob = BlobDigest("blob");

        await Gc.AddRunItemsAsync("run-1", [
            new GarbageCollectionItem(0, GarbageCollectionItemKind.Manifest, "library/app", manifest, null, 500),
            new GarbageCollectionItem(0, GarbageCollectionItemKind.BlobLink, "library/app", blob, null, 1_000),
        ]);
        await Gc.AddRunItemsAsync("run-2", [new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, blob, null, 1)]);
        await Gc.AddRunItemsAsync("run-1", [
            new GarbageCollectionItem(99, GarbageCollectionItemKind.Blob, null, blob, null, 1_000),
            new GarbageCollectionItem(0, GarbageCollectionItemKind.Upload, "library/app", null, "upload-1", 42),
        ]);
        await Gc.AddRunItemsAsync("run-1", []);

        var items = await Gc.ListRunItemsAsync("run-1", 0, 10);

        Assert.Equal(
            [
                new GarbageCollectionItem(1, GarbageCollectionItemKind.Manifest, "library/app", manifest, null, 500),
                new GarbageCollectionItem(2, GarbageCollectionItemKind.BlobLink, "library/app", blob, null, 1_000),
                new GarbageCollectionItem(3, GarbageCollectionItemKind.Blob, null, blob, null, 1_000),
                new GarbageCollectionItem(4, GarbageCollectionItemKind.Upload, "library/app", null, "upload-1", 42),
            ],
            items);
        Assert.Equal([1L], (await Gc.ListRunItemsAsync("run-2", 0, 10)).Select(item => item.Position));
    }

    [Fact]
    public async Task RunItems_PagesAndFiltersByKind()
    {
        await Gc.CreateRunAsync(NewRun("run-1"));
        var kinds = new[]
        {
            GarbageCollectionItemKind.Blob, GarbageCollectionItemKind.Manifest, GarbageCollectionItemKind.Blob,
            GarbageCollectionItemKind.Upload, GarbageCollectionItemKind.Blob,
        };
        await Gc.AddRunItemsAsync("run-1", kinds.Select((kind, i) => new GarbageCollectionItem(0, kind, null, BlobDigest($"item {i}"), null, i)).ToList());

        Assert.Equal([1L, 2L], (await Gc.ListRunItemsAsync("run-1", 0, 2)).Select(item => item.Position));
        Assert.Equal([3L, 4L], (await Gc.ListRunItemsAsync("run-1", 2, 2)).Select(item => item.Position));
        Assert.Equal([5L], (await Gc.ListRunItemsAsync("run-1", 4, 2)).Select(item => item.Position));
        Assert.Equal([1L, 3L, 5L], (await Gc.ListRunItemsAsync("run-1", 0, 10, GarbageCollectionItemKind.Blob)).Select(item => item.Position));
        Assert.Equal([3L], (await Gc.ListRunItemsAsync("run-1", 1, 1, GarbageCollectionItemKind.Blob)).Select(item => item.Position));
        Assert.Empty(await Gc.ListRunItemsAsync("run-1", 0, 10, GarbageCollectionItemKind.BlobLink));
        Assert.Empty(await Gc.ListRunItemsAsync("no-such-run", 0, 10));
    }

    [Fact]
    public async Task DeleteRunsEndedBefore_RemovesItems()
    {
        await Gc.CreateRunAsync(NewRun("old") with { Status = GarbageCollectionStatus.Completed, EndedAt = Start.AddDays(-2) });
        await Gc.CreateRunAsync(NewRun("recent") with { Status = GarbageCollectionStatus.Completed, EndedAt = Start.AddDays(-1) });
        await Gc.CreateRunAsync(NewRun("running") with { StartedAt = Start.AddDays(-5) });
        await Gc.AddRunItemsAsync("old", [new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, BlobDigest("old blob"), null, 1)]);
        await Gc.AddRunItemsAsync("recent", [new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, BlobDigest("recent blob"), null, 1)]);

        Assert.Equal(1, await Gc.DeleteRunsEndedBeforeAsync(Start.AddDays(-1)));

        Assert.Null(await Gc.GetRunAsync("old"));
        Assert.Empty(await Gc.ListRunItemsAsync("old", 0, 10));
        Assert.NotNull(await Gc.GetRunAsync("recent"));
        Assert.Single(await Gc.ListRunItemsAsync("recent", 0, 10));
        Assert.NotNull(await Gc.GetRunAsync("running"));

        // A new run with the old id starts its items at position 1 again.
        await Gc.CreateRunAsync(NewRun("old"));
        await Gc.AddRunItemsAsync("old", [new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, BlobDigest("new blob"), null, 1)]);
        Assert.Equal([1L], (await Gc.ListRunItemsAsync("old", 0, 10)).Select(item => item.Position));
    }

    // ----- Concurrency -----

    [Fact]
    public async Task DeleteLinks_RacingPushesKeepTheirBlobs()
    {
        const int Images = 40;
        var repository = RepositoryName.Parse("library/race");
        var writes = new List<ManifestWrite>();
        for (var i = 0; i < Images; i++)
        {
            var config = await LinkAsync(repository, $"race config {i}") with { MediaType = MediaTypes.OciConfig };
            var layer = await LinkAsync(repository, $"race layer {i}");
            var manifest = new ParsedManifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = [layer] };
            writes.Add(ManifestWriteFor(repository, manifest, $"race {i}", []));
        }

        // Every link is old enough to delete unless a manifest references its blob by the time the delete runs.
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow();
        var digests = writes.SelectMany(write => write.Manifest.Blobs.Select(blob => blob.Digest)).ToList();

        var pushes = writes.Select(write => Task.Run(async () => await Metadata.PutManifestAsync(write))).ToList();
        var deletes = digests.Chunk(8).Select(batch => Task.Run(async () => await Gc.DeleteUnusedBlobLinksAsync(repository, batch, cutoff))).ToList();
        var results = await Task.WhenAll(pushes);
        var deleted = (await Task.WhenAll(deletes)).SelectMany(batch => batch).Select(link => link.Digest).ToHashSet();

        for (var i = 0; i < Images; i++)
        {
            var write = writes[i];
            if (results[i].Stored)
            {
                foreach (var blob in write.Manifest.Blobs)
                {
                    Assert.Equal(blob.Size, await Metadata.GetBlobLinkAsync(repository, blob.Digest));
                    Assert.DoesNotContain(blob.Digest, deleted);
                }
            }
            else
            {
                Assert.NotEmpty(results[i].MissingBlobs);
                Assert.Null(await Metadata.GetManifestAsync(repository, ManifestReference.ForDigest(write.Digest)));
            }
        }

        // Every link the deletes did not take is still there.
        foreach (var digest in digests.Where(digest => !deleted.Contains(digest)))
        {
            Assert.NotNull(await Metadata.GetBlobLinkAsync(repository, digest));
        }
    }

    /// <summary>Returns a running manual run started at <see cref="Start"/> with every optional field unset.</summary>
    protected static GarbageCollectionRun NewRun(string id) => new()
    {
        Id = id,
        Trigger = GarbageCollectionTrigger.Manual,
        Status = GarbageCollectionStatus.Running,
        StartedAt = Start,
    };

    private static void AssertRun(GarbageCollectionRun expected, GarbageCollectionRun? actual)
    {
        Assert.NotNull(actual);

        // Records compare lists by reference, so the errors are compared on their own.
        Assert.Equal(expected with { Errors = s_noErrors }, actual with { Errors = s_noErrors });
        Assert.Equal(expected.Errors, actual.Errors);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dtr.Gc;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests.GarbageCollection;

/// <summary>
/// Collection runs, one after another, while several clients push images over HTTP: layers shared between images and
/// repositories, blobs sent whole, in chunks or by mount, tags that move, indexes, and deletes of tags and manifests.
/// At the end every manifest that remains must pull with all its blobs.
/// </summary>
public sealed class GcRaceTests
{
    private const string SharedRepository = "race/shared";

    /// <summary>
    /// The errors a push may meet when a run with a zero grace period removes what it just sent. The client then
    /// pushes the image again, as docker and skopeo users do.
    /// </summary>
    private static readonly HashSet<string> RetryableCodes = ["MANIFEST_BLOB_UNKNOWN", "MANIFEST_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "UNAVAILABLE"];

    private static readonly byte[][] SharedLayers = [.. Enumerable.Range(0, 3).Select(i => TestContent.RandomBytes(512, 9000 + i))];

    private readonly ITestOutputHelper _output;

    public GcRaceTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task ZeroGracePeriod_EveryManifestStillPulls()
    {
        await using var factory = CreateFactory("00:00:00");

        var outcome = await RunWorkloadAsync(factory, runs: 300, minImages: 200, clients: 4);

        Assert.Empty(outcome.UnexpectedFailures);
        Assert.True(outcome.ImagesPushed > 0, "No image was pushed while the runs went on.");
        await AssertEveryManifestPullsAsync(factory);
    }

    [Fact]
    public async Task DefaultGracePeriod_NoPushFails()
    {
        await using var factory = CreateFactory(null);

        var outcome = await RunWorkloadAsync(factory, runs: 60, minImages: 100, clients: 4);

        Assert.Empty(outcome.UnexpectedFailures);
        Assert.Empty(outcome.Retries);
        Assert.True(outcome.ImagesPushed > 0, "No image was pushed while the runs went on.");
        await AssertEveryManifestPullsAsync(factory);
    }

    private static RegistryFactory CreateFactory(string? gracePeriod)
    {
        var settings = new Dictionary<string, string?>();
        if (gracePeriod is not null)
        {
            settings["Registry:GarbageCollection:GracePeriod"] = gracePeriod;
        }

        return new RegistryFactory { Settings = settings };
    }

    /// <summary>
    /// Runs collections one after another, at least <paramref name="runs"/> of them and until the clients pushed at least
    /// <paramref name="minImages"/> images, alternating between keeping and removing untagged manifests.
    /// </summary>
    private async Task<WorkloadOutcome> RunWorkloadAsync(RegistryFactory factory, int runs, int minImages, int clients)
    {
        var collector = factory.Services.GetRequiredService<IGarbageCollector>();
        var outcome = new WorkloadOutcome();
        using var stop = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();

        var pushers = Enumerable.Range(0, clients)
            .Select(client => Task.Run(() => PushUntilStoppedAsync(factory, client, outcome, stop.Token)))
            .ToList();
        var runErrors = new List<string>();
        var runCount = 0;
        var pushedAtLastCheck = 0;
        try
        {
            for (var i = 0; i < runs || (outcome.ImagesPushed < minImages && !pushers.All(pusher => pusher.IsCompleted)); i++)
            {
                var run = await collector.RunAsync(new GarbageCollectionRequest { DeleteUntagged = i % 2 == 1 });
                if (run.Status != GarbageCollectionStatus.Completed || run.Errors.Count > 0)
                {
                    runErrors.Add($"run {i}: {run.Status} {string.Join("; ", run.Errors)}");
                }

                outcome.AddRun(run);
                runCount++;

                // With a zero grace period, runs back to back delete each blob before its manifest arrives, so no push
                // would finish. A pause of random length lets pushes end at every point of a run. On a loaded machine
                // pushes slow down, so after 10 runs without a finished push the next pause is long enough for one.
                await Task.Delay(Random.Shared.Next(0, 30));
                if (i % 10 == 9)
                {
                    if (outcome.ImagesPushed == pushedAtLastCheck)
                    {
                        await Task.Delay(TimeSpan.FromMilliseconds(500));
                    }

                    pushedAtLastCheck = outcome.ImagesPushed;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(pushers);
        }

        _output.WriteLine(
            $"{runCount} runs and {outcome.ImagesPushed} image pushes by {clients} clients in {watch.Elapsed.TotalSeconds:F1} s; "
            + $"removed {outcome.ManifestsDeleted} manifests, {outcome.BlobLinksDeleted} links, {outcome.BlobsDeleted} blobs; "
            + $"retries: {string.Join(", ", outcome.Retries.GroupBy(code => code).Select(group => $"{group.Key} {group.Count()}"))}");
        Assert.Empty(runErrors);
        return outcome;
    }

    private static async Task PushUntilStoppedAsync(RegistryFactory factory, int client, WorkloadOutcome outcome, CancellationToken stop)
    {
        using var registry = factory.CreateRegistryClient();
        var ownRepository = $"race/client{client}";
        string? lastDigest = null;
        for (var k = 0; !stop.IsCancellationRequested; k++)
        {
            var repository = k % 2 == 0 ? SharedRepository : ownRepository;
            var other = repository == SharedRepository ? ownRepository : SharedRepository;
            var seed = (client * 1_000_000) + (k * 10);
            var tag = "t" + (k % 3);

            var digest = k % 4 == 3
                ? await PushWithRetriesAsync(outcome, () => PushIndexAsync(registry, repository, other, "multi", seed, k))
                : await PushWithRetriesAsync(outcome, () => PushImageAsync(registry, repository, other, tag, seed, k));
            if (digest is null)
            {
                return;
            }

            outcome.CountImage();

            // Tag and manifest deletes, which a run must not confuse with its own removals. A 404 means another
            // client deleted it first.
            if (k % 5 == 4)
            {
                using var deleteTag = await registry.DeleteAsync($"/v2/{repository}/manifests/t{(k + 1) % 3}");
                CheckDelete(outcome, deleteTag, "tag delete");
            }

            if (k % 7 == 6 && lastDigest is not null)
            {
                using var deleteManifest = await registry.DeleteAsync($"/v2/{ownRepository}/manifests/{lastDigest}");
                CheckDelete(outcome, deleteManifest, "manifest delete");
            }

            if (repository == ownRepository)
            {
                lastDigest = digest;
            }
        }
    }

    private static void CheckDelete(WorkloadOutcome outcome, HttpResponseMessage response, string step)
    {
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.NotFound))
        {
            outcome.Unexpected($"{step} returned {(int)response.StatusCode}");
        }
    }

    /// <summary>Pushes until an attempt succeeds, and returns the manifest digest, or null after an unexpected failure.</summary>
    private static async Task<string?> PushWithRetriesAsync(WorkloadOutcome outcome, Func<Task<string>> push)
    {
        const int MaxAttempts = 50;
        for (var attempt = 1; attempt <= MaxAttempts; attempt++)
        {
            try
            {
                return await push();
            }
            catch (PushFailedException failure) when (failure.Code is not null && RetryableCodes.Contains(failure.Code))
            {
                outcome.Retry(failure.Code);
            }
            catch (PushFailedException failure)
            {
                outcome.Unexpected(failure.Message);
                return null;
            }
        }

        outcome.Unexpected($"a push failed {MaxAttempts} times in a row");
        return null;
    }

    private static async Task<string> PushImageAsync(RegistryClient registry, string repository, string other, string reference, int seed, int iteration)
    {
        var config = TestContent.Json($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        var shared = SharedLayers[iteration % SharedLayers.Length];
        var unique = TestContent.RandomBytes(256, seed);
        await PushBlobAsync(registry, repository, other, config, iteration);
        await PushBlobAsync(registry, repository, other, shared, iteration + 1);
        await PushBlobAsync(registry, repository, other, unique, iteration + 2);

        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, shared), TestContent.Descriptor(TestContent.OciLayer, unique)]);
        await PushManifestAsync(registry, repository, reference, manifest);
        return manifest.Digest;
    }

    private static async Task<string> PushIndexAsync(RegistryClient registry, string repository, string other, string tag, int seed, int iteration)
    {
        var children = new List<TestManifest>();
        for (var child = 1; child <= 2; child++)
        {
            var config = TestContent.Json($$"""{"architecture":"amd64","os":"linux","seed":{{seed + child}}}""");
            var unique = TestContent.RandomBytes(256, seed + child);
            var shared = SharedLayers[(iteration + child) % SharedLayers.Length];
            await PushBlobAsync(registry, repository, other, config, iteration + child);
            await PushBlobAsync(registry, repository, other, shared, iteration);
            await PushBlobAsync(registry, repository, other, unique, iteration + child + 1);
            var manifest = TestContent.OciManifest(
                TestContent.Descriptor(TestContent.OciConfig, config),
                [TestContent.Descriptor(TestContent.OciLayer, shared), TestContent.Descriptor(TestContent.OciLayer, unique)]);
            await PushManifestAsync(registry, repository, manifest.Digest, manifest);
            children.Add(manifest);
        }

        var index = TestContent.OciIndex(children);
        await PushManifestAsync(registry, repository, tag, index);
        return index.Digest;
    }

    /// <summary>
    /// Sends a blob unless the repository already has it: whole in one POST, as one PATCH and a PUT, or by a mount
    /// from <paramref name="other"/> that falls back to an upload, depending on <paramref name="mode"/>.
    /// </summary>
    private static async Task PushBlobAsync(RegistryClient registry, string repository, string other, byte[] content, int mode)
    {
        var digest = TestContent.Sha256(content);
        using (var head = await registry.HeadAsync($"/v2/{repository}/blobs/{digest}"))
        {
            if (head.StatusCode == HttpStatusCode.OK)
            {
                return;
            }
        }

        switch (mode % 3)
        {
            case 0:
            {
                using var post = await registry.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={digest}", Binary(content));
                await ExpectAsync(post, HttpStatusCode.Created, "monolithic upload");
                return;
            }

            case 1:
            {
                using var start = await registry.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/");
                await ExpectAsync(start, HttpStatusCode.Accepted, "upload start");
                using var patch = await registry.SendAsync(HttpMethod.Patch, start.Headers.Location!.ToString(), Binary(content));
                await ExpectAsync(patch, HttpStatusCode.Accepted, "upload chunk");
                using var put = await registry.SendAsync(HttpMethod.Put, WithQuery(patch.Headers.Location!.ToString(), "digest=" + digest));
                await ExpectAsync(put, HttpStatusCode.Created, "upload completion");
                return;
            }

            default:
            {
                using var mount = await registry.SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?mount={digest}&from={other}");
                if (mount.StatusCode == HttpStatusCode.Created)
                {
                    return;
                }

                await ExpectAsync(mount, HttpStatusCode.Accepted, "mount");
                using var put = await registry.SendAsync(HttpMethod.Put, WithQuery(mount.Headers.Location!.ToString(), "digest=" + digest), Binary(content));
                await ExpectAsync(put, HttpStatusCode.Created, "upload completion after a mount fell back");
                return;
            }
        }
    }

    private static async Task PushManifestAsync(RegistryClient registry, string repository, string reference, TestManifest manifest)
    {
        using var response = await registry.PutManifestAsync(repository, reference, manifest.Bytes, manifest.MediaType);
        await ExpectAsync(response, HttpStatusCode.Created, $"manifest push of {reference}");
    }

    private static async Task ExpectAsync(HttpResponseMessage response, HttpStatusCode status, string step)
    {
        if (response.StatusCode == status)
        {
            return;
        }

        var error = await ReadFirstErrorAsync(response);
        var code = error.ValueKind == JsonValueKind.Object ? error.GetProperty("code").GetString() : null;
        throw new PushFailedException(code, $"{step} returned {await DescribeAsync(response)}");
    }

    /// <summary>Pulls every manifest of every repository by digest, with each blob it references, and checks every digest.</summary>
    private static async Task AssertEveryManifestPullsAsync(RegistryFactory factory)
    {
        var store = factory.Services.GetRequiredService<IGarbageCollectionStore>();
        using var registry = factory.CreateRegistryClient();
        var manifestCount = 0;
        foreach (var repository in await store.ListAllRepositoriesAsync(null, 1000))
        {
            var contents = await store.GetRepositoryContentsAsync(repository);
            Assert.NotNull(contents);
            var present = contents.Manifests.Select(manifest => manifest.Digest).ToHashSet();
            foreach (var manifest in contents.Manifests)
            {
                manifestCount++;
                var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{manifest.Digest}");
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(TestContent.OciManifestType));
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(TestContent.OciIndexType));
                using var get = await registry.Http.SendAsync(request);
                Assert.True(get.StatusCode == HttpStatusCode.OK, $"GET manifest {manifest.Digest} of {repository} returned {await DescribeAsync(get)}.");
                Assert.Equal(manifest.Digest.Value, TestContent.Sha256(await get.Content.ReadAsByteArrayAsync()));

                foreach (var blob in manifest.Blobs)
                {
                    using var blobResponse = await registry.GetAsync($"/v2/{repository}/blobs/{blob}");
                    Assert.True(blobResponse.StatusCode == HttpStatusCode.OK, $"Blob {blob} of manifest {manifest.Digest} in {repository} returned {await DescribeAsync(blobResponse)}.");
                    Assert.Equal(blob.Value, TestContent.Sha256(await blobResponse.Content.ReadAsByteArrayAsync()));
                }

                foreach (var child in manifest.Children)
                {
                    Assert.True(present.Contains(child), $"Index {manifest.Digest} in {repository} lists {child}, which the repository no longer has.");
                }
            }
        }

        Assert.True(manifestCount > 0, "No manifest was left to pull.");
    }

    private sealed class PushFailedException(string? code, string message) : Exception(message)
    {
        public string? Code { get; } = code;
    }

    /// <summary>Counts of one workload, written by several pushers at once.</summary>
    private sealed class WorkloadOutcome
    {
        private readonly ConcurrentQueue<string> _retries = new();
        private readonly ConcurrentQueue<string> _unexpected = new();
        private int _imagesPushed;

        public IReadOnlyCollection<string> Retries => _retries;

        public IReadOnlyCollection<string> UnexpectedFailures => _unexpected;

        public int ImagesPushed => _imagesPushed;

        public long ManifestsDeleted { get; private set; }

        public long BlobLinksDeleted { get; private set; }

        public long BlobsDeleted { get; private set; }

        public void Retry(string code) => _retries.Enqueue(code);

        public void Unexpected(string failure) => _unexpected.Enqueue(failure);

        public void CountImage() => Interlocked.Increment(ref _imagesPushed);

        public void AddRun(GarbageCollectionRun run)
        {
            ManifestsDeleted += run.ManifestsDeleted;
            BlobLinksDeleted += run.BlobLinksDeleted;
            BlobsDeleted += run.BlobsDeleted;
        }
    }
}

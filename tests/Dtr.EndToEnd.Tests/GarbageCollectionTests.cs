using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>A sample host of its own with a zero grace period, so a run removes what a test deleted a moment before.</summary>
public sealed class GarbageCollectionRegistryFixture : RegistryFixture
{
    protected override IEnumerable<string> ExtraHostArguments => ["--Registry:GarbageCollection:GracePeriod=00:00:00"];

    // A shared registry would keep garbage for its own grace period, so these tests always start their own host.
    protected override bool AcceptsExternalRegistry => false;
}

/// <summary>Images pushed with skopeo, then deleted and collected through the management API.</summary>
public sealed class GarbageCollectionTests(GarbageCollectionRegistryFixture registry) : IClassFixture<GarbageCollectionRegistryFixture>
{
    private Skopeo Skopeo => registry.Skopeo;

    [Fact]
    public async Task DeletedImage_SharedLayerStays()
    {
        const string repository = "e2e/gc-shared";
        using var work = new TemporaryDirectory();
        var layout = new OciLayoutWriter(work.Combine("layout"));
        var kept = layout.WriteImage(Platform.LinuxAmd64, [(TestImages.BusyboxRootFilesystem(), LayerCompression.Gzip), (UniqueLayer(), LayerCompression.Gzip)]);
        var deleted = layout.WriteImage(Platform.LinuxAmd64, [(TestImages.BusyboxRootFilesystem(), LayerCompression.Gzip), (UniqueLayer(), LayerCompression.Gzip)]);
        Assert.Equal(kept.Layers[0].Digest, deleted.Layers[0].Digest);
        layout.WriteEntryPoint((kept.Manifest, "kept"), (deleted.Manifest, "deleted"));
        await Skopeo.CopyAsync($"oci:{layout.Directory}:kept", Skopeo.Reference(repository, "kept"));
        await Skopeo.CopyAsync($"oci:{layout.Directory}:deleted", Skopeo.Reference(repository, "deleted"));

        await Skopeo.DeleteAsync(Skopeo.Reference(repository, deleted.Manifest.Digest));
        var run = await RunAsync(dryRun: false, deleteUntagged: false);

        Assert.True(run["blobsDeleted"]!.GetValue<long>() >= 2, $"The run removed too few blobs: {run}\n{registry.DescribeRegistry()}");
        await AssertBlobStatusAsync(repository, deleted.Layers[1].Digest, HttpStatusCode.NotFound);
        await AssertBlobStatusAsync(repository, deleted.Config.Digest, HttpStatusCode.NotFound);
        await AssertBlobStatusAsync(repository, kept.Layers[0].Digest, HttpStatusCode.OK);
        var items = await ListItemsAsync(run["id"]!.GetValue<string>(), "blob");
        Assert.Contains(deleted.Layers[1].Digest, items);
        Assert.DoesNotContain(kept.Layers[0].Digest, items);

        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(Skopeo.Reference(repository, "kept"), $"oci:{pulled}:kept");
        SinglePlatformImageTests.AssertLayoutContainsImage(pulled, kept);
    }

    [Fact]
    public async Task TaggedIndex_KeepsItsChildren()
    {
        const string repository = "e2e/gc-index";
        using var work = new TemporaryDirectory();
        var layout = new OciLayoutWriter(work.Combine("layout"));
        var amd64 = layout.WriteImage(Platform.LinuxAmd64, [(TestImages.MarkerFilesystem(Platform.LinuxAmd64), LayerCompression.Gzip)]);
        var arm64 = layout.WriteImage(Platform.LinuxArm64, [(TestImages.MarkerFilesystem(Platform.LinuxArm64), LayerCompression.Gzip)]);
        var index = layout.WriteImageIndex([amd64, arm64]);
        layout.WriteEntryPoint((index, "1"));
        var reference = Skopeo.Reference(repository, "1");
        await Skopeo.CopyAsync($"oci:{layout.Directory}:1", reference, "--all");

        // Only the index is tagged; its children were pushed by digest.
        var run = await RunAsync(dryRun: false, deleteUntagged: true);

        var manifests = await ListItemsAsync(run["id"]!.GetValue<string>(), "manifest");
        Assert.DoesNotContain(amd64.Manifest.Digest, manifests);
        Assert.DoesNotContain(arm64.Manifest.Digest, manifests);
        Assert.DoesNotContain(index.Digest, manifests);
        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(reference, $"oci:{pulled}:1", "--all");
        foreach (var image in new[] { amd64, arm64 })
        {
            var (config, layers) = CopiedImage.ParseManifest(CopiedImage.ReadLayoutBlob(pulled, image.Manifest));
            Assert.Equal(image.Config, config);
            foreach (var layer in layers)
            {
                CopiedImage.AssertBlobFile(CopiedImage.LayoutBlobPath(pulled, layer.Digest), layer);
            }
        }
    }

    [Fact]
    public async Task DryRun_ChangesNothing()
    {
        const string repository = "e2e/gc-dry-run";
        using var work = new TemporaryDirectory();
        var layout = new OciLayoutWriter(work.Combine("layout"));
        var image = layout.WriteImage(Platform.LinuxAmd64, [(UniqueLayer(), LayerCompression.Gzip)]);
        var untagged = layout.WriteImage(Platform.LinuxAmd64, [(UniqueLayer(), LayerCompression.Gzip)]);
        layout.WriteEntryPoint((image.Manifest, "doomed"), (untagged.Manifest, "untagged"));
        await Skopeo.CopyAsync($"oci:{layout.Directory}:doomed", Skopeo.Reference(repository, "doomed"));
        await Skopeo.CopyAsync($"oci:{layout.Directory}:untagged", Skopeo.Reference(repository, "untagged"));
        await Skopeo.DeleteAsync(Skopeo.Reference(repository, image.Manifest.Digest));
        using (var untag = await registry.Http.DeleteAsync($"/v2/{repository}/manifests/untagged"))
        {
            Assert.Equal(HttpStatusCode.Accepted, untag.StatusCode);
        }

        var run = await RunAsync(dryRun: true, deleteUntagged: true);

        Assert.True(run["dryRun"]!.GetValue<bool>());
        var blobs = await ListItemsAsync(run["id"]!.GetValue<string>(), "blob");
        var manifests = await ListItemsAsync(run["id"]!.GetValue<string>(), "manifest");
        Assert.Contains(image.Layers[0].Digest, blobs);
        Assert.Contains(untagged.Manifest.Digest, manifests);
        await AssertBlobStatusAsync(repository, image.Layers[0].Digest, HttpStatusCode.OK);
        await AssertBlobStatusAsync(repository, untagged.Layers[0].Digest, HttpStatusCode.OK);
        var raw = await Skopeo.InspectRawAsync(Skopeo.Reference(repository, untagged.Manifest.Digest));
        Assert.Equal(untagged.Manifest.Digest, Sha256.Of(raw));
    }

    /// <summary>A layer with one file of random bytes, so no other image has it.</summary>
    private static OciLayoutWriter.LayerContent UniqueLayer() =>
        new OciLayoutWriter.LayerContent().AddFile("unique.bin", RandomNumberGenerator.GetBytes(4096));

    /// <summary>Starts a run through the management API, waits for it to end, asserts that it completed and returns it.</summary>
    private async Task<JsonNode> RunAsync(bool dryRun, bool deleteUntagged)
    {
        using var start = await registry.Http.PostAsJsonAsync("/api/v0/gc/runs", new { dryRun, deleteUntagged });
        var started = await ReadJsonAsync(start, HttpStatusCode.Accepted);
        var id = started["id"]!.GetValue<string>();

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            using var response = await registry.Http.GetAsync($"/api/v0/gc/runs/{id}");
            var run = await ReadJsonAsync(response, HttpStatusCode.OK);
            var status = run["status"]!.GetValue<string>();
            if (status != "running")
            {
                Assert.True(status == "completed", $"The run ended as {run}\n{registry.DescribeRegistry()}");
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The run {id} was still running after 2 minutes.\n{registry.DescribeRegistry()}");
            await Task.Delay(100);
        }
    }

    /// <summary>Returns the digests of a run's items of one kind.</summary>
    private async Task<List<string>> ListItemsAsync(string runId, string kind)
    {
        using var response = await registry.Http.GetAsync($"/api/v0/gc/runs/{runId}/items?kind={kind}");
        var page = await ReadJsonAsync(response, HttpStatusCode.OK);
        return page["items"]!.AsArray().Select(item => item!["digest"]!.GetValue<string>()).ToList();
    }

    private async Task AssertBlobStatusAsync(string repository, string digest, HttpStatusCode expected)
    {
        using var response = await registry.Http.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.True(response.StatusCode == expected, $"GET blob {digest} of {repository} returned {(int)response.StatusCode}; expected {(int)expected}.");
    }

    private async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} returned {(int)response.StatusCode} {body}\n{registry.DescribeRegistry()}");
        return JsonNode.Parse(body)!;
    }
}

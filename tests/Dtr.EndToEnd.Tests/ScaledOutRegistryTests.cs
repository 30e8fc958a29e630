using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Two sample hosts with authentication off that share PostgreSQL and an S3 bucket: whatever one host stores, the
/// other serves at once, and requests of one upload may go to either host.
/// </summary>
[Collection(ScaledOutRegistryCollection.Name)]
public sealed class ScaledOutRegistryTests(ScaledOutRegistryFixture fixture)
{
    // Larger than 5 MiB, so the S3 store commits the blob with a multipart upload rather than one PutObject.
    private const int LargeBlobBytes = 6 * 1024 * 1024 + 4321;

    private readonly ScaledOutRequests _requests = new(fixture);

    private ScaledOutHost HostA => fixture.OpenA;
    private ScaledOutHost HostB => fixture.OpenB;

    [Fact]
    public async Task Skopeo_PushToA_PullFromB()
    {
        using var work = new TemporaryDirectory();
        var layoutDirectory = work.Combine("layout");
        var layout = new OciLayoutWriter(layoutDirectory);
        var randomLayer = new OciLayoutWriter.LayerContent()
            .AddDirectory("data")
            .AddFile("data/random.bin", RandomNumberGenerator.GetBytes(LargeBlobBytes));
        var image = layout.WriteImage(
            Platform.LinuxAmd64,
            [
                (TestImages.BusyboxRootFilesystem(), LayerCompression.Gzip),
                (randomLayer, LayerCompression.GzipFastest),
                (TestImages.MarkerFilesystem(Platform.LinuxAmd64), LayerCompression.Gzip),
            ]);
        layout.WriteEntryPoint((image.Manifest, "1"));
        Assert.True(image.Layers[1].Size > LargeBlobBytes, $"The random layer has {image.Layers[1].Size} bytes; expected more than {LargeBlobBytes}.");

        await HostA.Skopeo.CopyAsync($"oci:{layoutDirectory}:1", HostA.Skopeo.Reference("e2e/scaled-image", "1"));

        var throughB = HostB.Skopeo.Reference("e2e/scaled-image", "1");
        var raw = await HostB.Skopeo.InspectRawAsync(throughB);
        Assert.True(Sha256.Of(raw) == image.Manifest.Digest,
            $"Host B serves a manifest with digest {Sha256.Of(raw)} for {throughB}; host A received {image.Manifest.Digest}.\n{fixture.DescribeHosts()}");

        var pulled = work.Combine("pulled");
        await HostB.Skopeo.CopyAsync(throughB, $"oci:{pulled}:1");
        SinglePlatformImageTests.AssertLayoutContainsImage(pulled, image);
    }

    [Fact]
    public async Task ChunkedUpload_AlternatesHosts()
    {
        const string repository = "e2e/scaled-chunked";
        const int chunkBytes = 1024 * 1024 + 17;
        var content = RandomNumberGenerator.GetBytes(LargeBlobBytes);
        var digest = Sha256.Of(content);
        ScaledOutHost[] hosts = [HostA, HostB];

        // Every PATCH goes to the host that did not receive the previous request, and after each one the other host
        // reports the same received range.
        var location = await _requests.StartUploadAsync(HostA, repository);
        var requestCount = 1;
        for (var offset = 0; offset < content.Length; offset += chunkBytes)
        {
            var host = hosts[requestCount % 2];
            var other = hosts[(requestCount + 1) % 2];
            var chunk = content.AsMemory(offset, Math.Min(chunkBytes, content.Length - offset));

            location = await _requests.PatchChunkAsync(host, location, chunk, offset);
            requestCount++;

            var range = await _requests.GetUploadRangeAsync(other, location);
            Assert.True(range == $"0-{offset + chunk.Length - 1}",
                $"After {host.Name} received bytes up to {offset + chunk.Length - 1}, {other.Name} reports Range {range}.\n{fixture.DescribeHosts()}");
        }

        var completingHost = hosts[requestCount % 2];
        using (var completion = await _requests.CompleteUploadAsync(completingHost, location, digest))
        {
            await _requests.AssertStatusAsync(completion, HttpStatusCode.Created, completingHost, $"PUT {location}&digest={digest}");
            Assert.Equal(digest, completion.Headers.GetValues("Docker-Content-Digest").Single());
        }

        foreach (var host in hosts)
        {
            var stored = await _requests.GetBlobAsync(host, repository, digest);
            Assert.True(stored.Length == content.Length, $"{host.Name} returned {stored.Length} bytes of {digest}; expected {content.Length}.");
            Assert.True(Sha256.Of(stored) == digest, $"{host.Name} returned content with digest {Sha256.Of(stored)} for blob {digest}.");
        }
    }

    [Fact]
    public async Task Tag_VisibleAtOnceOnOtherHost()
    {
        const string repository = "e2e/scaled-tags";

        var first = await _requests.PushImageAsync(HostA, repository, "latest", Encoding.UTF8.GetBytes("first layer"));

        Assert.Contains("latest", await _requests.ListTagsAsync(HostB, repository));
        var onB = await _requests.GetManifestAsync(HostB, repository, "latest");
        Assert.Equal(HttpStatusCode.OK, onB.Status);
        Assert.Equal(first, onB.Digest);

        // Moving the tag through host B is just as visible through host A.
        var second = await _requests.PushImageAsync(HostB, repository, "latest", Encoding.UTF8.GetBytes("second layer"));

        var onA = await _requests.GetManifestAsync(HostA, repository, "latest");
        Assert.Equal(HttpStatusCode.OK, onA.Status);
        Assert.Equal(second, onA.Digest);
    }

    [Fact]
    public async Task SameBlob_ConcurrentCommits_StoredOnce()
    {
        const string repository = "e2e/scaled-same-blob";
        var content = RandomNumberGenerator.GetBytes(LargeBlobBytes);
        var digest = Sha256.Of(content);

        var locationA = await _requests.StartUploadAsync(HostA, repository);
        var locationB = await _requests.StartUploadAsync(HostB, repository);
        var patched = await Task.WhenAll(
            _requests.PatchChunkAsync(HostA, locationA, content, 0),
            _requests.PatchChunkAsync(HostB, locationB, content, 0));
        string[] uploadIds = [UploadId(patched[0]), UploadId(patched[1])];

        // The upload ids name the uploads' objects in the bucket, so the check for leftovers below can find them.
        var keysBeforeCommit = await fixture.ListObjectKeysAsync(ScaledOutRegistryFixture.OpenPrefix + "/uploads/");
        foreach (var uploadId in uploadIds)
        {
            Assert.True(keysBeforeCommit.Any(key => key.Contains(uploadId, StringComparison.Ordinal)),
                $"No object under {ScaledOutRegistryFixture.OpenPrefix}/uploads/ names upload {uploadId}: [{string.Join(", ", keysBeforeCommit)}].");
        }

        // Both completions are sent before either response arrives, so the two commits of one digest overlap.
        var completions = await Task.WhenAll(
            _requests.CompleteUploadAsync(HostA, patched[0], digest),
            _requests.CompleteUploadAsync(HostB, patched[1], digest));
        try
        {
            await _requests.AssertStatusAsync(completions[0], HttpStatusCode.Created, HostA, $"PUT {patched[0]}&digest={digest}");
            await _requests.AssertStatusAsync(completions[1], HttpStatusCode.Created, HostB, $"PUT {patched[1]}&digest={digest}");
        }
        finally
        {
            completions[0].Dispose();
            completions[1].Dispose();
        }

        var keys = await fixture.ListObjectKeysAsync(ScaledOutRegistryFixture.OpenPrefix + "/");
        var hex = digest["sha256:".Length..];
        var blobObjects = keys.Where(key => key.Contains(hex, StringComparison.Ordinal)).ToList();
        Assert.True(blobObjects.Count == 1,
            $"The bucket holds {blobObjects.Count} objects for {digest}; expected exactly one: [{string.Join(", ", blobObjects)}].");

        foreach (var uploadId in uploadIds)
        {
            var leftovers = keys.Where(key => key.Contains(uploadId, StringComparison.Ordinal)).ToList();
            Assert.True(leftovers.Count == 0, $"Upload {uploadId} left objects in the bucket after its commit: [{string.Join(", ", leftovers)}].");
        }

        Assert.True(Sha256.Of(await _requests.GetBlobAsync(HostA, repository, digest)) == digest, $"Host A returned other content for {digest}.");
        Assert.True(Sha256.Of(await _requests.GetBlobAsync(HostB, repository, digest)) == digest, $"Host B returned other content for {digest}.");
    }

    [Fact]
    public async Task ManifestDelete_OnA_SeenOnB()
    {
        const string repository = "e2e/scaled-delete";
        var digest = await _requests.PushImageAsync(HostB, repository, "doomed", Encoding.UTF8.GetBytes("layer of a deleted image"));
        var beforeDelete = await _requests.GetManifestAsync(HostB, repository, digest);
        Assert.Equal(HttpStatusCode.OK, beforeDelete.Status);

        using (var delete = await ScaledOutRequests.SendAsync(HostA, HttpMethod.Delete, $"/v2/{repository}/manifests/{digest}", token: null))
        {
            await _requests.AssertStatusAsync(delete, HttpStatusCode.Accepted, HostA, $"DELETE /v2/{repository}/manifests/{digest}");
        }

        var byDigest = await _requests.GetManifestAsync(HostB, repository, digest);
        Assert.Equal(HttpStatusCode.NotFound, byDigest.Status);
        var byTag = await _requests.GetManifestAsync(HostB, repository, "doomed");
        Assert.Equal(HttpStatusCode.NotFound, byTag.Status);
    }

    /// <summary>Returns the upload id in an upload location such as <c>/v2/name/blobs/uploads/&lt;id&gt;?…</c>.</summary>
    private static string UploadId(string location)
    {
        var path = location.Split('?')[0];
        return path[(path.LastIndexOf('/') + 1)..];
    }
}

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class TagListingTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public TagListingTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Tags_ImageAndIndexDetails()
    {
        var owner = UniqueName("tagger");
        await _admin.CreateUserAsync(owner);
        await _admin.CreateRepositoryAsync(owner, "tools/app");
        var repository = RepositoryName.Parse($"{owner}/tools/app");

        var amd64Config = TestContent.Json("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}""");
        var arm64Config = TestContent.Json("""{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{"type":"layers","diff_ids":[]}}""");
        var amd64Layer = TestContent.RandomBytes(300, 1);
        var arm64Layer = TestContent.RandomBytes(500, 2);
        var amd64 = await StoreImageAsync(repository, amd64Config, amd64Layer, ["1.0", "latest"]);
        var arm64 = await StoreImageAsync(repository, arm64Config, arm64Layer, []);
        var index = await StoreIndexAsync(repository, [(amd64, "amd64", null), (arm64, "arm64", "v8")], "multi");

        using var response = await _admin.GetAsync($"/repositories/{owner}/tools/app/tags");

        var tags = (await ReadJsonAsync(response)).GetProperty("tags").EnumerateArray().ToList();
        Assert.Equal(["1.0", "latest", "multi"], tags.Select(t => t.GetProperty("tag").GetString()));
        var image = tags[0];
        Assert.Equal(amd64.Digest, image.GetProperty("digest").GetString());
        Assert.Equal(TestContent.OciManifestType, image.GetProperty("mediaType").GetString());
        Assert.Equal(amd64.Bytes.Length + amd64Config.Length + amd64Layer.Length, image.GetProperty("size").GetInt64());
        Assert.Equal(["linux/amd64"], image.GetProperty("platforms").EnumerateArray().Select(p => p.GetString()));
        Assert.True(image.GetProperty("pushedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var multi = tags[2];
        Assert.Equal(index.Digest, multi.GetProperty("digest").GetString());
        Assert.Equal(TestContent.OciIndexType, multi.GetProperty("mediaType").GetString());
        // Every entry counts towards the size, the attestation entry (which repeats the amd64 descriptor) included.
        Assert.Equal(index.Bytes.Length + amd64.Bytes.Length + arm64.Bytes.Length + amd64.Bytes.Length, multi.GetProperty("size").GetInt64());
        Assert.Equal(["linux/amd64", "linux/arm64/v8"], multi.GetProperty("platforms").EnumerateArray().Select(p => p.GetString()));
    }

    [Fact]
    public async Task Tags_SingleComponentRouteAndPaging()
    {
        var owner = UniqueName("pager");
        await _admin.CreateUserAsync(owner);
        await _admin.CreateRepositoryAsync(owner, "app");
        var repository = RepositoryName.Parse($"{owner}/app");
        await StoreImageAsync(repository, TestContent.Json("""{"architecture":"amd64","os":"linux"}"""), TestContent.RandomBytes(10, 3), ["a", "b", "c"]);

        using var first = await _admin.GetAsync($"/repositories/{owner}/app/tags?n=2");
        using var second = await _admin.GetAsync($"/repositories/{owner}/app/tags?n=2&last=b");

        Assert.Equal(["a", "b"], NamesIn(await ReadJsonAsync(first), "tags", "tag"));
        Assert.Equal($"<{Prefix}/repositories/{owner}/app/tags?n=2&last=b>; rel=\"next\"", RegistryClient.Header(first, "Link"));
        Assert.Equal(["c"], NamesIn(await ReadJsonAsync(second), "tags", "tag"));
    }

    [Fact]
    public async Task Tags_EmptyRepositoryAndAccess()
    {
        var owner = UniqueName("empty");
        var outsider = UniqueName("outsider");
        await _admin.CreateUserAsync(owner);
        await _admin.CreateUserAsync(outsider);
        await _admin.CreateRepositoryAsync(owner, "app");
        using var outsiderClient = _factory.CreateManagementClient(outsider, PasswordOf(outsider));

        using var empty = await _admin.GetAsync($"/repositories/{owner}/app/tags");
        using var hidden = await outsiderClient.GetAsync($"/repositories/{owner}/app/tags");
        using var missing = await _admin.GetAsync($"/repositories/{owner}/nothing/tags");

        Assert.Empty((await ReadJsonAsync(empty)).GetProperty("tags").EnumerateArray());
        await AssertProblemAsync(hidden, HttpStatusCode.NotFound);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    /// <summary>Stores a config, a layer and an image manifest straight into the registry's storage.</summary>
    private async Task<TestManifest> StoreImageAsync(RepositoryName repository, byte[] config, byte[] layer, IReadOnlyList<string> tags)
    {
        await StoreBlobAsync(repository, config);
        await StoreBlobAsync(repository, layer);
        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);
        await StoreManifestAsync(repository, manifest, tags);
        return manifest;
    }

    private async Task<TestManifest> StoreIndexAsync(RepositoryName repository, IReadOnlyList<(TestManifest Manifest, string Architecture, string? Variant)> children, string tag)
    {
        var entries = new JsonArray();
        foreach (var (manifest, architecture, variant) in children)
        {
            var platform = new JsonObject { ["architecture"] = architecture, ["os"] = "linux" };
            if (variant is not null)
            {
                platform["variant"] = variant;
            }

            var descriptor = manifest.Descriptor();
            descriptor["platform"] = platform;
            entries.Add(descriptor);
        }

        // An attestation entry as BuildKit writes it, which the listing leaves out of the platforms.
        var attestation = children[0].Manifest.Descriptor();
        attestation["platform"] = new JsonObject { ["architecture"] = "unknown", ["os"] = "unknown" };
        entries.Add(attestation);

        var root = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = TestContent.OciIndexType, ["manifests"] = entries };
        var bytes = JsonSerializer.SerializeToUtf8Bytes(root);
        var index = new TestManifest(bytes, TestContent.OciIndexType, TestContent.Sha256(bytes));
        await StoreManifestAsync(repository, index, [tag]);
        return index;
    }

    private async Task StoreBlobAsync(RepositoryName repository, byte[] content)
    {
        var blobs = _factory.Services.GetRequiredService<IBlobStore>();
        var metadata = _factory.Services.GetRequiredService<IMetadataStore>();
        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        var digest = Digest.Parse(TestContent.Sha256(content));
        await blobs.CommitUploadAsync(uploadId, digest);
        await metadata.LinkBlobAsync(repository, digest, content.Length);
    }

    private async Task StoreManifestAsync(RepositoryName repository, TestManifest manifest, IReadOnlyList<string> tags)
    {
        var metadata = _factory.Services.GetRequiredService<IMetadataStore>();
        var result = await metadata.PutManifestAsync(new ManifestWrite
        {
            Repository = repository,
            Digest = Digest.Parse(manifest.Digest),
            Content = manifest.Bytes,
            Manifest = ManifestParser.Parse(manifest.Bytes, manifest.MediaType),
            Tags = tags,
        });
        Assert.True(result.Stored, $"Storing manifest {manifest.Digest} in {repository} failed.");
    }
}

using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>The management host with tag and manifest deletes turned off.</summary>
public sealed class DeletesDisabledManagementFactory : ManagementFactory
{
    public DeletesDisabledManagementFactory()
        : base(new Dictionary<string, string?> { ["Registry:Admin:Password"] = AdminPassword, ["Registry:DeleteEnabled"] = "false" })
    {
    }
}

public sealed class ImageEndpointTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public ImageEndpointTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private IMetadataStore Metadata => _factory.Services.GetRequiredService<IMetadataStore>();

    /// <summary>Creates a user and a repository in their namespace, and returns both names.</summary>
    private async Task<(string Owner, RepositoryName Repository)> NewRepositoryAsync(string name, string visibility = "private")
    {
        var owner = UniqueName("owner");
        await _admin.CreateUserAsync(owner);
        await _admin.CreateRepositoryAsync(owner, name, visibility);
        return (owner, RepositoryName.Parse($"{owner}/{name}"));
    }

    private Task<TestManifest> StoreImageAsync(RepositoryName repository, int seed, params string[] tags) =>
        StoredContent.StoreImageAsync(
            _factory,
            repository,
            TestContent.Json($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}"""),
            [TestContent.RandomBytes(40, seed)],
            tags);

    private async Task<StoredManifest?> GetAsync(RepositoryName repository, ManifestReference reference) =>
        await Metadata.GetManifestAsync(repository, reference);

    [Fact]
    public async Task DeleteTag_LeavesManifest()
    {
        var (owner, repository) = await NewRepositoryAsync("app");
        var image = await StoreImageAsync(repository, 1, "v1", "latest");

        using var deleted = await _admin.DeleteAsync($"/repositories/{owner}/app/tags/v1");
        using var again = await _admin.DeleteAsync($"/repositories/{owner}/app/tags/v1");

        await AssertStatusAsync(deleted, HttpStatusCode.NoContent, "deleting the tag");
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
        Assert.Null(await GetAsync(repository, ManifestReference.ForTag("v1")));
        Assert.Equal(image.Digest, (await GetAsync(repository, ManifestReference.ForTag("latest")))?.Digest.Value);
        Assert.NotNull(await GetAsync(repository, ManifestReference.ForDigest(Digest.Parse(image.Digest))));
    }

    [Fact]
    public async Task DeleteManifest_RemovesItsTags()
    {
        var (owner, repository) = await NewRepositoryAsync("app");
        var image = await StoreImageAsync(repository, 2, "v1", "latest");
        var other = await StoreImageAsync(repository, 3, "v2");

        using var deleted = await _admin.DeleteAsync($"/repositories/{owner}/app/manifests/{image.Digest}");
        using var again = await _admin.DeleteAsync($"/repositories/{owner}/app/manifests/{image.Digest}");

        await AssertStatusAsync(deleted, HttpStatusCode.NoContent, "deleting the manifest");
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
        Assert.Null(await GetAsync(repository, ManifestReference.ForDigest(Digest.Parse(image.Digest))));
        Assert.Null(await GetAsync(repository, ManifestReference.ForTag("v1")));
        Assert.Null(await GetAsync(repository, ManifestReference.ForTag("latest")));
        Assert.Equal(other.Digest, (await GetAsync(repository, ManifestReference.ForTag("v2")))?.Digest.Value);
    }

    [Fact]
    public async Task Delete_MultiComponentRepository()
    {
        var (owner, repository) = await NewRepositoryAsync("tools/app");
        var image = await StoreImageAsync(repository, 4, "v1", "v2");

        using var tag = await _admin.DeleteAsync($"/repositories/{owner}/tools/app/tags/v1");
        using var manifest = await _admin.DeleteAsync($"/repositories/{owner}/tools/app/manifests/{image.Digest}");

        await AssertStatusAsync(tag, HttpStatusCode.NoContent, "deleting the tag");
        await AssertStatusAsync(manifest, HttpStatusCode.NoContent, "deleting the manifest");
        Assert.Null(await GetAsync(repository, ManifestReference.ForTag("v2")));
        Assert.True(await Metadata.RepositoryExistsAsync(repository));
    }

    [Fact]
    public async Task Delete_UnknownOrInvalidInput()
    {
        var (owner, repository) = await NewRepositoryAsync("app");
        await StoreImageAsync(repository, 5, "v1");
        var missingDigest = TestContent.Sha256(TestContent.RandomBytes(10, 99));

        using var unknownTag = await _admin.DeleteAsync($"/repositories/{owner}/app/tags/nope");
        using var unknownRepository = await _admin.DeleteAsync($"/repositories/{owner}/missing/tags/v1");
        using var unknownDigest = await _admin.DeleteAsync($"/repositories/{owner}/app/manifests/{missingDigest}");
        using var invalidTag = await _admin.DeleteAsync($"/repositories/{owner}/app/tags/-bad");
        using var invalidDigest = await _admin.DeleteAsync($"/repositories/{owner}/app/manifests/sha256:abc");

        await AssertProblemAsync(unknownTag, HttpStatusCode.NotFound);
        await AssertProblemAsync(unknownRepository, HttpStatusCode.NotFound);
        await AssertProblemAsync(unknownDigest, HttpStatusCode.NotFound);
        var tagProblem = await AssertProblemAsync(invalidTag, HttpStatusCode.BadRequest);
        Assert.True(tagProblem.GetProperty("errors").TryGetProperty("tag", out _));
        var digestProblem = await AssertProblemAsync(invalidDigest, HttpStatusCode.BadRequest);
        Assert.True(digestProblem.GetProperty("errors").TryGetProperty("digest", out _));
        Assert.NotNull(await GetAsync(repository, ManifestReference.ForTag("v1")));
    }

    [Fact]
    public async Task Delete_NeedsReadWriteAccess()
    {
        var (owner, repository) = await NewRepositoryAsync("app", "public");
        var hiddenOwner = await NewRepositoryAsync("hidden");
        var image = await StoreImageAsync(repository, 6, "v1");
        await StoreImageAsync(hiddenOwner.Repository, 7, "v1");
        var reader = UniqueName("reader");
        await _admin.CreateUserAsync(reader);
        using var client = _factory.CreateManagementClient(reader, PasswordOf(reader));
        using var repositoryOwner = _factory.CreateManagementClient(owner, PasswordOf(owner));

        using var tagByReader = await client.DeleteAsync($"/repositories/{owner}/app/tags/v1");
        using var manifestByReader = await client.DeleteAsync($"/repositories/{owner}/app/manifests/{image.Digest}");
        using var hidden = await client.DeleteAsync($"/repositories/{hiddenOwner.Owner}/hidden/tags/v1");
        using var byOwner = await repositoryOwner.DeleteAsync($"/repositories/{owner}/app/tags/v1");

        await AssertProblemAsync(tagByReader, HttpStatusCode.Forbidden);
        await AssertProblemAsync(manifestByReader, HttpStatusCode.Forbidden);
        await AssertProblemAsync(hidden, HttpStatusCode.NotFound);
        Assert.NotNull(await GetAsync(hiddenOwner.Repository, ManifestReference.ForTag("v1")));
        await AssertStatusAsync(byOwner, HttpStatusCode.NoContent, "deleting the tag as the owner");
    }

    [Fact]
    public async Task Delete_ImmutableTagsConflict()
    {
        var owner = UniqueName("owner");
        await _admin.CreateUserAsync(owner);
        using (var created = await _admin.PostAsync($"/repositories/{owner}", new { name = "app", immutableTags = true }))
        {
            await AssertStatusAsync(created, HttpStatusCode.Created, "creating the repository");
        }

        var repository = RepositoryName.Parse($"{owner}/app");
        var image = await StoreImageAsync(repository, 8, "v1");

        using var tag = await _admin.DeleteAsync($"/repositories/{owner}/app/tags/v1");
        using var manifest = await _admin.DeleteAsync($"/repositories/{owner}/app/manifests/{image.Digest}");

        var tagProblem = await AssertProblemAsync(tag, HttpStatusCode.Conflict);
        Assert.Contains("immutable", tagProblem.GetProperty("detail").GetString(), StringComparison.OrdinalIgnoreCase);
        await AssertProblemAsync(manifest, HttpStatusCode.Conflict);
        Assert.Equal(image.Digest, (await GetAsync(repository, ManifestReference.ForTag("v1")))?.Digest.Value);
    }

    [Fact]
    public async Task Details_ImageWithHistory()
    {
        var (owner, repository) = await NewRepositoryAsync("tools/app");
        var config = TestContent.Json("""
            {"architecture":"arm64","os":"linux","variant":"v8","created":"2024-05-06T07:08:09Z",
             "history":[
               {"created_by":"/bin/sh -c #(nop) ADD file:base in /"},
               {"created_by":"/bin/sh -c #(nop) ENV PATH=/usr/bin","empty_layer":true},
               {"created_by":"RUN apt-get install -y curl"}],
             "rootfs":{"type":"layers","diff_ids":[]}}
            """);
        byte[][] layers = [TestContent.RandomBytes(300, 10), TestContent.RandomBytes(500, 11)];
        var image = await StoredContent.StoreImageAsync(_factory, repository, config, layers, ["latest", "1.0"]);

        using var response = await _admin.GetAsync($"/repositories/{owner}/tools/app/manifests/{image.Digest}");

        var details = await ReadJsonAsync(response);
        Assert.Equal(image.Digest, details.GetProperty("digest").GetString());
        Assert.Equal(TestContent.OciManifestType, details.GetProperty("mediaType").GetString());
        Assert.Equal(image.Bytes.Length + config.Length + 300 + 500, details.GetProperty("size").GetInt64());
        Assert.Equal(["1.0", "latest"], details.GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()));
        Assert.Equal(TestContent.Sha256(config), details.GetProperty("configDigest").GetString());
        Assert.Equal("linux", details.GetProperty("platform").GetProperty("os").GetString());
        Assert.Equal("arm64", details.GetProperty("platform").GetProperty("architecture").GetString());
        Assert.Equal("v8", details.GetProperty("platform").GetProperty("variant").GetString());
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero), details.GetProperty("created").GetDateTimeOffset());
        Assert.Empty(details.GetProperty("manifests").EnumerateArray());
        var layerList = details.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal([TestContent.Sha256(layers[0]), TestContent.Sha256(layers[1])], layerList.Select(layer => layer.GetProperty("digest").GetString()));
        Assert.Equal([300L, 500L], layerList.Select(layer => layer.GetProperty("size").GetInt64()));
        Assert.All(layerList, layer => Assert.Equal(TestContent.OciLayer, layer.GetProperty("mediaType").GetString()));
        Assert.Equal("/bin/sh -c #(nop) ADD file:base in /", layerList[0].GetProperty("createdBy").GetString());
        Assert.Equal("RUN apt-get install -y curl", layerList[1].GetProperty("createdBy").GetString());
    }

    [Fact]
    public async Task Details_HistoryMismatchLeavesStepsOut()
    {
        var (owner, repository) = await NewRepositoryAsync("app");
        var config = TestContent.Json("""{"architecture":"amd64","os":"linux","history":[{"created_by":"only one step"}]}""");
        var image = await StoredContent.StoreImageAsync(_factory, repository, config, [TestContent.RandomBytes(20, 12), TestContent.RandomBytes(20, 13)], []);

        using var response = await _admin.GetAsync($"/repositories/{owner}/app/manifests/{image.Digest}");

        var details = await ReadJsonAsync(response);
        Assert.Empty(details.GetProperty("tags").EnumerateArray());
        Assert.Equal(JsonValueKind.Null, details.GetProperty("created").ValueKind);
        Assert.Equal(JsonValueKind.Null, details.GetProperty("platform").GetProperty("variant").ValueKind);
        Assert.All(details.GetProperty("layers").EnumerateArray(), layer => Assert.Equal(JsonValueKind.Null, layer.GetProperty("createdBy").ValueKind));
    }

    [Fact]
    public async Task Details_IndexListsChildren()
    {
        var (owner, repository) = await NewRepositoryAsync("multi");
        var amd64 = await StoreImageAsync(repository, 14);
        var arm64 = await StoreImageAsync(repository, 15);
        var entries = new JsonArray();
        foreach (var (child, architecture, variant) in new[] { (amd64, "amd64", (string?)null), (arm64, "arm64", "v8") })
        {
            var descriptor = child.Descriptor();
            var platform = new JsonObject { ["architecture"] = architecture, ["os"] = "linux" };
            if (variant is not null)
            {
                platform["variant"] = variant;
            }

            descriptor["platform"] = platform;
            entries.Add(descriptor);
        }

        var bytes = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = TestContent.OciIndexType, ["manifests"] = entries });
        var index = new TestManifest(bytes, TestContent.OciIndexType, TestContent.Sha256(bytes));
        await StoredContent.StoreManifestAsync(_factory, repository, index, ["multi"]);

        using var response = await _admin.GetAsync($"/repositories/{owner}/multi/manifests/{index.Digest}");

        var details = await ReadJsonAsync(response);
        Assert.Equal(TestContent.OciIndexType, details.GetProperty("mediaType").GetString());
        Assert.Equal(bytes.Length + amd64.Bytes.Length + arm64.Bytes.Length, details.GetProperty("size").GetInt64());
        Assert.Equal(["multi"], details.GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()));
        Assert.Equal(JsonValueKind.Null, details.GetProperty("configDigest").ValueKind);
        Assert.Empty(details.GetProperty("layers").EnumerateArray());
        var children = details.GetProperty("manifests").EnumerateArray().ToList();
        Assert.Equal([amd64.Digest, arm64.Digest], children.Select(child => child.GetProperty("digest").GetString()));
        Assert.Equal([amd64.Bytes.Length, arm64.Bytes.Length], children.Select(child => child.GetProperty("size").GetInt32()));
        Assert.Equal(TestContent.OciManifestType, children[0].GetProperty("mediaType").GetString());
        Assert.Equal("amd64", children[0].GetProperty("platform").GetProperty("architecture").GetString());
        Assert.Equal(JsonValueKind.Null, children[0].GetProperty("platform").GetProperty("variant").ValueKind);
        Assert.Equal("v8", children[1].GetProperty("platform").GetProperty("variant").GetString());
    }

    [Fact]
    public async Task Details_UnknownOrHidden()
    {
        var (owner, repository) = await NewRepositoryAsync("app");
        var image = await StoreImageAsync(repository, 16, "v1");
        var outsider = UniqueName("outsider");
        await _admin.CreateUserAsync(outsider);
        using var client = _factory.CreateManagementClient(outsider, PasswordOf(outsider));
        var missingDigest = TestContent.Sha256(TestContent.RandomBytes(10, 98));

        using var unknown = await _admin.GetAsync($"/repositories/{owner}/app/manifests/{missingDigest}");
        using var unknownNested = await _admin.GetAsync($"/repositories/{owner}/no/such/manifests/{image.Digest}");
        using var hidden = await client.GetAsync($"/repositories/{owner}/app/manifests/{image.Digest}");
        using var invalid = await _admin.GetAsync($"/repositories/{owner}/app/manifests/sha256:xyz");

        await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        await AssertProblemAsync(unknownNested, HttpStatusCode.NotFound);
        await AssertProblemAsync(hidden, HttpStatusCode.NotFound);
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
    }
}

public sealed class DeletesDisabledImageTests : IClassFixture<DeletesDisabledManagementFactory>, IDisposable
{
    private readonly DeletesDisabledManagementFactory _factory;
    private readonly ManagementClient _admin;

    public DeletesDisabledImageTests(DeletesDisabledManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    [Fact]
    public async Task Delete_DisabledIsConflict()
    {
        await _admin.CreateUserAsync("keeper");
        await _admin.CreateRepositoryAsync("keeper", "app");
        var repository = RepositoryName.Parse("keeper/app");
        var image = await StoredContent.StoreImageAsync(_factory, repository, TestContent.Json("""{"architecture":"amd64","os":"linux"}"""), [TestContent.RandomBytes(30, 20)], ["v1"]);

        using var tag = await _admin.DeleteAsync("/repositories/keeper/app/tags/v1");
        using var manifest = await _admin.DeleteAsync($"/repositories/keeper/app/manifests/{image.Digest}");

        var problem = await AssertProblemAsync(tag, HttpStatusCode.Conflict);
        Assert.Contains("DeleteEnabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(manifest, HttpStatusCode.Conflict);
        var metadata = _factory.Services.GetRequiredService<IMetadataStore>();
        Assert.Equal(image.Digest, (await metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))?.Digest.Value);
    }
}

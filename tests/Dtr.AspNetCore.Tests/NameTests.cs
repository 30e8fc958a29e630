using System.Net;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class NameTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public NameTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    public static TheoryData<string> InvalidNames => new()
    {
        "Uppercase",
        "org/Repo",
        "a..b",
        "trailing/",
        "a//b",
        "-leading",
        "trailing-",
        "a___b",
        "under_",
        "a.-b",
        "spa%20ce",
        "a%2Fb",
        new string('a', 256),
    };

    [Theory]
    [MemberData(nameof(InvalidNames))]
    public async Task InvalidName_Returns400NameInvalid(string name)
    {
        using var tags = await _client.GetAsync($"/v2/{name}/tags/list");
        using var upload = await _client.SendAsync(HttpMethod.Post, $"/v2/{name}/blobs/uploads/");
        using var manifest = await _client.GetAsync($"/v2/{name}/manifests/latest");
        using var blob = await _client.GetAsync($"/v2/{name}/blobs/{TestContent.EmptySha256}");

        await AssertErrorAsync(tags, HttpStatusCode.BadRequest, "NAME_INVALID");
        await AssertErrorAsync(upload, HttpStatusCode.BadRequest, "NAME_INVALID");
        await AssertErrorAsync(manifest, HttpStatusCode.BadRequest, "NAME_INVALID");
        await AssertErrorAsync(blob, HttpStatusCode.BadRequest, "NAME_INVALID");
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a/b/c")]
    [InlineData("org/team/project/service/app")]
    [InlineData("my-app_v2.0/x__y")]
    [InlineData("a---b")]
    public async Task ValidName_PushAndPull(string prefix)
    {
        var repository = prefix + "/" + Guid.NewGuid().ToString("N")[..8];
        var manifest = await _client.PushImageAsync(repository, "latest");

        using var get = await _client.GetAsync($"/v2/{repository}/manifests/latest");

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(manifest.Bytes, await get.Content.ReadAsByteArrayAsync());
        Assert.Equal(["latest"], await _client.ListTagsAsync(repository));
    }

    [Fact]
    public async Task NameOf255Characters_IsAccepted()
    {
        var repository = "long/" + new string('a', 250);
        Assert.Equal(255, repository.Length);

        var digest = await _client.PushBlobAsync(repository, TestContent.RandomBytes(4, 1));

        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Theory]
    [InlineData("org/blobs/app")]
    [InlineData("org/manifests/app")]
    [InlineData("blobs/uploads")]
    [InlineData("org/uploads/blobs")]
    [InlineData("tags/list")]
    [InlineData("org/referrers")]
    [InlineData("manifests")]
    public async Task NameWithEndpointWords_Works(string prefix)
    {
        var repository = prefix + "/" + Guid.NewGuid().ToString("N")[..8];

        // Chunked upload exercises the upload session URLs, whose paths are the hardest to split.
        var blob = TestContent.RandomBytes(40, 2);
        var digest = TestContent.Sha256(blob);
        var location = await _client.StartUploadAsync(repository);
        Assert.Contains($"/v2/{repository}/blobs/uploads/", location);
        using var patch = await _client.SendAsync(HttpMethod.Patch, location, Binary(blob), [("Content-Range", "0-39")]);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        using var status = await _client.GetAsync(location);
        Assert.Equal(HttpStatusCode.NoContent, status.StatusCode);
        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.EndsWith($"/v2/{repository}/blobs/{digest}", put.Headers.Location?.ToString());

        var manifest = await _client.PushImageAsync(repository, "v1");
        using var getBlob = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        using var getManifest = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        using var referrers = await _client.GetAsync($"/v2/{repository}/referrers/{manifest.Digest}");

        Assert.Equal(blob, await getBlob.Content.ReadAsByteArrayAsync());
        Assert.Equal(manifest.Bytes, await getManifest.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, referrers.StatusCode);
        Assert.Equal(["v1"], await _client.ListTagsAsync(repository));
    }
}

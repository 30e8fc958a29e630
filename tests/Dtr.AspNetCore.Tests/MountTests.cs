using System.Net;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class MountTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public MountTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task MountFromRepositoryWithBlob_Returns201()
    {
        var source = TestContent.UniqueRepository();
        var target = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(100, 1);
        var digest = await _client.PushBlobAsync(source, blob);

        using var mount = await _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?mount={digest}&from={source}");

        Assert.Equal(HttpStatusCode.Created, mount.StatusCode);
        Assert.EndsWith($"/v2/{target}/blobs/{digest}", mount.Headers.Location?.ToString());
        Assert.Equal(digest, Header(mount, ContentDigestHeader));
        using var get = await _client.GetAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(blob, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MountFromRepositoryWithoutBlob_StartsUpload()
    {
        var source = TestContent.UniqueRepository();
        var target = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(100, 2);
        var digest = TestContent.Sha256(blob);

        // The blob exists in the registry, but not in the repository named by 'from'.
        await _client.PushBlobAsync(TestContent.UniqueRepository(), blob);
        await _client.PushBlobAsync(source, TestContent.RandomBytes(10, 3));

        using var mount = await _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?mount={digest}&from={source}");

        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        var location = mount.Headers.Location?.ToString();
        Assert.NotNull(location);
        Assert.Contains($"/v2/{target}/blobs/uploads/", location);
        using var head = await _client.HeadAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), Binary(blob));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task MountOfDeletedBlob_StartsUpload()
    {
        var source = TestContent.UniqueRepository();
        var target = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(source, TestContent.RandomBytes(100, 5));
        using var delete = await _client.DeleteAsync($"/v2/{source}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var mount = await _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?mount={digest}&from={source}");

        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        using var head = await _client.HeadAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("&from=")]
    [InlineData("&from=Not..Valid")]
    public async Task MountWithoutValidFrom_StartsUpload(string fromParameter)
    {
        var source = TestContent.UniqueRepository();
        var target = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(source, TestContent.RandomBytes(100, 4));

        using var mount = await _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?mount={digest}{fromParameter}");

        Assert.Equal(HttpStatusCode.Accepted, mount.StatusCode);
        Assert.Contains($"/v2/{target}/blobs/uploads/", mount.Headers.Location?.ToString());
    }

    [Fact]
    public async Task MountWithInvalidDigest_Returns400()
    {
        var source = TestContent.UniqueRepository();
        var target = TestContent.UniqueRepository();

        using var mount = await _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?mount=sha256:zz&from={source}");

        await AssertErrorAsync(mount, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }
}

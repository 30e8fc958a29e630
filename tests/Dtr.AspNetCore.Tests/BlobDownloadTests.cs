using System.Net;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class BlobDownloadTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public BlobDownloadTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task Get_ReturnsBytesAndHeaders()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(1234, 1);
        var digest = await _client.PushBlobAsync(repository, blob);

        using var response = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest, Header(response, ContentDigestHeader));
        Assert.Equal("bytes", Header(response, "Accept-Ranges"));
        Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_ReturnsHeadersWithoutBody()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(777, 2);
        var digest = await _client.PushBlobAsync(repository, blob);

        using var response = await _client.HeadAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob.Length, response.Content.Headers.ContentLength);
        Assert.Equal(digest, Header(response, ContentDigestHeader));
        Assert.Equal("bytes", Header(response, "Accept-Ranges"));
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bytes=0-9", 0, 9)]
    [InlineData("bytes=5-", 5, 19)]
    [InlineData("bytes=-3", 17, 19)]
    [InlineData("bytes=15-100", 15, 19)]
    [InlineData("bytes=19-19", 19, 19)]
    public async Task Range_Returns206WithExactBytes(string range, int first, int last)
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(20, 3);
        var digest = await _client.PushBlobAsync(repository, blob);

        using var response = await _client.GetAsync($"/v2/{repository}/blobs/{digest}", ("Range", range));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal($"bytes {first}-{last}/20", Header(response, "Content-Range"));
        Assert.Equal(last - first + 1, response.Content.Headers.ContentLength);
        Assert.Equal(blob[first..(last + 1)], await response.Content.ReadAsByteArrayAsync());
    }

    [Theory]
    [InlineData("bytes=1000-")]
    [InlineData("bytes=10-")]
    [InlineData("bytes=-0")]
    public async Task UnsatisfiableRange_Returns416(string range)
    {
        var repository = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(repository, TestContent.RandomBytes(10, 4));

        using var response = await _client.GetAsync($"/v2/{repository}/blobs/{digest}", ("Range", range));

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */10", Header(response, "Content-Range"));
    }

    [Fact]
    public async Task UnknownBlob_Returns404BlobUnknown()
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushBlobAsync(repository, TestContent.RandomBytes(10, 5));
        var unknown = TestContent.Sha256(TestContent.RandomBytes(10, 6));

        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{unknown}");
        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{unknown}");

        var error = await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        Assert.Contains(unknown, error.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task BlobOfOtherRepository_Returns404()
    {
        var owner = TestContent.UniqueRepository();
        var other = TestContent.UniqueRepository();
        await _client.PushBlobAsync(other, TestContent.RandomBytes(5, 7));
        var digest = await _client.PushBlobAsync(owner, TestContent.RandomBytes(10, 8));

        using var get = await _client.GetAsync($"/v2/{other}/blobs/{digest}");
        using var head = await _client.HeadAsync($"/v2/{other}/blobs/{digest}");
        using var neverUsed = await _client.GetAsync($"/v2/{TestContent.UniqueRepository()}/blobs/{digest}");

        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        await AssertErrorAsync(neverUsed, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task InvalidDigest_Returns400()
    {
        var repository = TestContent.UniqueRepository();

        using var get = await _client.GetAsync($"/v2/{repository}/blobs/sha256:zz");
        using var delete = await _client.DeleteAsync($"/v2/{repository}/blobs/sha256:zz");

        await AssertErrorAsync(get, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        await AssertErrorAsync(delete, HttpStatusCode.BadRequest, "DIGEST_INVALID");
    }

    [Fact]
    public async Task Delete_Returns202ThenNotFound()
    {
        var repository = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(repository, TestContent.RandomBytes(10, 9));

        using var delete = await _client.DeleteAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        using var deleteAgain = await _client.DeleteAsync($"/v2/{repository}/blobs/{digest}");
        await AssertErrorAsync(deleteAgain, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }

    [Fact]
    public async Task Delete_ThenPushAgain_Works()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(10, 11);
        var digest = await _client.PushBlobAsync(repository, blob);
        using var delete = await _client.DeleteAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        await _client.PushBlobAsync(repository, blob);

        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(blob, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Delete_KeepsBlobInOtherRepository()
    {
        var first = TestContent.UniqueRepository();
        var second = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(10, 10);
        var digest = await _client.PushBlobAsync(first, blob);
        await _client.PushBlobAsync(second, blob);

        using var delete = await _client.DeleteAsync($"/v2/{first}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var get = await _client.GetAsync($"/v2/{second}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(blob, await get.Content.ReadAsByteArrayAsync());
    }
}

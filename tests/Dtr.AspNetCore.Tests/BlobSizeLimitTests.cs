using System.Net;
using System.Net.Http.Headers;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

/// <summary>A registry on a real Kestrel server with a 64 KiB blob limit.</summary>
public sealed class SizeLimitedRegistryFactory : KestrelRegistryFactory
{
    public const int MaxBlobBytes = 64 * 1024;

    public SizeLimitedRegistryFactory()
        : base(new Dictionary<string, string?> { ["Registry:MaxBlobBytes"] = "65536" })
    {
    }
}

/// <summary>Uploads over <c>Registry:MaxBlobBytes</c>: rejected with SIZE_INVALID, and the upload is discarded.</summary>
public sealed class BlobSizeLimitTests : IClassFixture<SizeLimitedRegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public BlobSizeLimitTests(SizeLimitedRegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task MonolithicPut_OverLimit_Discarded()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(3 * SizeLimitedRegistryFactory.MaxBlobBytes, 71);
        var location = await _client.StartUploadAsync(repository);

        using var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + TestContent.Sha256(blob)), Octets(blob));
        using var status = await _client.GetAsync(location);

        await AssertErrorAsync(put, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task StreamedPatch_OverLimit_Discarded()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(3 * SizeLimitedRegistryFactory.MaxBlobBytes, 72);
        var location = await _client.StartUploadAsync(repository);

        using var patch = await _client.SendAsync(HttpMethod.Patch, location, Octets(blob));
        using var status = await _client.GetAsync(location);

        await AssertErrorAsync(patch, HttpStatusCode.RequestEntityTooLarge, "SIZE_INVALID");
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task Upload_AfterRejection_Succeeds()
    {
        var repository = TestContent.UniqueRepository();
        var large = TestContent.RandomBytes(3 * SizeLimitedRegistryFactory.MaxBlobBytes, 73);
        var location = await _client.StartUploadAsync(repository);
        using var rejected = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + TestContent.Sha256(large)), Octets(large));

        var small = TestContent.RandomBytes(1000, 74);
        var digest = await _client.PushBlobAsync(repository, small);
        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, rejected.StatusCode);
        Assert.Equal(small, await get.Content.ReadAsByteArrayAsync());
    }

    private static ByteArrayContent Octets(byte[] content)
    {
        var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        return body;
    }
}

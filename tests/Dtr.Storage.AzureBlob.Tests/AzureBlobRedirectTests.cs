using System.Net;
using System.Net.Http.Headers;
using Dtr.Digests;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>Fetches blobs through the SAS URLs of <see cref="IBlobRedirectSource"/> with a plain HTTP client.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobRedirectTests : IDisposable
{
    private readonly AzuriteFixture _server;
    private readonly string _prefix = "redirect-" + Guid.NewGuid().ToString("N");
    private readonly HttpClient _http = new();

    public AzureBlobRedirectTests(AzuriteFixture server)
    {
        _server = server;
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Redirect_RangeRequestReturnsBytes()
    {
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        var content = new byte[100_000];
        new Random(11).NextBytes(content);
        var digest = await CommitAsync(store, content);

        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(5));

        Assert.NotNull(uri);
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Range = new RangeHeaderValue(5_000, 14_999);
        using var response = await _http.SendAsync(request);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[5_000..15_000], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Redirect_WholeBlobWithoutRange()
    {
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        var content = "whole blob through a SAS URL"u8.ToArray();
        var digest = await CommitAsync(store, content);

        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(5));

        using var response = await _http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Redirect_UrlGrantsNoWrite()
    {
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        var content = "must stay unchanged"u8.ToArray();
        var digest = await CommitAsync(store, content);
        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(5));

        using var overwrite = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new ByteArrayContent("replaced"u8.ToArray()) };
        overwrite.Headers.Add("x-ms-blob-type", "BlockBlob");
        using var response = await _http.SendAsync(overwrite);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await using var stored = await store.OpenReadAsync(digest);
        using var copy = new MemoryStream();
        await stored!.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task Redirect_SignatureCoversOneBlob()
    {
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        var first = await CommitAsync(store, "first blob"u8.ToArray());
        var second = await CommitAsync(store, "second blob"u8.ToArray());
        var firstUri = (await store.GetDownloadUriAsync(first, TimeSpan.FromMinutes(5)))!;
        var secondUri = (await store.GetDownloadUriAsync(second, TimeSpan.FromMinutes(5)))!;

        // The first blob's signature on the second blob's path must not be accepted.
        var forged = new UriBuilder(secondUri) { Query = firstUri.Query.TrimStart('?') }.Uri;
        using var response = await _http.GetAsync(forged);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Redirect_PublicEndpointReplacesHost()
    {
        var options = AzuriteStores.CreateOptions(_server, _prefix);
        options.PublicEndpoint = $"http://localhost:{_server.Port}/{AzuriteFixture.AccountName}/";
        var store = AzuriteStores.CreateStore(options);
        var content = "fetched through the public endpoint"u8.ToArray();
        var digest = await CommitAsync(store, content);

        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(5));

        Assert.NotNull(uri);
        Assert.Equal("localhost", uri.Host);
        Assert.StartsWith($"http://localhost:{_server.Port}/{AzuriteFixture.AccountName}/{AzuriteStores.ContainerName}/{_prefix}/blobs/sha256/", uri.AbsoluteUri, StringComparison.Ordinal);
        using var response = await _http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Redirect_NonPositiveLifetimeRejected()
    {
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetDownloadUriAsync(Digest.Compute("x"u8), TimeSpan.Zero));
    }

    private static async Task<Digest> CommitAsync(AzureBlobStore store, byte[] content)
    {
        var digest = Digest.Compute(content);
        var uploadId = Guid.NewGuid().ToString("N");
        await store.CreateUploadAsync(uploadId);
        await using (var writer = await store.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await store.CommitUploadAsync(uploadId, digest);
        return digest;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Dtr.Digests;
using Dtr.Storage.S3.Tests.Support;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Fetches presigned download URLs of the S3 store from s3rver with a plain HttpClient. s3rver 3.7.1 checks a
/// presigned SigV4 URL's parameters, access key and expiry but not its signature, so the tests recompute the
/// signature with <see cref="SigV4QuerySignature"/>.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3RedirectTests : IDisposable
{
    private readonly S3rverFixture _server;
    private readonly HttpClient _http = new();

    public S3RedirectTests(S3rverFixture server)
    {
        _server = server;
    }

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task DownloadUri_FetchesWholeBlob()
    {
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);
        var (digest, content) = await StoreRandomBlobAsync(store, 200_000);

        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(10));

        Assert.NotNull(uri);
        var parameters = SigV4QuerySignature.ParseQuery(uri.Query);
        Assert.Equal(new Uri(_server.ServiceUrl).Authority, uri.Authority);
        Assert.Equal(Uri.UriSchemeHttp, uri.Scheme);
        Assert.Equal("AWS4-HMAC-SHA256", SigV4QuerySignature.GetSingle(parameters, "X-Amz-Algorithm"));
        // The SDK counts the lifetime from X-Amz-Date, which drops the fraction of a second, so it can add one second.
        Assert.InRange(int.Parse(SigV4QuerySignature.GetSingle(parameters, "X-Amz-Expires"), CultureInfo.InvariantCulture), 600, 601);
        Assert.True(SigV4QuerySignature.IsValid(uri, S3rverFixture.SecretKey), $"The signature of {uri} is invalid.");
        using var response = await _http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DownloadUri_ServesRange()
    {
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);
        var (digest, content) = await StoreRandomBlobAsync(store, 50_000);
        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(1));

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var response = await _http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[1000..2000], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes 1000-1999/50000", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task DownloadUri_SignedForPublicEndpoint()
    {
        // localhost reaches the same s3rver by another host name, as a public address would in a deployment.
        var options = S3TestStores.CreateOptions(_server);
        var port = new Uri(_server.ServiceUrl).Port;
        options.PublicServiceUrl = $"http://localhost:{port}";
        using var store = S3TestStores.CreateStore(options);
        var (digest, content) = await StoreRandomBlobAsync(store, 10_000);

        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(1));

        Assert.NotNull(uri);
        Assert.Equal($"localhost:{port}", uri.Authority);
        Assert.True(SigV4QuerySignature.IsValid(uri, S3rverFixture.SecretKey), $"The signature of {uri} is invalid.");
        var internalUri = new UriBuilder(uri) { Host = "127.0.0.1" }.Uri;
        Assert.False(SigV4QuerySignature.IsValid(internalUri, S3rverFixture.SecretKey), "A signature for localhost must not be valid for 127.0.0.1.");
        using var response = await _http.GetAsync(uri);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DownloadUri_ExpiresAfterLifetime()
    {
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);
        var (digest, _) = await StoreRandomBlobAsync(store, 100);
        var uri = await store.GetDownloadUriAsync(digest, TimeSpan.FromSeconds(1));

        // X-Amz-Date has whole seconds, so the URL is expired on every clock reading two seconds later.
        await Task.Delay(TimeSpan.FromSeconds(2.2));
        using var response = await _http.GetAsync(uri);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("AccessDenied", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DownloadUri_MissingBlobNotFound()
    {
        // The store signs without a HeadObject request, so S3 reports the missing object.
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);

        var uri = await store.GetDownloadUriAsync(Digest.Compute("never stored"u8.ToArray()), TimeSpan.FromMinutes(1));
        using var response = await _http.GetAsync(uri);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(7 * 24 * 3600 + 1)]
    public async Task DownloadUri_LifetimeOutOfRangeRejected(int seconds)
    {
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);
        var digest = Digest.Compute("any"u8.ToArray());

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await store.GetDownloadUriAsync(digest, TimeSpan.FromSeconds(seconds)));
    }

    private static async Task<(Digest Digest, byte[] Content)> StoreRandomBlobAsync(S3BlobStore store, int length)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        var digest = Digest.Compute(content);
        await store.CreateUploadAsync("blob");
        await using (var writer = await store.OpenUploadWriterAsync("blob"))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await store.CommitUploadAsync("blob", digest);
        return (digest, content);
    }
}

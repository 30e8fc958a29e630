using System.Net;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class BaseEndpointTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public BaseEndpointTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task VersionCheck_Returns200WithApiVersion()
    {
        using var response = await _client.GetAsync("/v2/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("registry/2.0", Header(response, ApiVersionHeader));
    }

    [Fact]
    public async Task VersionCheck_HeadAndNoSlash_Return200()
    {
        using var head = await _client.HeadAsync("/v2/");
        using var noSlash = await _client.GetAsync("/v2");

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("registry/2.0", Header(head, ApiVersionHeader));
        Assert.Equal(HttpStatusCode.OK, noSlash.StatusCode);
        Assert.Equal("registry/2.0", Header(noSlash, ApiVersionHeader));
    }

    [Fact]
    public async Task ApiVersionHeader_OnErrorResponses()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(10, 7);
        var digest = await _client.PushBlobAsync(repository, blob);

        (HttpMethod Method, string Url, (string, string)[] Headers, HttpStatusCode Status)[] cases =
        [
            (HttpMethod.Get, $"/v2/{repository}/blobs/{TestContent.Sha256([1, 2, 3])}", [], HttpStatusCode.NotFound),
            (HttpMethod.Get, "/v2/Invalid/tags/list", [], HttpStatusCode.BadRequest),
            (HttpMethod.Patch, "/v2/", [], HttpStatusCode.MethodNotAllowed),
            (HttpMethod.Get, $"/v2/{repository}/blobs/{digest}", [("Range", "bytes=1000-")], HttpStatusCode.RequestedRangeNotSatisfiable),
            (HttpMethod.Get, "/v2/no/such/endpoint", [], HttpStatusCode.NotFound),
        ];

        foreach (var (method, url, headers, status) in cases)
        {
            using var response = await _client.SendAsync(method, url, null, headers);
            Assert.True(response.StatusCode == status, $"{method} {url}: expected {(int)status}, got {await DescribeAsync(response)}");
            Assert.True(Header(response, ApiVersionHeader) == "registry/2.0", $"{method} {url} ({(int)status}) lacks {ApiVersionHeader}.");
        }
    }
}

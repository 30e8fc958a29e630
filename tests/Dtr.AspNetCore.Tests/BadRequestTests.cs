using System.Net;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class BadRequestTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public BadRequestTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    public static TheoryData<string, string> Requests => new()
    {
        { "PATCH", "/v2/" },
        { "POST", "/v2/" },
        { "OPTIONS", "/v2/" },
        { "POST", "/v2/x/manifests/latest" },
        { "PATCH", "/v2/x/manifests/latest" },
        { "POST", "/v2/x/tags/list" },
        { "DELETE", "/v2/_catalog" },
        { "PUT", "/v2/x/blobs/uploads/" },
        { "GET", "/v2/x/blobs/uploads/" },
        { "POST", "/v2/x/blobs/" + TestContent.EmptySha256 },
        { "PUT", "/v2/x/referrers/" + TestContent.EmptySha256 },
        { "GET", "/v2/x/blobs/sha256:zz" },
        { "HEAD", "/v2/x/blobs/sha256:zz" },
        { "GET", "/v2/x/blobs/sha256:" },
        { "GET", "/v2/x/blobs/:" },
        { "GET", "/v2/x/blobs/md5:d41d8cd98f00b204e9800998ecf8427e" },
        { "GET", "/v2/x/blobs/sha256:" + new string('a', 5000) },
        { "GET", "/v2/x/manifests/sha256:zz" },
        { "GET", "/v2/x/manifests/" + new string('t', 200) },
        { "GET", "/v2/x/manifests/bad%20tag" },
        { "GET", "/v2/x/referrers/notadigest" },
        { "GET", "/v2/x" },
        { "GET", "/v2/x/" },
        { "GET", "/v2/x/unknown/thing" },
        { "GET", "/v2/x/manifests/" },
        { "GET", "/v2/x/blobs/" },
        { "GET", "/v2//tags/list" },
        { "GET", "/v2/tags/list" },
        { "GET", "/v2/%2F/tags/list" },
        { "GET", "/v2/x%2Fy/tags/list" },
        { "GET", "/v2/x/%2E%2E/tags/list" },
        { "GET", "/v2/x/blobs/uploads/..%2F..%2Fetc" },
        { "GET", "/v2/x/blobs/uploads/" + new string('u', 5000) },
        { "GET", "/v2/" + new string('a', 10_000) + "/tags/list" },
        { "GET", "/v2/" + string.Join('/', Enumerable.Repeat("a", 2000)) + "/tags/list" },
        { "GET", "/v2/x/tags/list?n=99999999999" },
        { "GET", "/v2/x/tags/list?n=1&n=2" },
        { "GET", "/v2/_catalog?n=-5" },
        { "GET", "/v2/x\u00e9/tags/list" },
        { "DELETE", "/v2/x/manifests/not..valid" },
        { "DELETE", "/v2/x/blobs/uploads/" },
        { "PUT", "/v2/x/manifests/sha256:zz" },
    };

    [Theory]
    [MemberData(nameof(Requests))]
    public async Task BadRequest_Returns4xxOciError(string method, string url)
    {
        using var response = await _client.SendAsync(new HttpMethod(method), url);

        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"{method} {url[..Math.Min(url.Length, 100)]} returned {await DescribeAsync(response)}");
        Assert.Equal("registry/2.0", Header(response, ApiVersionHeader));
        if (method != "HEAD")
        {
            var error = await ReadFirstErrorAsync(response);
            Assert.True(error.ValueKind == JsonValueKind.Object, $"{method} {url[..Math.Min(url.Length, 100)]} returned no OCI error body: {await DescribeAsync(response)}");
            Assert.False(string.IsNullOrEmpty(error.GetProperty("code").GetString()));
        }
    }

    public static TheoryData<string, string, string> Bodies => new()
    {
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:zz\",\"size\":1},\"layers\":[]}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" + TestContent.EmptySha256 + "\",\"size\":-1},\"layers\":[]}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"a/b\",\"digest\":\"" + TestContent.EmptySha256 + "\",\"size\":1e400},\"layers\":[]}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"config\":null,\"layers\":null}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":\"2\"}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.index.v1+json", "{\"schemaVersion\":2,\"manifests\":[{}]}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.index.v1+json", "{\"schemaVersion\":2,\"manifests\":{}}" },
        { "/v2/x/manifests/latest", "text/plain", "hello" },
        { "/v2/x/manifests/latest", "application/json", new string('[', 10_000) },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "{\"schemaVersion\":2,\"schemaVersion\":2}" },
        { "/v2/x/manifests/latest", "application/vnd.oci.image.manifest.v1+json", "\u00ff\u00fe" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task BadManifestBody_Returns4xxOciError(string url, string contentType, string body)
    {
        var content = new StringContent(body);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);

        using var response = await _client.SendAsync(HttpMethod.Put, url, content);

        var status = (int)response.StatusCode;
        Assert.True(status is >= 400 and < 500, $"PUT {url} with '{body[..Math.Min(body.Length, 80)]}' returned {await DescribeAsync(response)}");
        var error = await ReadFirstErrorAsync(response);
        Assert.True(error.ValueKind == JsonValueKind.Object, $"No OCI error body: {await DescribeAsync(response)}");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("bytes=0-10")]
    [InlineData("10-5")]
    [InlineData("-5")]
    [InlineData("0-99999999999999999999")]
    public async Task BadContentRange_Returns4xx(string contentRange)
    {
        var repository = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(repository);

        using var response = await _client.SendAsync(HttpMethod.Patch, location, Binary(TestContent.RandomBytes(11, 1)), [("Content-Range", contentRange)]);

        var status = (int)response.StatusCode;
        if (contentRange == "bytes=0-10")
        {
            // A 'bytes=' prefix is tolerated; the range itself is valid.
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return;
        }

        Assert.True(status is 400 or 416, $"Content-Range '{contentRange}' returned {await DescribeAsync(response)}");
        Assert.NotEqual(default, await ReadFirstErrorAsync(response));
    }
}

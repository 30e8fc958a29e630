using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// Browser behaviour that the management API defends against: credentials a browser attaches to other sites' requests,
/// and the sign-in dialog it shows for a basic challenge.
/// </summary>
public sealed class BrowserRequestTests : IClassFixture<ManagementFactory>
{
    private readonly ManagementFactory _factory;

    public BrowserRequestTests(ManagementFactory factory) => _factory = factory;

    [Theory]
    [InlineData("cross-site")]
    [InlineData("same-site")]
    public async Task CrossSiteChange_Rejected(string site)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v0/organizations", new { name = "cross-" + site.Replace('-', 'x') }, ("Sec-Fetch-Site", site));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another site's page", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CrossSiteChange_CreatesNothing()
    {
        using var rejected = await SendAsync(HttpMethod.Post, "/api/v0/organizations", new { name = "crossnothing" }, ("Sec-Fetch-Site", "cross-site"));
        using var lookup = await SendAsync(HttpMethod.Get, "/api/v0/organizations/crossnothing", null);

        Assert.Equal(HttpStatusCode.Forbidden, rejected.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, lookup.StatusCode);
    }

    [Theory]
    [InlineData("same-origin")]
    [InlineData("none")]
    [InlineData(null)]
    public async Task SameOriginChange_Allowed(string? site)
    {
        var name = "origin" + (site ?? "absent").Replace("-", "", StringComparison.Ordinal);
        (string, string)[] headers = site is null ? [] : [("Sec-Fetch-Site", site)];
        using var response = await SendAsync(HttpMethod.Post, "/api/v0/organizations", new { name }, headers);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("http://evil.example:5392")]
    [InlineData("null")]
    public async Task OtherOrigin_Rejected(string origin)
    {
        // Browsers leave Sec-Fetch-Site out of plain HTTP requests to names other than loopback, but send Origin.
        using var response = await SendAsync(HttpMethod.Post, "/api/v0/organizations", new { name = "originother" }, ("Origin", origin));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Theory]
    [InlineData("http://localhost")]
    [InlineData("https://LOCALHOST")]
    public async Task OwnOrigin_Allowed(string origin)
    {
        var name = "ownorigin" + (origin.StartsWith("https", StringComparison.Ordinal) ? "tls" : "plain");
        using var response = await SendAsync(HttpMethod.Post, "/api/v0/organizations", new { name }, ("Origin", origin));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task PublicAddressOrigin_Allowed()
    {
        await using var factory = new PublicAddressFactory();
        using var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v0/organizations") { Content = JsonContent.Create(new { name = "publicorigin" }) };
        request.Headers.Authorization = ManagementClient.BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        request.Headers.Add("Origin", "https://registry.example.com");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task CrossSiteRead_Allowed()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v0/organizations", null, ("Sec-Fetch-Site", "cross-site"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ScriptRequest_NoBasicChallenge()
    {
        using var client = CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v0/users");
        request.Headers.Add("X-Requested-With", "XMLHttpRequest");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Empty(response.Headers.WwwAuthenticate);
    }

    [Fact]
    public async Task PlainRequest_GetsBasicChallenge()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/api/v0/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Basic", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    private HttpClient CreateClient() =>
        _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body, params (string Name, string Value)[] headers)
    {
        using var client = CreateClient();
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = ManagementClient.BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        return await client.SendAsync(request);
    }

    private sealed class PublicAddressFactory : ManagementFactory
    {
        public PublicAddressFactory()
            : base(new Dictionary<string, string?>
            {
                ["Registry:Admin:Password"] = AdminPassword,
                ["Registry:PublicBaseUrl"] = "https://registry.example.com/",
            })
        {
        }
    }
}

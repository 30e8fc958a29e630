using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Dtr.AspNetCore.Tests.Management;
using Dtr.AspNetCore.Tests.Security;
using Dtr.AspNetCore.Ui;
using Dtr.AspNetCore.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tests.Ui;

/// <summary>
/// The web interface's server side, in process: the shell page, the embedded assets, the administrator guard and
/// single sign-on. The pages themselves are tested in Chromium by the browser tests.
/// </summary>
public sealed class RegistryUiTests : IAsyncLifetime
{
    private const string PrincipalHeader = TestHostSignIn.PrincipalHeader;
    private const string AdminPassword = "admin-password-1";
    private const string UserPassword = "user-password-1";

    private readonly UiFactory _factory = new();

    public async Task InitializeAsync()
    {
        await _factory.CreateUserAsync("ui-admin", AdminPassword, isAdmin: true);
        await _factory.CreateUserAsync("ui-user", UserPassword);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Shell_FillsInBaseAndApi()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/repositories/acme/web");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<base href=\"/ui/\">", html, StringComparison.Ordinal);
        Assert.Contains("data-api=\"/api/v0\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_SendsSecurityHeaders()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/");

        var policy = string.Join(' ', response.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("default-src 'self'", policy, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", policy, StringComparison.Ordinal);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(response.Headers.CacheControl?.NoStore);
    }

    [Fact]
    public async Task BasePathWithSlash_ServesShell()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task BasePath_RedirectsToTrailingSlash()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui?x=1");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/?x=1", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Asset_ServedWithEntityTag()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/assets/app.js");
        var etag = response.Headers.ETag;

        using var again = new HttpRequestMessage(HttpMethod.Get, "/ui/assets/app.js");
        again.Headers.IfNoneMatch.Add(etag!);
        using var revalidated = await client.SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(etag);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
    }

    [Theory]
    [InlineData("/ui/assets/missing.js")]
    [InlineData("/ui/assets/")]
    [InlineData("/ui/assets/index.html")]
    public async Task Asset_UnknownIsNotFound(string path)
    {
        using var client = CreateClient();
        using var response = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Theory]
    [InlineData("/ui/users")]
    [InlineData("/ui/settings")]
    [InlineData("/ui/settings/")]
    public async Task AdminPage_ForbiddenToUser(string path)
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("ui-user", UserPassword);

        using var response = await browser.Http.SendAsync(WithCookie(HttpMethod.Get, path, browser.Cookie));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AdminPage_AllowedToAdministrator()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("ui-admin", AdminPassword);

        using var response = await browser.Http.SendAsync(WithCookie(HttpMethod.Get, "/ui/settings", browser.Cookie));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AdminPage_AnonymousGetsShell()
    {
        // Without a session the script shows the sign-in page, so the shell itself is not refused.
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/users");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task SingleSignOn_StartsSession()
    {
        using var browser = new SessionBrowser(_factory);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/sso?returnUrl=repositories%2Facme");
        request.Headers.Add(PrincipalHeader, "principal-of-ui-user");
        using var response = await browser.Http.SendAsync(request);
        var cookie = SessionCookie(response);

        browser.Cookie = cookie;
        using var session = await browser.SendAsync(HttpMethod.Get, "/session");
        var body = await ManagementClient.ReadJsonAsync(session);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/ui/repositories/acme", response.Headers.Location?.OriginalString);
        Assert.NotNull(cookie);
        Assert.Equal("ui-user", body.GetProperty("userName").GetString());
    }

    [Fact]
    public async Task SingleSignOn_UnmappedGoesToSignIn()
    {
        using var client = CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/ui/sso");
        request.Headers.Add(PrincipalHeader, "stranger");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/ui/signin?error=", response.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task SingleSignOn_ChallengesHostScheme()
    {
        using var client = CreateClient();
        using var response = await client.GetAsync("/ui/sso");

        // The test scheme's challenge is a plain 401, where an OpenID Connect scheme would redirect.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Theory]
    [InlineData("repositories/acme/web", "repositories/acme/web")]
    [InlineData("settings?tab=security", "settings?tab=security")]
    [InlineData("repositories/acme/web/-/images/sha256:ab12", "repositories/acme/web/-/images/sha256:ab12")]
    [InlineData("javascript:alert(1)", "repositories")]
    [InlineData("sha256:ab12", "repositories")]
    [InlineData("", "repositories")]
    [InlineData(null, "repositories")]
    [InlineData("//evil.example/", "repositories")]
    [InlineData("https://evil.example/", "repositories")]
    [InlineData("/api/v0/users", "repositories")]
    [InlineData("a/../../api", "repositories")]
    [InlineData("a\\b", "repositories")]
    [InlineData("a\r\nSet-Cookie: x=1", "repositories")]
    public void ReturnUrl_StaysInsideInterface(string? requested, string expected)
    {
        Assert.Equal(expected, RegistryUiHandler.SafeReturnUrl(requested));
    }

    [Theory]
    [InlineData("/ui", "/ui")]
    [InlineData("/ui/", "/ui")]
    [InlineData(" /registry/ui ", "/registry/ui")]
    [InlineData("/", "/")]
    public void Path_Normalized(string path, string expected)
    {
        Assert.Equal(expected, RegistryUiPath.Normalize(path));
    }

    [Theory]
    [InlineData("ui")]
    [InlineData("")]
    [InlineData("/ui?x=1")]
    [InlineData("/a/../b")]
    [InlineData("/a\"b")]
    public void Path_InvalidRejected(string path)
    {
        var error = Assert.Throws<ArgumentException>(() => RegistryUiPath.Normalize(path));

        Assert.Contains("path", error.Message, StringComparison.Ordinal);
    }

    private HttpClient CreateClient() =>
        _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });

    private static HttpRequestMessage WithCookie(HttpMethod method, string path, string? cookie)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("Cookie", $"{SessionBrowser.CookieName}={cookie}");
        return request;
    }

    private static string? SessionCookie(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            return null;
        }

        var header = values.Select(value => ParseSetCookie(value)).FirstOrDefault(cookie => cookie.Name == SessionBrowser.CookieName);
        return header.Value;
    }

    private static (string Name, string Value) ParseSetCookie(string header)
    {
        var pair = header.Split(';', 2)[0];
        var equals = pair.IndexOf('=', StringComparison.Ordinal);
        return (pair[..equals].Trim(), pair[(equals + 1)..].Trim());
    }

    private sealed class UiFactory : AuthRegistryFactory
    {
        public UiFactory()
            : base(new Dictionary<string, string?> { ["Registry:Ui:SingleSignOnScheme"] = "Test" })
        {
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, TestHostSignIn.HeaderAuthenticationHandler>("Test", _ => { });
                services.AddSingleton<IRegistryUserMapper, TestHostSignIn.PrefixUserMapper>();
            });
        }
    }
}

using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class HostUserMappingTests : IAsyncLifetime
{
    private const string UserHeader = TestHostSignIn.PrincipalHeader;

    private readonly MappingFactory _factory = new();

    public async Task InitializeAsync()
    {
        await _factory.CreateUserAsync("sso-user", "unused-password-1");
        await _factory.CreateUserAsync("sso-inactive", "unused-password-1", isActive: false);
        await _factory.CreateRepositoryAsync("sso-user/app", RepositoryVisibility.Private);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task HostPrincipal_MapsToRegistryUser()
    {
        using var client = _factory.CreateAnonymousClient();
        using var registry = await client.GetAsync("/v2/sso-user/app/tags/list", (UserHeader, "principal-of-sso-user"));
        using var token = await client.GetAsync("/auth/token?scope=repository:sso-user/app:pull", (UserHeader, "principal-of-sso-user"));

        // The repository has settings but no content yet, so its owner sees an empty tag list rather than a challenge.
        Assert.Equal(HttpStatusCode.OK, registry.StatusCode);
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var body = System.Text.Json.JsonDocument.Parse(await token.Content.ReadAsByteArrayAsync()).RootElement;
        Assert.Equal(["pull"], TokenFlowFixture.Grants(body.GetProperty("token").GetString()!)["repository:sso-user/app"]);
    }

    [Fact]
    public async Task HostPrincipal_InactiveUserIsAnonymous()
    {
        using var client = _factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/v2/sso-user/app/tags/list", (UserHeader, "principal-of-sso-inactive"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task HostPrincipal_UnmappedIsAnonymous()
    {
        using var client = _factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/v2/sso-user/app/tags/list", (UserHeader, "stranger"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task HostPrincipal_CredentialIsHost()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "principal-of-sso-user")], "Test");
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider, User = new ClaimsPrincipal(identity) };

        var authenticator = scope.ServiceProvider.GetRequiredService<IRegistryAuthenticator>();
        var outcome = await authenticator.AuthenticateAsync(context, allowBasic: false, CancellationToken.None);

        Assert.Equal("sso-user", outcome.Caller?.UserName);
        Assert.Equal(CredentialKind.Host, outcome.Credential);
    }

    [Fact]
    public async Task HostPrincipal_RefreshTokenHasNoCredential()
    {
        using var client = _factory.CreateAnonymousClient();
        using var token = await client.GetAsync("/auth/token?offline_token=true", (UserHeader, "principal-of-sso-user"));
        var refresh = System.Text.Json.JsonDocument.Parse(await token.Content.ReadAsByteArrayAsync()).RootElement.GetProperty("refresh_token").GetString()!;
        var payload = AuthTestSupport.Payload(refresh);

        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refresh };
        using var refreshed = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));

        Assert.True(payload.TryGetProperty("uct", out _));
        Assert.False(payload.TryGetProperty("pat", out _));
        Assert.False(payload.TryGetProperty("pst", out _));
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
    }

    private sealed class MappingFactory : AuthRegistryFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                services.AddAuthentication("Test").AddScheme<AuthenticationSchemeOptions, TestHostSignIn.HeaderAuthenticationHandler>("Test", _ => { });
                services.AddSingleton<IRegistryUserMapper, TestHostSignIn.PrefixUserMapper>();
            });
        }
    }
}

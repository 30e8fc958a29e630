using System.Net;
using System.Net.Http.Headers;
using Dtr.AspNetCore.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// Which credentials the management API accepts: bearer tokens only with the <c>registry:management:*</c> scope,
/// and for creating access tokens and changing passwords only a password or the host's sign-in.
/// </summary>
public sealed class CredentialTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public CredentialTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private async Task<string> NewUserAsync(bool isAdmin = false)
    {
        var name = "cred" + Guid.NewGuid().ToString("N")[..8];
        await _admin.CreateUserAsync(name, isAdmin);
        return name;
    }

    /// <summary>Requests a bearer token from the token endpoint, signed in with the password, for the scope when given.</summary>
    private async Task<string> RequestBearerAsync(string userName, string password, string? scope)
    {
        var query = "?service=dtr-registry" + (scope is null ? "" : "&scope=" + Uri.EscapeDataString(scope));
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token" + query);
        request.Headers.Authorization = BasicHeader(userName, password);
        using var response = await _admin.Http.SendAsync(request);
        return (await ReadJsonAsync(response)).GetProperty("token").GetString()!;
    }

    private const string ManagementScope = "registry:management:*";

    private async Task<HttpResponseMessage> SendBearerAsync(HttpMethod method, string path, string token, object? body = null)
    {
        using var request = new HttpRequestMessage(method, Prefix + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = System.Net.Http.Json.JsonContent.Create(body);
        }

        return await _admin.Http.SendAsync(request);
    }

    private async Task<string> CreateAccessTokenAsync(string userName)
    {
        using var user = _factory.CreateManagementClient(userName, PasswordOf(userName));
        using var created = await user.PostAsync($"/users/{userName}/tokens", new { label = "test" });
        return (await ReadJsonAsync(created, HttpStatusCode.Created)).GetProperty("token").GetString()!;
    }

    [Fact]
    public async Task Bearer_WithManagementScopeSignsIn()
    {
        var token = await RequestBearerAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword, ManagementScope);

        using var response = await SendBearerAsync(HttpMethod.Get, "/users/" + ManagementFactory.AdminName, token);

        Assert.True((await ReadJsonAsync(response)).GetProperty("isAdmin").GetBoolean());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("repository:admin/app:pull,push,delete,*")]
    [InlineData("registry:catalog:*")]
    [InlineData("registry:management:pull")]
    public async Task Bearer_WithoutManagementScopeIs403(string? scope)
    {
        var token = await RequestBearerAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword, scope);

        using var response = await SendBearerAsync(HttpMethod.Get, "/users", token);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        var detail = problem.GetProperty("detail").GetString();
        Assert.Contains("registry:management:*", detail, StringComparison.Ordinal);
        Assert.Contains("basic authentication", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_WithAccessTokenIs403()
    {
        var name = await NewUserAsync();
        var accessToken = await CreateAccessTokenAsync(name);
        using var withToken = _factory.CreateManagementClient(name, accessToken);

        using var response = await withToken.PostAsync($"/users/{name}/tokens", new { label = "chained" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("password", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var listed = await _admin.GetAsync($"/users/{name}/tokens");
        Assert.Single((await ReadJsonAsync(listed)).GetProperty("tokens").EnumerateArray());
    }

    [Fact]
    public async Task CreateToken_WithBearerIs403()
    {
        var name = await NewUserAsync();
        var token = await RequestBearerAsync(name, PasswordOf(name), ManagementScope);

        using var response = await SendBearerAsync(HttpMethod.Post, $"/users/{name}/tokens", token, new { label = "from-bearer" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("bearer token", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_AdminWithAccessTokenIs403()
    {
        var adminName = await NewUserAsync(isAdmin: true);
        var accessToken = await CreateAccessTokenAsync(adminName);
        var target = await NewUserAsync();
        using var withToken = _factory.CreateManagementClient(adminName, accessToken);

        using var response = await withToken.PostAsync($"/users/{target}/tokens", new { label = "for-someone" });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task CreateAdministrator_AdminWithAccessTokenIs403()
    {
        var adminName = await NewUserAsync(isAdmin: true);
        var accessToken = await CreateAccessTokenAsync(adminName);
        using var withToken = _factory.CreateManagementClient(adminName, accessToken);
        var newName = "cred" + Guid.NewGuid().ToString("N")[..8];

        using var administrator = await withToken.PostAsync("/users", new { name = newName, password = "chosen-by-token-1", isAdmin = true });
        using var regular = await withToken.PostAsync("/users", new { name = newName + "r", password = "chosen-by-token-1" });

        await AssertProblemAsync(administrator, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Created, regular.StatusCode);
    }

    [Fact]
    public async Task GrantAdmin_AdminWithBearerIs403()
    {
        var target = await NewUserAsync();
        var token = await RequestBearerAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword, ManagementScope);

        using var grant = await SendBearerAsync(HttpMethod.Patch, $"/users/{target}", token, new { isAdmin = true });
        using var withPassword = await _admin.PatchAsync($"/users/{target}", new { isAdmin = true });

        await AssertProblemAsync(grant, HttpStatusCode.Forbidden);
        Assert.True((await ReadJsonAsync(withPassword)).GetProperty("isAdmin").GetBoolean());
    }

    [Fact]
    public async Task Tokens_ListAndRevokeWithAccessToken()
    {
        var name = await NewUserAsync();
        var accessToken = await CreateAccessTokenAsync(name);
        using var withToken = _factory.CreateManagementClient(name, accessToken);
        using var listed = await withToken.GetAsync($"/users/{name}/tokens");
        var id = (await ReadJsonAsync(listed)).GetProperty("tokens")[0].GetProperty("id").GetString();

        using var revoked = await withToken.DeleteAsync($"/users/{name}/tokens/{id}");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
    }

    [Fact]
    public async Task ChangePassword_WithAccessTokenIs403()
    {
        var name = await NewUserAsync();
        var accessToken = await CreateAccessTokenAsync(name);
        using var withToken = _factory.CreateManagementClient(name, accessToken);

        using var password = await withToken.PatchAsync($"/users/{name}", new { password = "taken-over-password" });
        using var profile = await withToken.PatchAsync($"/users/{name}", new { fullName = "Changed With Token" });

        await AssertProblemAsync(password, HttpStatusCode.Forbidden);
        Assert.Equal("Changed With Token", (await ReadJsonAsync(profile)).GetProperty("fullName").GetString());
        using var oldPassword = _factory.CreateManagementClient(name, PasswordOf(name));
        using var stillWorks = await oldPassword.GetAsync($"/users/{name}");
        Assert.Equal(HttpStatusCode.OK, stillWorks.StatusCode);
    }

    [Fact]
    public async Task ChangePassword_AdminWithBearerIs403()
    {
        var target = await NewUserAsync();
        var token = await RequestBearerAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword, ManagementScope);

        using var response = await SendBearerAsync(HttpMethod.Patch, $"/users/{target}", token, new { password = "reset-by-bearer" });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ChangePassword_AdminWithPasswordResetsOther()
    {
        var target = await NewUserAsync();

        using var response = await _admin.PatchAsync($"/users/{target}", new { password = "reset-by-admin-1" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var signedIn = _factory.CreateManagementClient(target, "reset-by-admin-1");
        using var check = await signedIn.GetAsync($"/users/{target}");
        Assert.Equal(HttpStatusCode.OK, check.StatusCode);
    }
}

/// <summary>
/// A host whose authenticator signs every request in as the administrator, with the credential kind named in the
/// <c>X-Test-Credential</c> header, in place of a host's own sign-in.
/// </summary>
public sealed class ChosenCredentialFactory : ManagementFactory
{
    public const string CredentialHeader = "X-Test-Credential";

    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<IRegistryAuthenticator>(new ChosenCredentialAuthenticator()));

    private sealed class ChosenCredentialAuthenticator : IRegistryAuthenticator
    {
        public ValueTask<AuthenticationOutcome> AuthenticateAsync(HttpContext context, bool allowBasic, CancellationToken cancellationToken)
        {
            var credential = Enum.Parse<CredentialKind>(context.Request.Headers[CredentialHeader].ToString());
            var caller = new RegistryCaller(AdminName, IsAdmin: true);
            return ValueTask.FromResult(AuthenticationOutcome.Success(caller) with { Credential = credential });
        }
    }
}

public sealed class ChosenCredentialTests : IClassFixture<ChosenCredentialFactory>
{
    private readonly ChosenCredentialFactory _factory;

    public ChosenCredentialTests(ChosenCredentialFactory factory) => _factory = factory;

    [Theory]
    [InlineData(nameof(CredentialKind.Host), HttpStatusCode.Created)]
    [InlineData(nameof(CredentialKind.Password), HttpStatusCode.Created)]
    [InlineData(nameof(CredentialKind.AccessToken), HttpStatusCode.Forbidden)]
    [InlineData(nameof(CredentialKind.None), HttpStatusCode.Forbidden)]
    public async Task CreateToken_DependsOnCredential(string credential, HttpStatusCode expected)
    {
        using var http = _factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}/users/{ManagementFactory.AdminName}/tokens")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { label = "chosen" }),
        };
        request.Headers.Add(ChosenCredentialFactory.CredentialHeader, credential);

        using var response = await http.SendAsync(request);

        await AssertStatusAsync(response, expected, $"creating a token with credential {credential}");
    }
}

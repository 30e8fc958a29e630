using System.Globalization;
using System.Net;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.Security.TokenFlowFixture;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class TokenEndpointTests : IClassFixture<TokenFlowFixture>
{
    private readonly TokenFlowFixture _fixture;

    public TokenEndpointTests(TokenFlowFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Get_ResponseHasDockerFields()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull");

        var token = response.GetProperty("token").GetString()!;
        Assert.Equal(token, response.GetProperty("access_token").GetString());
        Assert.Equal(300, response.GetProperty("expires_in").GetInt32());
        var issuedAt = DateTimeOffset.Parse(response.GetProperty("issued_at").GetString()!, CultureInfo.InvariantCulture);
        Assert.InRange(issuedAt, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.False(response.TryGetProperty("refresh_token", out _));

        var payload = AuthTestSupport.Payload(token);
        Assert.Equal("alice", payload.GetProperty("sub").GetString());
        Assert.Equal(AuthTestSupport.Service, payload.GetProperty("aud").GetString());
        Assert.Equal(AuthTestSupport.Issuer, payload.GetProperty("iss").GetString());
        Assert.Equal(payload.GetProperty("iat").GetInt64() + 300, payload.GetProperty("exp").GetInt64());
        Assert.True(payload.TryGetProperty("jti", out _));
        Assert.True(payload.TryGetProperty("nbf", out _));
    }

    [Fact]
    public async Task Get_HeaderIsEs256WithKeyId()
    {
        var response = await _fixture.GetTokenAsync(null, null);
        var header = JsonDocument.Parse(System.Buffers.Text.Base64Url.DecodeFromChars(response.GetProperty("token").GetString()!.Split('.')[0])).RootElement;

        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal("JWT", header.GetProperty("typ").GetString());
        Assert.False(string.IsNullOrEmpty(header.GetProperty("kid").GetString()));
    }

    [Fact]
    public async Task Get_AnonymousGetsPublicPullOnly()
    {
        var response = await _fixture.GetTokenAsync(null, null, $"repository:{PublicRepository}:pull,push", $"repository:{PrivateRepository}:pull");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["pull"], grants["repository:" + PublicRepository]);
        Assert.Empty(grants["repository:" + PrivateRepository]);
        Assert.False(AuthTestSupport.Payload(response.GetProperty("token").GetString()!).TryGetProperty("sub", out _));
    }

    [Fact]
    public async Task Get_SpaceSeparatedScopesInOneValue()
    {
        var response = await _fixture.GetTokenAsync(
            "alice",
            AlicePassword,
            $"repository:{PrivateRepository}:pull,push,delete repository:{BobRepository}:pull registry:catalog:*");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["pull", "push", "delete"], grants["repository:" + PrivateRepository]);
        Assert.Empty(grants["repository:" + BobRepository]);
        Assert.Equal(["*"], grants["registry:catalog"]);
    }

    [Fact]
    public async Task Get_CatalogGrantsOnlyStar()
    {
        var star = await _fixture.GetTokenAsync("bob", BobPassword, "registry:catalog:*");
        var mixed = await _fixture.GetTokenAsync("bob", BobPassword, "registry:catalog:pull,*");
        var pullOnly = await _fixture.GetTokenAsync(null, null, "registry:catalog:pull");

        Assert.Equal(["*"], Grants(star.GetProperty("token").GetString()!)["registry:catalog"]);
        Assert.Equal(["*"], Grants(mixed.GetProperty("token").GetString()!)["registry:catalog"]);
        Assert.Empty(Grants(pullOnly.GetProperty("token").GetString()!)["registry:catalog"]);
    }

    [Fact]
    public async Task Get_ManagementScopeForSignedInUser()
    {
        var user = await _fixture.GetTokenAsync("bob", BobPassword, "registry:management:*");
        var anonymous = await _fixture.GetTokenAsync(null, null, "registry:management:*");
        var otherAction = await _fixture.GetTokenAsync("bob", BobPassword, "registry:management:pull");

        Assert.Equal(["*"], Grants(user.GetProperty("token").GetString()!)["registry:management"]);
        Assert.Empty(Grants(anonymous.GetProperty("token").GetString()!)["registry:management"]);
        Assert.Empty(Grants(otherAction.GetProperty("token").GetString()!)["registry:management"]);
    }

    [Fact]
    public async Task Get_ManagementScopeNotGrantedUnrequested()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:*");

        Assert.False(Grants(response.GetProperty("token").GetString()!).ContainsKey("registry:management"));
    }

    [Fact]
    public async Task Post_PasswordGrantGetsManagementScope()
    {
        var body = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = AlicePassword,
            ["scope"] = "registry:management:*",
        });

        Assert.Equal("registry:management:*", body.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task Get_RepeatedScopesMerge()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull", $"repository:{PrivateRepository}:push");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["pull", "push"], grants["repository:" + PrivateRepository]);
    }

    [Fact]
    public async Task Get_UnknownRepositoryGetsNoActions()
    {
        var response = await _fixture.GetTokenAsync("bob", BobPassword, "repository:nobody/nothing:pull,push");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Empty(grants["repository:nobody/nothing"]);
    }

    [Fact]
    public async Task Get_InvalidNamesLeftOut()
    {
        var tooLong = "alice/" + new string('a', 250);
        var response = await _fixture.GetTokenAsync(
            "alice",
            AlicePassword,
            "repository:Not_Valid:pull",
            $"repository:{tooLong}:pull",
            "unknown:thing:pull",
            "registry:other:*",
            $"repository:{PublicRepository}:pull");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["repository:" + PublicRepository], grants.Keys);
        Assert.DoesNotContain("Not_Valid", response.GetProperty("token").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_TooManyScopesIs400()
    {
        using var client = _fixture.Factory.CreateBasicClient("alice", AlicePassword);
        var scopes = string.Join(' ', Enumerable.Range(0, 65).Select(index => $"repository:alice/repo{index}:pull"));

        using var response = await client.GetAsync("/auth/token?scope=" + Uri.EscapeDataString(scopes));

        var error = await RegistryClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_REQUEST");
        Assert.Contains("65 scopes", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Post_TooManyScopesIs400()
    {
        var scopes = Enumerable.Range(0, 65).Select(index => $"repository:alice/repo{index}:pull");

        var body = await PostAsync(HttpStatusCode.BadRequest, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = AlicePassword,
            ["scope"] = string.Join(' ', scopes),
        });

        Assert.Equal("INVALID_REQUEST", body.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public async Task Get_MaxScopesAccepted()
    {
        var scopes = Enumerable.Range(0, 64).Select(index => $"repository:alice/repo{index}:pull").ToArray();

        var response = await _fixture.GetTokenAsync("alice", AlicePassword, scopes);

        Assert.Equal(64, Grants(response.GetProperty("token").GetString()!).Count);
    }

    [Fact]
    public async Task Get_PluginResourceClassTolerated()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository(plugin):{PrivateRepository}:pull");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["pull"], grants["repository:" + PrivateRepository]);
    }

    [Fact]
    public async Task Get_AdminStarExpandsToAllowedActions()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:*");
        var grants = Grants(response.GetProperty("token").GetString()!);

        Assert.Equal(["pull", "push", "delete", "*"], grants["repository:" + PrivateRepository]);
    }

    [Fact]
    public async Task Get_WrongPasswordIs401WithJsonError()
    {
        using var client = _fixture.Factory.CreateBasicClient("alice", "wrong");
        using var response = await client.GetAsync($"/auth/token?service={AuthTestSupport.Service}&scope=repository:{PrivateRepository}:pull");

        var error = await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains("incorrect", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_UnknownUserIs401()
    {
        using var client = _fixture.Factory.CreateBasicClient("nosuchuser", "whatever");
        using var response = await client.GetAsync("/auth/token");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task Get_OtherServiceIs400()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/auth/token?service=other-registry");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_REQUEST");
    }

    [Fact]
    public async Task Get_OfflineTokenAddsRefreshToken()
    {
        using var client = _fixture.Factory.CreateBasicClient("alice", AlicePassword);
        using var response = await client.GetAsync($"/auth/token?service={AuthTestSupport.Service}&offline_token=true");
        var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var refresh = body.GetProperty("refresh_token").GetString()!;
        Assert.Equal("refresh", AuthTestSupport.Payload(refresh).GetProperty("token_use").GetString());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Get_AnonymousOfflineTokenHasNoRefreshToken()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/auth/token?offline_token=true");
        var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;

        Assert.False(body.TryGetProperty("refresh_token", out _));
    }

    [Fact]
    public async Task Post_PasswordGrantWithOffline()
    {
        var body = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = AlicePassword,
            ["service"] = AuthTestSupport.Service,
            ["client_id"] = "tests",
            ["access_type"] = "offline",
            ["scope"] = $"repository:{PrivateRepository}:pull,push repository:{BobRepository}:pull",
        });

        Assert.Equal($"repository:{PrivateRepository}:pull,push", body.GetProperty("scope").GetString());
        Assert.Equal(["pull", "push"], Grants(body.GetProperty("access_token").GetString()!)["repository:" + PrivateRepository]);
        Assert.True(body.TryGetProperty("refresh_token", out _));
        Assert.Equal(300, body.GetProperty("expires_in").GetInt32());
    }

    [Fact]
    public async Task Post_WrongPasswordIs401()
    {
        await PostAsync(HttpStatusCode.Unauthorized, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = "wrong",
        });
    }

    [Fact]
    public async Task Post_RefreshGrantIssuesNewScopes()
    {
        var first = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = AlicePassword,
            ["access_type"] = "offline",
        });

        var refreshed = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = first.GetProperty("refresh_token").GetString()!,
            ["service"] = AuthTestSupport.Service,
            ["scope"] = $"repository:{PrivateRepository}:pull",
        });

        var token = refreshed.GetProperty("access_token").GetString()!;
        Assert.Equal(["pull"], Grants(token)["repository:" + PrivateRepository]);
        Assert.Equal("alice", AuthTestSupport.Payload(token).GetProperty("sub").GetString());
    }

    [Fact]
    public async Task Post_AccessTokenRejectedAsRefreshToken()
    {
        var access = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull");

        await PostAsync(HttpStatusCode.Unauthorized, new()
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = access.GetProperty("token").GetString()!,
        });
    }

    [Fact]
    public async Task Post_UnsupportedGrantIs400()
    {
        await PostAsync(HttpStatusCode.BadRequest, new() { ["grant_type"] = "client_credentials" });
    }

    [Fact]
    public async Task Post_JsonBodyIs400()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.SendAsync(HttpMethod.Post, "/auth/token", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.BadRequest, "INVALID_REQUEST");
    }

    [Fact]
    public async Task AccessToken_LoginAndRevoke()
    {
        var (id, token) = await _fixture.Factory.CreateAccessTokenAsync("bob");
        using (var client = _fixture.Factory.CreateBasicClient("bob", token))
        {
            using var accepted = await client.GetAsync($"/auth/token?scope=repository:{BobRepository}:pull");
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        var stored = await _fixture.Factory.Identity.FindAccessTokenAsync(id);
        Assert.NotNull(stored?.Token.LastUsedAt);

        Assert.True(await _fixture.Factory.Identity.DeleteAccessTokenAsync("bob", id));
        using (var client = _fixture.Factory.CreateBasicClient("bob", token))
        {
            using var rejected = await client.GetAsync($"/auth/token?scope=repository:{BobRepository}:pull");
            await RegistryClient.AssertErrorAsync(rejected, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        }
    }

    [Fact]
    public async Task AccessToken_OtherUserNameRejected()
    {
        var (_, token) = await _fixture.Factory.CreateAccessTokenAsync("bob");
        using var client = _fixture.Factory.CreateBasicClient("alice", token);
        using var response = await client.GetAsync("/auth/token");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task AccessToken_WorksWithPasswordGrant()
    {
        var (_, token) = await _fixture.Factory.CreateAccessTokenAsync("alice");

        var body = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "password",
            ["username"] = "alice",
            ["password"] = token,
            ["scope"] = $"repository:{PrivateRepository}:pull",
        });

        Assert.Equal(["pull"], Grants(body.GetProperty("access_token").GetString()!)["repository:" + PrivateRepository]);
    }

    private async Task<JsonElement> PostAsync(HttpStatusCode expected, Dictionary<string, string> form)
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));
        Assert.True(response.StatusCode == expected, await RegistryClient.DescribeAsync(response));
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.Clone();
    }
}

using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Security.TokenFlowFixture;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>
/// Checks that tokens stop working with the account and credential they were issued for: deleting a user revokes
/// every token, and revoking a personal access token or changing the password revokes the refresh tokens issued for it.
/// </summary>
public sealed class TokenRevocationTests : IClassFixture<TokenFlowFixture>
{
    private const string Password = "revocation-password-1";

    private readonly TokenFlowFixture _fixture;

    public TokenRevocationTests(TokenFlowFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task AccessToken_CarriesUserCreationTime()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword);

        var payload = AuthTestSupport.Payload(response.GetProperty("token").GetString()!);

        Assert.Equal(_fixture.AliceCreatedAt.ToUnixTimeMilliseconds(), payload.GetProperty("uct").GetInt64());
    }

    [Fact]
    public async Task Bearer_RecreatedUserRejected()
    {
        await _fixture.Factory.CreateUserAsync("gina", Password);
        var token = (await _fixture.GetTokenAsync("gina", Password, "registry:management:*")).GetProperty("token").GetString()!;
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var before = await client.GetAsync("/v2/");
        using var managementBefore = await client.GetAsync("/api/v0/users/gina");

        await RecreateUserAsync("gina");
        using var after = await client.GetAsync("/v2/");
        using var managementAfter = await client.GetAsync("/api/v0/users/gina");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.NotEqual(HttpStatusCode.Unauthorized, managementBefore.StatusCode);
        var error = await RegistryClient.AssertErrorAsync(after, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains("deleted account", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, managementAfter.StatusCode);
    }

    [Fact]
    public async Task Bearer_DeactivatedUserRejectedWhenCached()
    {
        await _fixture.Factory.CreateUserAsync("dora", Password);
        var token = (await _fixture.GetTokenAsync("dora", Password)).GetProperty("token").GetString()!;
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var before = await client.GetAsync("/v2/");
        var cached = _fixture.Factory.Services.GetRequiredService<VerifiedTokenCache>().Find(token);

        await _fixture.Factory.Identity.UpdateUserAsync("dora", new UserUpdate { IsActive = false });
        using var after = await client.GetAsync("/v2/");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.NotNull(cached);
        var error = await RegistryClient.AssertErrorAsync(after, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Contains("inactive", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_RecreatedUserRejected()
    {
        await _fixture.Factory.CreateUserAsync("gabe", Password);
        var refresh = await PasswordGrantRefreshTokenAsync("gabe", Password);

        await RecreateUserAsync("gabe");

        var error = await RefreshAsync(refresh, HttpStatusCode.Unauthorized);
        Assert.Contains("deleted account", error.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_RevokedAccessTokenRejected()
    {
        await _fixture.Factory.CreateUserAsync("hank", Password);
        var (id, accessToken) = await _fixture.Factory.CreateAccessTokenAsync("hank");
        using var client = _fixture.Factory.CreateBasicClient("hank", accessToken);
        using var response = await client.GetAsync("/auth/token?offline_token=true");
        var refresh = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.GetProperty("refresh_token").GetString()!;
        var payload = AuthTestSupport.Payload(refresh);

        Assert.Equal(id, payload.GetProperty("pat").GetString());
        Assert.False(payload.TryGetProperty("pst", out _));
        await RefreshAsync(refresh, HttpStatusCode.OK);

        Assert.True(await _fixture.Factory.Identity.DeleteAccessTokenAsync("hank", id));

        var error = await RefreshAsync(refresh, HttpStatusCode.Unauthorized);
        Assert.Contains("revoked", error.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Refresh_PasswordChangeRejected()
    {
        await _fixture.Factory.CreateUserAsync("ivan", Password);
        var refresh = await PasswordGrantRefreshTokenAsync("ivan", Password);
        var payload = AuthTestSupport.Payload(refresh);
        var hash = await _fixture.Factory.Identity.GetPasswordHashAsync("ivan");

        Assert.Matches("^[0-9a-f]{16}$", payload.GetProperty("pst").GetString());
        Assert.False(payload.TryGetProperty("pat", out _));
        Assert.DoesNotContain(hash!, payload.GetRawText(), StringComparison.Ordinal);
        await RefreshAsync(refresh, HttpStatusCode.OK);

        await _fixture.Factory.Identity.UpdateUserAsync("ivan", new UserUpdate { PasswordHash = PasswordHashing.Hash("new-password-2") });

        var error = await RefreshAsync(refresh, HttpStatusCode.Unauthorized);
        Assert.Contains("password was changed", error.GetProperty("errors")[0].GetProperty("message").GetString(), StringComparison.Ordinal);
        var renewed = await PasswordGrantRefreshTokenAsync("ivan", "new-password-2");
        await RefreshAsync(renewed, HttpStatusCode.OK);
    }

    [Fact]
    public async Task Refresh_TokenWithoutUserCreationTimeRejected()
    {
        var claims = AuthTestSupport.AccessClaims("alice", null, PrivateRepository, "pull");
        claims["token_use"] = "refresh";
        claims.Remove("access");
        var refresh = AuthTestSupport.SignEs256(claims, _fixture.Factory.SigningKey, "dtr-refresh+jwt");

        await RefreshAsync(refresh, HttpStatusCode.Unauthorized);
        claims["uct"] = _fixture.AliceCreatedAt.ToUnixTimeMilliseconds();
        await RefreshAsync(AuthTestSupport.SignEs256(claims, _fixture.Factory.SigningKey, "dtr-refresh+jwt"), HttpStatusCode.OK);
    }

    /// <summary>Deletes a user and creates one with the same name, checking that the creation times differ.</summary>
    private async Task RecreateUserAsync(string name)
    {
        var original = await _fixture.Factory.Identity.GetUserAsync(name);
        Assert.True(await _fixture.Factory.Identity.DeleteUserAsync(name));
        await _fixture.Factory.CreateUserAsync(name, Password);
        var recreated = await _fixture.Factory.Identity.GetUserAsync(name);
        Assert.NotEqual(original!.CreatedAt, recreated!.CreatedAt);
    }

    private async Task<string> PasswordGrantRefreshTokenAsync(string userName, string password)
    {
        var body = await PostAsync(HttpStatusCode.OK, new()
        {
            ["grant_type"] = "password",
            ["username"] = userName,
            ["password"] = password,
            ["access_type"] = "offline",
        });
        return body.GetProperty("refresh_token").GetString()!;
    }

    private Task<JsonElement> RefreshAsync(string refreshToken, HttpStatusCode expected) =>
        PostAsync(expected, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });

    private async Task<JsonElement> PostAsync(HttpStatusCode expected, Dictionary<string, string> form)
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));
        Assert.True(response.StatusCode == expected, await RegistryClient.DescribeAsync(response));
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.Clone();
    }
}

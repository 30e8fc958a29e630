using System.Net;
using Dtr.AspNetCore.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Security.TokenFlowFixture;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>Checks <see cref="AuthenticationOutcome.Credential"/>, which the management API uses to tell credentials apart.</summary>
public sealed class CredentialKindTests : IClassFixture<TokenFlowFixture>
{
    private readonly TokenFlowFixture _fixture;

    public CredentialKindTests(TokenFlowFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Credential_PasswordIsPassword()
    {
        var outcome = await AuthenticateAsync(AuthTestSupport.Basic("alice", AlicePassword).ToString());

        Assert.True(outcome.Succeeded, outcome.FailureMessage);
        Assert.Equal(CredentialKind.Password, outcome.Credential);
    }

    [Fact]
    public async Task Credential_AccessTokenIsAccessToken()
    {
        var (_, token) = await _fixture.Factory.CreateAccessTokenAsync("alice");

        var outcome = await AuthenticateAsync(AuthTestSupport.Basic("alice", token).ToString());

        Assert.True(outcome.Succeeded, outcome.FailureMessage);
        Assert.Equal(CredentialKind.AccessToken, outcome.Credential);
    }

    [Fact]
    public async Task Credential_BearerIsBearer()
    {
        var response = await _fixture.GetTokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull");

        var outcome = await AuthenticateAsync("Bearer " + response.GetProperty("token").GetString());

        Assert.True(outcome.Succeeded, outcome.FailureMessage);
        Assert.Equal(CredentialKind.Bearer, outcome.Credential);
    }

    [Fact]
    public async Task Credential_AnonymousIsNone()
    {
        var anonymousToken = (await _fixture.GetTokenAsync(null, null)).GetProperty("token").GetString();

        var withoutHeader = await AuthenticateAsync(null);
        var withAnonymousToken = await AuthenticateAsync("Bearer " + anonymousToken);

        Assert.True(withoutHeader.Succeeded);
        Assert.Equal(CredentialKind.None, withoutHeader.Credential);
        Assert.True(withAnonymousToken.Succeeded, withAnonymousToken.FailureMessage);
        Assert.Equal(CredentialKind.None, withAnonymousToken.Credential);
    }

    private async Task<AuthenticationOutcome> AuthenticateAsync(string? authorization)
    {
        await using var scope = _fixture.Factory.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Connection.RemoteIpAddress = IPAddress.Loopback;
        if (authorization is not null)
        {
            context.Request.Headers.Authorization = authorization;
        }

        var authenticator = scope.ServiceProvider.GetRequiredService<IRegistryAuthenticator>();
        return await authenticator.AuthenticateAsync(context, allowBasic: true, CancellationToken.None);
    }
}

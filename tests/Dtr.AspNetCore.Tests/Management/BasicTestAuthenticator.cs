using System.Net.Http.Headers;
using System.Text;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// A stand-in for the registry's authenticator in tests of a host that has none registered: HTTP basic with a
/// password or a personal access token, checked against the identity store. It has no rate limiting.
/// </summary>
internal sealed class BasicTestAuthenticator : IRegistryAuthenticator
{
    public async ValueTask<AuthenticationOutcome> AuthenticateAsync(HttpContext context, bool allowBasic, CancellationToken cancellationToken)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return AuthenticationOutcome.Success(RegistryCaller.Anonymous);
        }

        if (!allowBasic || !AuthenticationHeaderValue.TryParse(header, out var value) || value.Scheme != "Basic" || value.Parameter is null)
        {
            return AuthenticationOutcome.Failure("Unsupported credentials.");
        }

        var pair = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter));
        var colon = pair.IndexOf(':', StringComparison.Ordinal);
        var (userName, secret) = (pair[..colon], pair[(colon + 1)..]);

        var identity = context.RequestServices.GetRequiredService<IIdentityStore>();
        var user = await identity.GetUserAsync(userName, cancellationToken);
        if (user is null || !user.IsActive)
        {
            return AuthenticationOutcome.Failure("Invalid user name or password.");
        }

        if (AccessTokens.TryParse(secret, out var id, out var tokenSecret))
        {
            var token = await identity.FindAccessTokenAsync(id, cancellationToken);
            var valid = token is { } found && found.Token.UserName == userName && AccessTokens.VerifySecret(tokenSecret, found.SecretHash);
            return valid ? AuthenticationOutcome.Success(new RegistryCaller(userName, user.IsAdmin)) : AuthenticationOutcome.Failure("Invalid access token.");
        }

        var hash = await identity.GetPasswordHashAsync(userName, cancellationToken);
        return hash is not null && PasswordHashing.Verify(hash, secret)
            ? AuthenticationOutcome.Success(new RegistryCaller(userName, user.IsAdmin))
            : AuthenticationOutcome.Failure("Invalid user name or password.");
    }
}

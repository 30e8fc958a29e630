using System.Security.Claims;
using System.Text.Encodings.Web;
using Dtr.AspNetCore.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>
/// A host sign-in for tests, in place of a host's single sign-on: the scheme authenticates the principal named in
/// <see cref="PrincipalHeader"/>, and the mapper maps principals named <c>principal-of-&lt;user&gt;</c> to that user.
/// </summary>
public static class TestHostSignIn
{
    /// <summary>The request header that names the signed-in principal.</summary>
    public const string PrincipalHeader = "X-Test-Principal";

    private const string MappedPrefix = "principal-of-";

    /// <summary>Authenticates the principal named in <see cref="PrincipalHeader"/>.</summary>
    public sealed class HeaderAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var principal = Request.Headers[PrincipalHeader].ToString();
            if (string.IsNullOrEmpty(principal))
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, principal)], Scheme.Name);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
        }
    }

    /// <summary>Maps principals named <c>principal-of-&lt;user&gt;</c> to that user, and others to none.</summary>
    public sealed class PrefixUserMapper : IRegistryUserMapper
    {
        public ValueTask<string?> MapAsync(ClaimsPrincipal principal, HttpContext context, CancellationToken cancellationToken)
        {
            var name = principal.FindFirstValue(ClaimTypes.NameIdentifier);
            return ValueTask.FromResult(name is not null && name.StartsWith(MappedPrefix, StringComparison.Ordinal) ? name[MappedPrefix.Length..] : null);
        }
    }
}

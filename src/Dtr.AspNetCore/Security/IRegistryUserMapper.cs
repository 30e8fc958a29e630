using System.Security.Claims;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Maps a caller that the host's own ASP.NET Core authentication signed in (an OIDC cookie for single sign-on, a
/// client certificate) to a registry user. Register an implementation to let that sign-in reach the management API.
/// </summary>
public interface IRegistryUserMapper
{
    /// <summary>
    /// Returns the registry user name for <paramref name="principal"/>, or null when the principal maps to no user.
    /// An implementation may create the user on first sign-in (auto-provisioning) through <see cref="Identity.IIdentityStore"/>.
    /// </summary>
    ValueTask<string?> MapAsync(ClaimsPrincipal principal, HttpContext context, CancellationToken cancellationToken);
}

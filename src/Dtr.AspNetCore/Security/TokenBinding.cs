using System.Security.Cryptography;
using System.Text;
using Dtr.Identity;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Checks that a validated refresh or session token still belongs to a current account and credential. The token
/// endpoint and browser sessions share this check, so both kinds of token end at the same events. Those are
/// deactivating or deleting the user (also when an account with the same name is created again), revoking the
/// personal access token the token was issued for, and changing the password it was issued for. A token issued
/// through the host's own authentication is bound to no credential and stays valid until it expires or the account
/// is deactivated or deleted.
/// </summary>
internal static class TokenBinding
{
    /// <summary>
    /// Returns the token's user, or null with a reason for the log and a message for the client.
    /// </summary>
    /// <param name="validation">A valid result of <see cref="RegistryTokenService.ValidateRefreshTokenAsync"/> or
    /// <see cref="RegistryTokenService.ValidateSessionTokenAsync"/>.</param>
    /// <param name="kind">The token kind named in the reason and message, such as <c>refresh token</c>.</param>
    public static async Task<(User? User, string? Reason, string? Message)> CheckAsync(
        IIdentityStore identity,
        TokenValidation validation,
        string kind,
        CancellationToken cancellationToken)
    {
        var user = await identity.GetUserAsync(validation.Subject!, cancellationToken);
        if (user is not { IsActive: true })
        {
            return (null, $"{kind} of user {validation.Subject}, who does not exist or is inactive", $"The {kind}'s user does not exist or is inactive.");
        }

        if (!validation.IsIssuedTo(user))
        {
            return (null, $"{kind} issued to an earlier account named {validation.Subject}", $"The {kind} was issued to a deleted account with the same user name.");
        }

        if (validation.AccessTokenId is { } tokenId)
        {
            var stored = await identity.FindAccessTokenAsync(tokenId, cancellationToken);
            if (stored is not { } found || !string.Equals(found.Token.UserName, user.Name, StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"{kind} of user {user.Name} is bound to access token {tokenId}, which was revoked", $"The personal access token this {kind} was issued for has been revoked.");
            }
        }

        if (validation.PasswordStamp is { } stamp)
        {
            var hash = await identity.GetPasswordHashAsync(user.Name, cancellationToken);
            if (hash is null || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(PasswordHashing.Stamp(hash)), Encoding.ASCII.GetBytes(stamp)))
            {
                return (null, $"{kind} of user {user.Name} predates a password change", $"The password was changed after this {kind} was issued.");
            }
        }

        return (user, null, null);
    }
}

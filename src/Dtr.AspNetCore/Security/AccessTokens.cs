using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Creates and parses personal access tokens of the form <c>dtr_pat_&lt;id&gt;_&lt;secret&gt;</c>. The id is 16
/// url-safe characters (12 random bytes, base64url) and the secret is 32 random bytes, base64url without padding.
/// Only the SHA-256 of the secret is stored: the secret is random and long, so a fast hash is enough, unlike
/// passwords, which need a slow one.
/// </summary>
internal static class AccessTokens
{
    /// <summary>The prefix of every token string, which also lets secret scanners find leaked tokens.</summary>
    public const string Prefix = "dtr_pat_";

    private const int IdBytes = 12;
    private const int SecretBytes = 32;

    // Base64url of 12 bytes is 16 characters and of 32 bytes is 43 characters, without padding.
    private const int IdLength = 16;
    private const int SecretLength = 43;

    /// <summary>
    /// Generates a token. Store <c>Id</c> and <c>SecretHash</c> through
    /// <see cref="Dtr.Identity.IIdentityStore.CreateAccessTokenAsync"/> and show <c>Token</c> to the user once.
    /// </summary>
    public static (string Id, string Token, string SecretHash) Create()
    {
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(IdBytes));
        var secret = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));
        return (id, Prefix + id + "_" + secret, HashSecret(secret));
    }

    /// <summary>
    /// Splits a token string into its id and secret. Returns false for anything that is not a well-formed token,
    /// so a caller can tell a token from a password.
    /// </summary>
    public static bool TryParse(string? token, [NotNullWhen(true)] out string? id, [NotNullWhen(true)] out string? secret)
    {
        id = null;
        secret = null;
        if (token is null || token.Length != Prefix.Length + IdLength + 1 + SecretLength || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return false;
        }

        // The id itself may contain '_' (a base64url character), so split at the fixed position.
        var idPart = token.AsSpan(Prefix.Length, IdLength);
        var separator = token[Prefix.Length + IdLength];
        var secretPart = token.AsSpan(Prefix.Length + IdLength + 1);
        if (separator != '_' || !IsBase64Url(idPart) || !IsBase64Url(secretPart))
        {
            return false;
        }

        id = idPart.ToString();
        secret = secretPart.ToString();
        return true;
    }

    /// <summary>Returns the stored form of a secret: SHA-256 of its UTF-8 bytes, as lowercase hex.</summary>
    public static string HashSecret(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>Checks a presented secret against a stored hash in constant time.</summary>
    public static bool VerifySecret(string secret, string storedHash)
    {
        var presented = Encoding.ASCII.GetBytes(HashSecret(secret));
        var stored = Encoding.ASCII.GetBytes(storedHash);
        return CryptographicOperations.FixedTimeEquals(presented, stored);
    }

    private static bool IsBase64Url(ReadOnlySpan<char> text)
    {
        foreach (var c in text)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
            {
                return false;
            }
        }

        return true;
    }
}

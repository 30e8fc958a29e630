using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Hashes and verifies user passwords with ASP.NET Core Identity's <see cref="PasswordHasher{TUser}"/>, whose
/// version 3 format in .NET 10 is PBKDF2 with HMAC-SHA512, a 128-bit salt and 100,000 iterations. The hash string
/// carries its own format marker and iteration count, so hashes made with older settings still verify.
/// </summary>
internal static class PasswordHashing
{
    /// <summary>The lowest PBKDF2 iteration count used for new hashes, whatever the framework default is.</summary>
    public const int MinimumIterations = 100_000;

    // The hasher ignores the user object and keeps no per-call state, so one instance serves every user and thread.
    private static readonly PasswordHasher<object> Hasher = CreateHasher();

    private static readonly object NoUser = new();

    /// <summary>Hashes a new password for storage in <see cref="Dtr.Identity.NewUser.PasswordHash"/>.</summary>
    public static string Hash(string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        return Hasher.HashPassword(NoUser, password);
    }

    /// <summary>
    /// Verifies <paramref name="password"/> against a stored hash in constant time. Returns false for a malformed
    /// hash instead of throwing.
    /// </summary>
    public static bool Verify(string hash, string password)
    {
        if (string.IsNullOrEmpty(hash) || string.IsNullOrEmpty(password))
        {
            return false;
        }

        try
        {
            return Hasher.VerifyHashedPassword(NoUser, hash, password) != PasswordVerificationResult.Failed;
        }
        catch (FormatException)
        {
            // A hash that is not valid base64 was not made by this class.
            return false;
        }
    }

    /// <summary>
    /// Returns a fingerprint of a stored password hash: the first 16 hex digits of its SHA-256. Refresh tokens carry
    /// it so that a password change revokes them, without carrying the hash itself.
    /// </summary>
    public static string Stamp(string hash) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(hash)))[..16];

    private static PasswordHasher<object> CreateHasher()
    {
        var options = new PasswordHasherOptions
        {
            CompatibilityMode = PasswordHasherCompatibilityMode.IdentityV3,
        };

        if (options.IterationCount < MinimumIterations)
        {
            options.IterationCount = MinimumIterations;
        }

        return new PasswordHasher<object>(Microsoft.Extensions.Options.Options.Create(options));
    }
}

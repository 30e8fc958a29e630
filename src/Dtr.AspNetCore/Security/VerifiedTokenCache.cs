using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// A bounded in-memory cache of access tokens whose ES256 signature, claims and kind
/// <see cref="RegistryTokenService"/> has already verified, keyed by the exact compact token string. It lets a
/// client that sends the same bearer token on every request skip the signature verification and JSON parsing.
/// </summary>
/// <remarks>
/// The cache only saves work: <see cref="RegistryTokenService"/> still checks the signing key id, issuer, audience
/// and lifetime of a cached token on every use, and the authenticator still reads the user on every request. An entry
/// expires at the token's expiry plus the clock skew, measured on the system clock. After that it is no longer
/// returned, and the cache's next expiration scan frees it. A full cache drops new entries until its background
/// compaction removes the least recently used ones. Tokens that fail validation are never stored.
/// </remarks>
internal sealed class VerifiedTokenCache : IDisposable
{
    private readonly MemoryCache? _cache;
    private readonly TimeProvider _time;

    public VerifiedTokenCache(IOptions<RegistryOptions> options, TimeProvider time)
    {
        _time = time;
        var capacity = options.Value.Auth.TokenCacheSize;
        if (capacity > 0)
        {
            _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = capacity });
        }
    }

    /// <summary>Returns the stored facts of a token that passed full validation before, or null.</summary>
    public VerifiedAccessToken? Find(string token) =>
        _cache is not null && _cache.TryGetValue(token, out var value) ? value as VerifiedAccessToken : null;

    /// <summary>Stores a token that just passed full validation, until its expiry plus <paramref name="clockSkew"/>.</summary>
    public void Add(string token, VerifiedAccessToken verified, TimeSpan clockSkew)
    {
        if (_cache is null)
        {
            return;
        }

        // The entry's lifetime is converted to a span because MemoryCache measures it on the system clock, which
        // may differ from the injected TimeProvider.
        var remaining = verified.ValidTo + clockSkew - _time.GetUtcNow().UtcDateTime;
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }

        using var entry = _cache.CreateEntry(token);
        entry.Value = verified;
        entry.Size = 1;
        entry.AbsoluteExpirationRelativeToNow = remaining;
    }

    public void Dispose() => _cache?.Dispose();
}

/// <summary>The facts of a verified access token that are checked again on every use, with the validation result.</summary>
/// <param name="KeyId">The <c>kid</c> of the signing key that verified the signature.</param>
/// <param name="Issuer">The <c>iss</c> claim.</param>
/// <param name="Audiences">The <c>aud</c> claim's values.</param>
/// <param name="ValidFrom">The <c>nbf</c> time in UTC, or <see cref="DateTime.MinValue"/> when the token has none.</param>
/// <param name="ValidTo">The <c>exp</c> time in UTC.</param>
/// <param name="Validation">The successful validation result, which is immutable and shared by every use.</param>
internal sealed record VerifiedAccessToken(
    string KeyId,
    string Issuer,
    IReadOnlyList<string> Audiences,
    DateTime ValidFrom,
    DateTime ValidTo,
    TokenValidation Validation);

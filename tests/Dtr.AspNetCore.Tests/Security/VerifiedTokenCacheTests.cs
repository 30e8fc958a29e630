using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>
/// Checks that a token taken from <see cref="VerifiedTokenCache"/> is still rejected when it expires, when it is
/// presented to a service with another audience, issuer or signing key, and that a tampered copy of a cached token
/// goes through full verification. Each test first asserts that the token is in the cache, so the cached path runs.
/// Services that share one cache stand for a configuration change, because one host's options are fixed.
/// </summary>
public sealed class VerifiedTokenCacheTests : IDisposable
{
    private static readonly TokenScope PullScope = new(TokenScope.RepositoryType, "alice/app", ["pull"]);
    private static readonly TokenSubject Alice = new("alice", new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));

    private readonly List<string> _folders = [];
    private readonly List<IDisposable> _disposables = [];
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 3, 4, 5, 6, 7, TimeSpan.Zero));

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        // A folder exists only where a signing key was generated.
        foreach (var folder in _folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task CachedToken_ReturnsSameResult()
    {
        var options = Options();
        var cache = CreateCache(options);
        var tokens = CreateService(options, CreateKeys(options), cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;

        var first = await tokens.ValidateAccessTokenAsync(token);
        Assert.NotNull(cache.Find(token));
        var second = await tokens.ValidateAccessTokenAsync(token);

        Assert.True(first.IsValid, first.Error);
        Assert.True(second.IsValid, second.Error);
        Assert.Equal("alice", second.Subject);
        Assert.Equal(Alice.UserCreatedAt.ToUnixTimeMilliseconds(), second.UserCreatedAt);
        var scope = Assert.Single(second.Access);
        Assert.Equal(PullScope.Name, scope.Name);
        Assert.Equal(["pull"], scope.Actions);
    }

    [Fact]
    public async Task CachedToken_RejectedAfterExpiry()
    {
        var options = Options();
        var cache = CreateCache(options);
        var tokens = CreateService(options, CreateKeys(options), cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;
        Assert.True((await tokens.ValidateAccessTokenAsync(token)).IsValid);

        // Still valid within the clock skew after exp.
        _time.Advance(options.Value.Auth.TokenLifetime + options.Value.Auth.ClockSkew);
        Assert.NotNull(cache.Find(token));
        var withinSkew = await tokens.ValidateAccessTokenAsync(token);
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(cache.Find(token));
        var expired = await tokens.ValidateAccessTokenAsync(token);

        Assert.True(withinSkew.IsValid, withinSkew.Error);
        Assert.False(expired.IsValid);
        Assert.Equal("the token has expired", expired.Error);
    }

    [Fact]
    public async Task CachedToken_RejectedForOtherAudience()
    {
        var options = Options();
        var keys = CreateKeys(options);
        var cache = CreateCache(options);
        var tokens = CreateService(options, keys, cache);
        var otherService = CreateService(Options(auth => auth.Service = "other-registry"), keys, cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;
        Assert.True((await tokens.ValidateAccessTokenAsync(token)).IsValid);
        Assert.NotNull(cache.Find(token));

        var result = await otherService.ValidateAccessTokenAsync(token);

        Assert.False(result.IsValid);
        Assert.Equal("the token is for another service", result.Error);
    }

    [Fact]
    public async Task CachedToken_RejectedForOtherIssuer()
    {
        var options = Options();
        var keys = CreateKeys(options);
        var cache = CreateCache(options);
        var tokens = CreateService(options, keys, cache);
        var otherIssuer = CreateService(Options(auth => auth.Issuer = "other-issuer"), keys, cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;
        Assert.True((await tokens.ValidateAccessTokenAsync(token)).IsValid);
        Assert.NotNull(cache.Find(token));

        var result = await otherIssuer.ValidateAccessTokenAsync(token);

        Assert.False(result.IsValid);
        Assert.Equal("the token has another issuer", result.Error);
    }

    [Fact]
    public async Task CachedToken_RejectedAfterKeyChange()
    {
        var options = Options();
        var cache = CreateCache(options);
        var tokens = CreateService(options, CreateKeys(options), cache);
        var rotatedOptions = Options();
        var rotated = CreateService(rotatedOptions, CreateKeys(rotatedOptions), cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;
        Assert.True((await tokens.ValidateAccessTokenAsync(token)).IsValid);
        Assert.NotNull(cache.Find(token));

        var result = await rotated.ValidateAccessTokenAsync(token);

        Assert.False(result.IsValid);
        Assert.Equal("the token signature is invalid", result.Error);
    }

    [Fact]
    public async Task TamperedSignature_RejectedAfterCachedOriginal()
    {
        var options = Options();
        var cache = CreateCache(options);
        var tokens = CreateService(options, CreateKeys(options), cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;
        Assert.True((await tokens.ValidateAccessTokenAsync(token)).IsValid);
        Assert.NotNull(cache.Find(token));

        // The second-to-last character of the base64url signature carries only signature bits.
        var replacement = token[^2] == 'A' ? 'B' : 'A';
        var tampered = token[..^2] + replacement + token[^1];
        var result = await tokens.ValidateAccessTokenAsync(tampered);

        Assert.False(result.IsValid);
        Assert.Equal("the token signature is invalid", result.Error);
        Assert.Null(cache.Find(tampered));
    }

    [Fact]
    public async Task RejectedToken_NotCached()
    {
        var options = Options();
        var keys = CreateKeys(options);
        var cache = CreateCache(options);
        var tokens = CreateService(options, keys, cache);
        var otherService = CreateService(Options(auth => auth.Service = "other-registry"), keys, cache);
        var token = otherService.IssueAccessToken(Alice, [PullScope]).Token;

        var result = await tokens.ValidateAccessTokenAsync(token);

        Assert.False(result.IsValid);
        Assert.Null(cache.Find(token));
    }

    [Fact]
    public async Task ZeroSize_CachesNothing()
    {
        var options = Options(auth => auth.TokenCacheSize = 0);
        var cache = CreateCache(options);
        var tokens = CreateService(options, CreateKeys(options), cache);
        var token = tokens.IssueAccessToken(Alice, [PullScope]).Token;

        var first = await tokens.ValidateAccessTokenAsync(token);
        var second = await tokens.ValidateAccessTokenAsync(token);

        Assert.True(first.IsValid, first.Error);
        Assert.True(second.IsValid, second.Error);
        Assert.Null(cache.Find(token));
    }

    /// <summary>Creates registry options with a data folder of their own, where the signing key is generated.</summary>
    private IOptions<RegistryOptions> Options(Action<RegistryAuthOptions>? configure = null)
    {
        var folder = Path.Combine(Path.GetTempPath(), "dtr-token-cache-" + Guid.NewGuid().ToString("N"));
        _folders.Add(folder);
        var registry = new RegistryOptions { DataDirectory = folder };
        configure?.Invoke(registry.Auth);
        return Microsoft.Extensions.Options.Options.Create(registry);
    }

    private SigningKeyProvider CreateKeys(IOptions<RegistryOptions> options)
    {
        var keys = new SigningKeyProvider(options, NullLogger<SigningKeyProvider>.Instance);
        _disposables.Add(keys);
        return keys;
    }

    private VerifiedTokenCache CreateCache(IOptions<RegistryOptions> options)
    {
        var cache = new VerifiedTokenCache(options, _time);
        _disposables.Add(cache);
        return cache;
    }

    private RegistryTokenService CreateService(IOptions<RegistryOptions> options, SigningKeyProvider keys, VerifiedTokenCache cache) =>
        new(keys, cache, options, _time);
}

using BenchmarkDotNet.Attributes;
using Dtr.AspNetCore.Routing;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Benchmarks;

/// <summary>
/// Issues and validates the registry's ES256 bearer tokens and checks basic credentials, with the services that
/// <c>AddDockerRegistry</c> registers on the embedded default (SQLite in a temp folder).
/// </summary>
/// <remarks>
/// The setup creates one active user who owns the private repository <c>alice/app</c>, with a password and a personal
/// access token, and issues an access token with <c>pull,push</c> on that repository. One invocation handles one
/// credential. Every invocation presents the same token, as a client does for the token's lifetime, so after the
/// first one the token comes from the verified-token cache, and the service checks only its key id, issuer, audience
/// and lifetime again. The uncached benchmark uses a second token service with the cache off
/// (<c>TokenCacheSize</c> 0), which verifies the ES256 signature, checks the claims and kind, and parses the
/// <c>access</c> claim on every call.
/// Authenticating a request with the token also reads the user from SQLite, and the <c>/v2/</c> access gate
/// for a GET manifest also reads the repository's access facts. The basic-auth benchmarks check the password with
/// PBKDF2, which the authenticator does on every request because it caches no result, or the personal access token
/// by SHA-256 after one SQLite read.
/// </remarks>
[MemoryDiagnoser]
public class TokenBenchmarks
{
    private const string UserName = "alice";
    private const string Password = "correct horse battery staple";
    private const string ClientAddress = "127.0.0.1";

    private static readonly RepositoryName Repository = RepositoryName.Parse("alice/app");

    private string _root = "";
    private ServiceProvider _services = null!;
    private RegistryTokenService _tokens = null!;
    private RegistryTokenService _uncachedTokens = null!;
    private ServiceProvider _uncachedServices = null!;
    private RegistryAuthenticator _authenticator = null!;
    private RegistryAccessGate _gate = null!;
    private TokenSubject _subject = null!;
    private IReadOnlyList<TokenScope> _scopes = [];
    private string _accessToken = "";
    private string _personalAccessToken = "";
    private DefaultHttpContext _bearerRequest = null!;

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        _uncachedServices.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Description = "validate access token (RegistryTokenService)")]
    public Task<int> ValidateAccessToken() => ValidateAsync(_tokens);

    [Benchmark(Description = "validate access token, cache off")]
    public Task<int> ValidateAccessTokenUncached() => ValidateAsync(_uncachedTokens);

    [Benchmark(Description = "authenticate bearer request (token + user read)")]
    public async Task<string?> AuthenticateBearer()
    {
        var outcome = await _authenticator.AuthenticateAsync(_bearerRequest, allowBasic: false, CancellationToken.None);
        return CallerName(outcome, "bearer request");
    }

    [Benchmark(Description = "access gate, GET manifest with bearer token")]
    public async Task<string?> AuthorizeGetManifest()
    {
        var access = await _gate.AuthorizeAsync(_bearerRequest, RegistryRouteKind.Manifest, Repository);
        return access.Caller.UserName;
    }

    [Benchmark(Description = "issue access token")]
    public string IssueAccessToken() => _tokens.IssueAccessToken(_subject, _scopes).Token;

    [Benchmark(Description = "basic auth, password (PBKDF2)")]
    public async Task<string?> VerifyPassword()
    {
        var outcome = await _authenticator.VerifyCredentialsAsync(UserName, Password, ClientAddress, CancellationToken.None);
        return CallerName(outcome, "password");
    }

    [Benchmark(Description = "basic auth, personal access token")]
    public async Task<string?> VerifyPersonalAccessToken()
    {
        var outcome = await _authenticator.VerifyCredentialsAsync(UserName, _personalAccessToken, ClientAddress, CancellationToken.None);
        return CallerName(outcome, "personal access token");
    }

    private async Task<int> ValidateAsync(RegistryTokenService tokens)
    {
        var validation = await tokens.ValidateAccessTokenAsync(_accessToken);
        if (!validation.IsValid)
        {
            throw new InvalidOperationException($"The benchmark token was rejected: {validation.Error}");
        }

        return validation.Access.Count;
    }

    private static string? CallerName(AuthenticationOutcome outcome, string credential)
    {
        if (!outcome.Succeeded)
        {
            throw new InvalidOperationException($"The benchmark {credential} was rejected: {outcome.FailureMessage}");
        }

        return outcome.Caller!.UserName;
    }

    private async Task SetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "dtr-token-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddDockerRegistry(options => options.DataDirectory = _root);
        _services = services.BuildServiceProvider();

        await _services.GetRequiredService<IMetadataStore>().MigrateAsync();
        var identity = _services.GetRequiredService<IIdentityStore>();
        var user = await identity.CreateUserAsync(new NewUser { Name = UserName, PasswordHash = PasswordHashing.Hash(Password) });
        await identity.CreateRepositoryAsync(new RepositorySettings(Repository, RepositoryVisibility.Private, null, ScanOnPush: false, ImmutableTags: false, DateTimeOffset.UtcNow));

        var (tokenId, token, secretHash) = AccessTokens.Create();
        await identity.CreateAccessTokenAsync(UserName, tokenId, secretHash, "benchmark");
        _personalAccessToken = token;

        _tokens = _services.GetRequiredService<RegistryTokenService>();
        _authenticator = _services.GetRequiredService<RegistryAuthenticator>();
        _gate = _services.GetRequiredService<RegistryAccessGate>();
        _subject = new TokenSubject(user.Name, user.CreatedAt);
        _scopes = [new TokenScope(TokenScope.RepositoryType, Repository.Value, ["pull", "push"])];
        _accessToken = _tokens.IssueAccessToken(_subject, _scopes).Token;

        // Same data folder, so the same signing key, but no verified-token cache.
        var uncached = new ServiceCollection();
        uncached.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        uncached.AddDockerRegistry(options =>
        {
            options.DataDirectory = _root;
            options.Auth.TokenCacheSize = 0;
        });
        _uncachedServices = uncached.BuildServiceProvider();
        _uncachedTokens = _uncachedServices.GetRequiredService<RegistryTokenService>();
        Console.WriteLine($"// Access token: {_accessToken.Length} characters");

        // The authenticator and the gate read the request and write nothing to the context, so one context serves
        // every invocation.
        _bearerRequest = new DefaultHttpContext { RequestServices = _services };
        _bearerRequest.Request.Method = HttpMethods.Get;
        _bearerRequest.Request.Headers.Authorization = "Bearer " + _accessToken;
    }
}

using System.Buffers.Text;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>
/// A registry host with authentication on and basic authentication allowed on /v2, with a failed sign-in limit
/// high enough that tests sending wrong passwords do not throttle each other.
/// </summary>
public class AuthRegistryFactory : RegistryFactory
{
    public AuthRegistryFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    protected AuthRegistryFactory(IDictionary<string, string?> overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Registry:Auth:Enabled"] = "true",
            ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
            ["Registry:Auth:FailedLoginLimit"] = "100000",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        Settings = settings;
    }

    public IIdentityStore Identity => Services.GetRequiredService<IIdentityStore>();

    /// <summary>Creates a client with no credentials.</summary>
    public RegistryClient CreateAnonymousClient() => new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));

    /// <summary>Creates a client that sends basic authentication on every request.</summary>
    public RegistryClient CreateBasicClient(string userName, string password)
    {
        var client = CreateAnonymousClient();
        client.Http.DefaultRequestHeaders.Authorization = AuthTestSupport.Basic(userName, password);
        return client;
    }

    /// <summary>Creates a client that sends a bearer token on every request.</summary>
    public RegistryClient CreateBearerClient(string token)
    {
        var client = CreateAnonymousClient();
        client.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Creates a user with a password; the password hash costs about as much as a sign-in.</summary>
    public async Task CreateUserAsync(string name, string password, bool isAdmin = false, bool isActive = true)
    {
        await Identity.CreateUserAsync(new NewUser
        {
            Name = name,
            PasswordHash = PasswordHashing.Hash(password),
            IsAdmin = isAdmin,
            IsActive = isActive,
        });
    }

    /// <summary>Creates a personal access token for a user and returns the token string.</summary>
    public async Task<(string Id, string Token)> CreateAccessTokenAsync(string userName)
    {
        var (id, token, secretHash) = AccessTokens.Create();
        await Identity.CreateAccessTokenAsync(userName, id, secretHash, "test");
        return (id, token);
    }

    /// <summary>Creates repository settings.</summary>
    public async Task CreateRepositoryAsync(string name, RepositoryVisibility visibility, bool immutableTags = false)
    {
        await Identity.CreateRepositoryAsync(new RepositorySettings(
            RepositoryName.Parse(name), visibility, null, ScanOnPush: false, ImmutableTags: immutableTags, DateTimeOffset.UtcNow));
    }

    /// <summary>The key that signs this host's tokens.</summary>
    internal ECDsa SigningKey => Services.GetRequiredService<SigningKeyProvider>().SecurityKey.ECDsa;
}

/// <summary>Helpers to build credentials and hand-made JSON Web Tokens.</summary>
public static class AuthTestSupport
{
    public const string Service = "dtr-registry";
    public const string Issuer = "dtr-token-issuer";

    public static AuthenticationHeaderValue Basic(string userName, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password)));

    /// <summary>
    /// Builds the claims of an access token, valid from now for five minutes. <paramref name="userCreatedAt"/> is the
    /// subject's account creation time, which a token of a user must carry.
    /// </summary>
    public static Dictionary<string, object?> AccessClaims(string? subject, DateTimeOffset? userCreatedAt, string repository, params string[] actions)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var claims = new Dictionary<string, object?>
        {
            ["iss"] = Issuer,
            ["sub"] = subject,
            ["aud"] = Service,
            ["exp"] = now + 300,
            ["nbf"] = now,
            ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"),
            ["token_use"] = "access",
            ["access"] = new[] { new { type = "repository", name = repository, actions } },
        };
        if (userCreatedAt is { } createdAt)
        {
            claims["uct"] = createdAt.ToUnixTimeMilliseconds();
        }

        return claims;
    }

    /// <summary>Signs claims with an ECDSA P-256 key as ES256.</summary>
    public static string SignEs256(IDictionary<string, object?> claims, ECDsa key, string typ = "JWT")
    {
        var signingInput = Encode(new { alg = "ES256", typ }) + "." + Encode(claims);
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256);
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Signs claims with HMAC-SHA256 (HS256) using <paramref name="secret"/> as the key.</summary>
    public static string SignHs256(IDictionary<string, object?> claims, byte[] secret)
    {
        var signingInput = Encode(new { alg = "HS256", typ = "JWT" }) + "." + Encode(claims);
        var signature = HMACSHA256.HashData(secret, Encoding.ASCII.GetBytes(signingInput));
        return signingInput + "." + Base64Url.EncodeToString(signature);
    }

    /// <summary>Builds an unsigned token with <c>alg: none</c>.</summary>
    public static string Unsigned(IDictionary<string, object?> claims) =>
        Encode(new { alg = "none", typ = "JWT" }) + "." + Encode(claims) + ".";

    /// <summary>Decodes the payload of a compact JWT.</summary>
    public static JsonElement Payload(string token) =>
        JsonDocument.Parse(Base64Url.DecodeFromChars(token.Split('.')[1])).RootElement.Clone();

    /// <summary>Replaces the payload of a signed token, keeping its header and signature.</summary>
    public static string ReplacePayload(string token, object payload)
    {
        var parts = token.Split('.');
        return parts[0] + "." + Encode(payload) + "." + parts[2];
    }

    public static string Encode(object value) => Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(value));
}

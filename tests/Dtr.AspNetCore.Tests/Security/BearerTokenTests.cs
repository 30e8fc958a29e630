using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.Security.TokenFlowFixture;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class BearerTokenTests : IClassFixture<TokenFlowFixture>
{
    private const string Realm = "http://localhost/auth/token";

    private readonly TokenFlowFixture _fixture;

    public BearerTokenTests(TokenFlowFixture fixture) => _fixture = fixture;

    [Fact]
    public async Task Bearer_PullsWithGrantedScope()
    {
        var token = await TokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/manifests/v1", ("Accept", _fixture.PrivateManifest.MediaType));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Bearer_AnonymousTokenPullsPublic()
    {
        var token = await TokenAsync(null, null, $"repository:{PublicRepository}:pull");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var tags = await client.GetAsync($"/v2/{PublicRepository}/tags/list");
        using var version = await client.GetAsync("/v2/");

        Assert.Equal(HttpStatusCode.OK, tags.StatusCode);
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
    }

    [Fact]
    public async Task Bearer_MissingActionIsInsufficientScope()
    {
        var token = await TokenAsync("alice", AlicePassword, $"repository:{PrivateRepository}:pull");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.PutManifestAsync(PrivateRepository, "v2", _fixture.PrivateManifest.Bytes, _fixture.PrivateManifest.MediaType);

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal(
            $"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PrivateRepository}:pull,push\",error=\"insufficient_scope\"",
            Challenge(response));
    }

    [Fact]
    public async Task Bearer_TokenForOtherRepositoryRejected()
    {
        var token = await TokenAsync("alice", AlicePassword, $"repository:{PublicRepository}:pull,push");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/tags/list");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(
            $"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PrivateRepository}:pull\",error=\"insufficient_scope\"",
            Challenge(response));
    }

    [Fact]
    public async Task Bearer_UserWithoutRightIsDenied()
    {
        var token = await TokenAsync("bob", BobPassword, $"repository:{PrivateRepository}:pull,push");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/tags/list");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
    }

    [Fact]
    public async Task Bearer_CatalogListsVisibleRepositories()
    {
        var token = await TokenAsync("bob", BobPassword, "registry:catalog:*");
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync("/v2/_catalog");
        var names = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement
            .GetProperty("repositories").EnumerateArray().Select(name => name.GetString()).ToList();

        Assert.Contains(BobRepository, names);
        Assert.Contains(PublicRepository, names);
        Assert.DoesNotContain(PrivateRepository, names);
    }

    [Fact]
    public async Task Challenge_BaseHasNoScope()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/v2/");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"dtr-registry\"", Challenge(response));
        Assert.Equal("registry/2.0", response.Headers.GetValues(RegistryClient.ApiVersionHeader).Single());
    }

    [Fact]
    public async Task Challenge_PullNamesRepositoryScope()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/manifests/v1");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PrivateRepository}:pull\"", Challenge(response));
        Assert.Equal("registry/2.0", response.Headers.GetValues(RegistryClient.ApiVersionHeader).Single());
    }

    [Fact]
    public async Task Challenge_UploadAndDeleteScopes()
    {
        using var client = _fixture.Factory.CreateAnonymousClient();
        using var upload = await client.SendAsync(HttpMethod.Post, $"/v2/{PublicRepository}/blobs/uploads/");
        using var delete = await client.DeleteAsync($"/v2/{PublicRepository}/manifests/v1");

        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PublicRepository}:pull,push\"", Challenge(upload));
        Assert.Equal($"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PublicRepository}:delete\"", Challenge(delete));
    }

    [Fact]
    public async Task Challenge_RealmUsesPublicBaseUrl()
    {
        await using var factory = new PublicBaseFactory();
        using var client = factory.CreateAnonymousClient();
        using var response = await client.GetAsync("/v2/");

        Assert.Equal("Bearer realm=\"https://registry.example.test/auth/token\",service=\"dtr-registry\"", Challenge(response));
    }

    public static TheoryData<string> ForgedTokens() =>
    [
        "tampered payload",
        "tampered signature",
        "expired",
        "wrong audience",
        "wrong issuer",
        "alg none",
        "HS256 with public key DER",
        "HS256 with public key PEM",
        "other signing key",
        "refresh token",
        "no expiration",
        "no user creation time",
        "other user creation time",
        "garbage",
    ];

    [Theory]
    [MemberData(nameof(ForgedTokens))]
    public async Task Bearer_ForgedTokenRejected(string kind)
    {
        var token = await ForgeAsync(kind);
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/manifests/v1");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
        Assert.Equal(
            $"Bearer realm=\"{Realm}\",service=\"dtr-registry\",scope=\"repository:{PrivateRepository}:pull\",error=\"invalid_token\"",
            Challenge(response));
    }

    [Fact]
    public async Task Bearer_HandSignedValidTokenAccepted()
    {
        // The control for the forged tokens: the same construction with correct values passes.
        var token = AuthTestSupport.SignEs256(AuthTestSupport.AccessClaims("alice", _fixture.AliceCreatedAt, PrivateRepository, "pull"), _fixture.Factory.SigningKey);
        using var client = _fixture.Factory.CreateBearerClient(token);
        using var response = await client.GetAsync($"/v2/{PrivateRepository}/tags/list");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private async Task<string> ForgeAsync(string kind)
    {
        var key = _fixture.Factory.SigningKey;
        var claims = AuthTestSupport.AccessClaims("alice", _fixture.AliceCreatedAt, PrivateRepository, "pull");
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        switch (kind)
        {
            case "tampered payload":
                var genuine = await TokenAsync("bob", BobPassword, $"repository:{BobRepository}:pull");
                return AuthTestSupport.ReplacePayload(genuine, claims);

            case "tampered signature":
                var signed = AuthTestSupport.SignEs256(claims, key);
                var last = signed[^2] == 'A' ? 'B' : 'A';
                return signed[..^2] + last + signed[^1];

            case "expired":
                claims["exp"] = now - 120;
                claims["nbf"] = now - 420;
                claims["iat"] = now - 420;
                return AuthTestSupport.SignEs256(claims, key);

            case "wrong audience":
                claims["aud"] = "other-registry";
                return AuthTestSupport.SignEs256(claims, key);

            case "wrong issuer":
                claims["iss"] = "someone-else";
                return AuthTestSupport.SignEs256(claims, key);

            case "alg none":
                return AuthTestSupport.Unsigned(claims);

            case "HS256 with public key DER":
                return AuthTestSupport.SignHs256(claims, key.ExportSubjectPublicKeyInfo());

            case "HS256 with public key PEM":
                return AuthTestSupport.SignHs256(claims, Encoding.ASCII.GetBytes(key.ExportSubjectPublicKeyInfoPem()));

            case "other signing key":
                using (var other = ECDsa.Create(ECCurve.NamedCurves.nistP256))
                {
                    return AuthTestSupport.SignEs256(claims, other);
                }

            case "refresh token":
                using (var client = _fixture.Factory.CreateBasicClient("alice", AlicePassword))
                {
                    using var response = await client.GetAsync("/auth/token?offline_token=true");
                    var body = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement;
                    return body.GetProperty("refresh_token").GetString()!;
                }

            case "no expiration":
                claims.Remove("exp");
                return AuthTestSupport.SignEs256(claims, key);

            case "no user creation time":
                claims.Remove("uct");
                return AuthTestSupport.SignEs256(claims, key);

            case "other user creation time":
                claims["uct"] = _fixture.AliceCreatedAt.AddMilliseconds(-1).ToUnixTimeMilliseconds();
                return AuthTestSupport.SignEs256(claims, key);

            default:
                return "not-a-jwt";
        }
    }

    private async Task<string> TokenAsync(string? userName, string? password, params string[] scopes) =>
        (await _fixture.GetTokenAsync(userName, password, scopes)).GetProperty("token").GetString()!;

    private static string Challenge(HttpResponseMessage response) =>
        response.Headers.TryGetValues("WWW-Authenticate", out var values) ? values.Single() : "";

    private sealed class PublicBaseFactory : AuthRegistryFactory
    {
        public PublicBaseFactory()
            : base(new Dictionary<string, string?> { ["Registry:PublicBaseUrl"] = "https://registry.example.test" })
        {
        }
    }
}

using System.Net;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class AccessPolicyTests
{
    private const string Password = "correct-password";

    [Fact]
    public async Task BasicOnRegistryApi_IgnoredWhenOff()
    {
        await using var factory = new PolicyFactory(new() { ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "false" });
        await factory.CreateUserAsync("carol", Password);
        await factory.CreateRepositoryAsync("carol/app", RepositoryVisibility.Private);

        using var basic = factory.CreateBasicClient("carol", Password);
        using var onRegistry = await basic.GetAsync("/v2/carol/app/tags/list");
        using var onTokenEndpoint = await basic.GetAsync("/auth/token?scope=repository:carol/app:pull");

        Assert.Equal(HttpStatusCode.Unauthorized, onRegistry.StatusCode);
        Assert.Equal("Bearer realm=\"http://localhost/auth/token\",service=\"dtr-registry\",scope=\"repository:carol/app:pull\"", onRegistry.Headers.WwwAuthenticate.ToString());
        Assert.Equal(HttpStatusCode.OK, onTokenEndpoint.StatusCode);
    }

    [Fact]
    public async Task BasicOnRegistryApi_WrongPasswordIs401()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("carol", Password);

        using var client = factory.CreateBasicClient("carol", "wrong");
        using var response = await client.GetAsync("/v2/");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task FailedLogins_RateLimitedWithRetryAfter()
    {
        await using var factory = new PolicyFactory(new() { ["Registry:Auth:FailedLoginLimit"] = "3" });
        await factory.CreateUserAsync("dave", Password);

        using var wrong = factory.CreateBasicClient("dave", "wrong");
        for (var attempt = 0; attempt < 3; attempt++)
        {
            using var failed = await wrong.GetAsync("/auth/token");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        // Once throttled, even the right password waits, on the token endpoint and on /v2 alike.
        using var right = factory.CreateBasicClient("dave", Password);
        using var token = await right.GetAsync("/auth/token");
        using var registry = await right.GetAsync("/v2/");

        await RegistryClient.AssertErrorAsync(token, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.True(token.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After is '{token.Headers.RetryAfter}'.");
        await RegistryClient.AssertErrorAsync(registry, (HttpStatusCode)429, "TOOMANYREQUESTS");
        Assert.True(registry.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After is '{registry.Headers.RetryAfter}'.");
    }

    [Fact]
    public async Task FailedLogins_RetryAfterIsUpperBound()
    {
        await using var factory = new PolicyFactory(new()
        {
            ["Registry:Auth:FailedLoginLimit"] = "2",
            ["Registry:Auth:FailedLoginWindow"] = "00:00:02",
        });
        await factory.CreateUserAsync("gwen", Password);
        using var wrong = factory.CreateBasicClient("gwen", "wrong");
        using var right = factory.CreateBasicClient("gwen", Password);
        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var failed = await wrong.GetAsync("/auth/token");
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var throttled = await right.GetAsync("/auth/token");
        Assert.Equal((HttpStatusCode)429, throttled.StatusCode);
        var retryAfter = throttled.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.True(retryAfter >= TimeSpan.FromSeconds(2), $"Retry-After {retryAfter} is shorter than the 2-second window.");

        // Waiting as long as Retry-After says must be enough.
        await Task.Delay(retryAfter.Value);
        using var accepted = await right.GetAsync("/auth/token");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task FailedLogins_PasswordGrantRateLimited()
    {
        await using var factory = new PolicyFactory(new() { ["Registry:Auth:FailedLoginLimit"] = "2" });
        using var client = factory.CreateAnonymousClient();
        var form = new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = "nobody", ["password"] = "wrong" };

        using var first = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));
        using var second = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));
        using var third = await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Unauthorized, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
        Assert.Equal((HttpStatusCode)429, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
    }

    [Fact]
    public async Task MissingRepository_PushNamesHowToCreate()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("erin", Password);
        using var client = factory.CreateBasicClient("erin", Password);

        using var response = await client.SendAsync(HttpMethod.Post, "/v2/erin/missing/blobs/uploads/");

        var error = await RegistryClient.AssertErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Equal(
            "repository 'erin/missing' does not exist; create it first with POST /api/v0/repositories/erin",
            error.GetProperty("message").GetString());
    }

    [Fact]
    public async Task MissingRepository_OtherNamespaceNotRevealed()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("erin", Password);
        await factory.CreateUserAsync("frank", Password);
        using var client = factory.CreateBasicClient("frank", Password);
        using var anonymous = factory.CreateAnonymousClient();

        using var push = await client.SendAsync(HttpMethod.Post, "/v2/erin/missing/blobs/uploads/");
        using var pull = await client.GetAsync("/v2/erin/missing/manifests/latest");
        using var anonymousPull = await anonymous.GetAsync("/v2/erin/missing/manifests/latest");

        await RegistryClient.AssertErrorAsync(push, HttpStatusCode.Forbidden, "DENIED");
        await RegistryClient.AssertErrorAsync(pull, HttpStatusCode.Forbidden, "DENIED");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymousPull.StatusCode);
    }

    [Fact]
    public async Task MissingRepository_OwnerPullIsUnknown()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("erin", Password);
        using var client = factory.CreateBasicClient("erin", Password);

        using var manifest = await client.GetAsync("/v2/erin/missing/manifests/latest");
        using var blob = await client.GetAsync("/v2/erin/missing/blobs/" + TestContent.EmptySha256);
        using var tags = await client.GetAsync("/v2/erin/missing/tags/list");

        await RegistryClient.AssertErrorAsync(manifest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await RegistryClient.AssertErrorAsync(blob, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
        await RegistryClient.AssertErrorAsync(tags, HttpStatusCode.NotFound, "NAME_UNKNOWN");
    }

    [Fact]
    public async Task CreateOnPush_CreatesPrivateRepository()
    {
        await using var factory = new PolicyFactory(new() { ["Registry:CreateRepositoryOnPush"] = "true" });
        await factory.CreateUserAsync("gina", Password);
        await factory.Identity.CreateOrganizationAsync("gina-org");
        await factory.Identity.AddOwnerAsync("gina-org", "gina");
        using var client = factory.CreateBasicClient("gina", Password);

        await client.PushImageAsync("gina/new", "v1");
        await client.PushImageAsync("gina-org/tool", "v1");

        var created = await factory.Identity.GetRepositoryAsync(RepositoryName.Parse("gina/new"));
        Assert.Equal(RepositoryVisibility.Private, created?.Visibility);
        Assert.NotNull(await factory.Identity.GetRepositoryAsync(RepositoryName.Parse("gina-org/tool")));
    }

    [Fact]
    public async Task CreateOnPush_OtherNamespaceDenied()
    {
        await using var factory = new PolicyFactory(new() { ["Registry:CreateRepositoryOnPush"] = "true" });
        await factory.CreateUserAsync("gina", Password);
        await factory.CreateUserAsync("hank", Password);
        using var client = factory.CreateBasicClient("hank", Password);

        using var response = await client.SendAsync(HttpMethod.Post, "/v2/gina/new/blobs/uploads/");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
        Assert.Null(await factory.Identity.GetRepositoryAsync(RepositoryName.Parse("gina/new")));
    }

    [Fact]
    public async Task Mount_WithoutPullOnSourceFallsBack()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("ivy", Password);
        await factory.CreateUserAsync("jack", Password);
        await factory.CreateRepositoryAsync("ivy/secret", RepositoryVisibility.Private);
        await factory.CreateRepositoryAsync("ivy/shared", RepositoryVisibility.Public);
        await factory.CreateRepositoryAsync("jack/app", RepositoryVisibility.Private);
        using var ivy = factory.CreateBasicClient("ivy", Password);
        var secret = await ivy.PushBlobAsync("ivy/secret", TestContent.RandomBytes(32, 10));
        var shared = await ivy.PushBlobAsync("ivy/shared", TestContent.RandomBytes(32, 11));

        using var jack = factory.CreateBasicClient("jack", Password);
        using var denied = await jack.SendAsync(HttpMethod.Post, $"/v2/jack/app/blobs/uploads/?mount={secret}&from=ivy/secret");
        using var allowed = await jack.SendAsync(HttpMethod.Post, $"/v2/jack/app/blobs/uploads/?mount={shared}&from=ivy/shared");

        Assert.Equal(HttpStatusCode.Accepted, denied.StatusCode);
        Assert.Equal(HttpStatusCode.Created, allowed.StatusCode);
        using var head = await jack.HeadAsync($"/v2/jack/app/blobs/{secret}");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    [Fact]
    public async Task ImmutableTag_DeleteDenied()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("kim", Password);
        await factory.CreateRepositoryAsync("kim/app", RepositoryVisibility.Private, immutableTags: true);
        using var client = factory.CreateBasicClient("kim", Password);
        await client.PushImageAsync("kim/app", "v1");

        using var response = await client.DeleteAsync("/v2/kim/app/manifests/v1");

        var error = await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
        Assert.Contains("immutable", error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task InactiveUser_PasswordRejected()
    {
        await using var factory = new PolicyFactory([]);
        await factory.CreateUserAsync("lee", Password, isActive: false);
        using var client = factory.CreateBasicClient("lee", Password);

        using var response = await client.GetAsync("/auth/token");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Unauthorized, "UNAUTHORIZED");
    }

    [Fact]
    public async Task SigningKey_GeneratedOwnerOnlyAndReused()
    {
        string keyId;
        string dataDirectory;
        await using (var factory = new PolicyFactory([]))
        {
            keyId = factory.Services.GetRequiredService<SigningKeyProvider>().SecurityKey.KeyId;
            dataDirectory = factory.DataDirectory;
            var path = Path.Combine(dataDirectory, SigningKeyProvider.GeneratedKeyFileName);
            Assert.True(File.Exists(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            // A second host on the same data folder must load the same key.
            await using var second = new PolicyFactory(new() { ["Registry:DataDirectory"] = dataDirectory });
            Assert.Equal(keyId, second.Services.GetRequiredService<SigningKeyProvider>().SecurityKey.KeyId);
        }

        Assert.False(string.IsNullOrEmpty(keyId));
    }

    [Fact]
    public async Task SigningKey_WrongCurveStopsStart()
    {
        var path = Path.Combine(Path.GetTempPath(), "dtr-test-key-" + Guid.NewGuid().ToString("N") + ".pem");
        using (var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384))
        {
            await File.WriteAllTextAsync(path, key.ExportPkcs8PrivateKeyPem());
        }

        try
        {
            await using var factory = new PolicyFactory(new() { ["Registry:Auth:SigningKeyPath"] = path });
            var error = Assert.ThrowsAny<Exception>(() => factory.Services);
            Assert.Contains("P-256", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class PolicyFactory(Dictionary<string, string?> overrides) : AuthRegistryFactory(overrides);
}

using System.Net;
using System.Text.Json;
using Dtr.Identity;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>
/// A host with authentication on and two users: alice owns the private repository alice/app and the public
/// repository alice/public, each with an image tagged v1; bob owns bob/private.
/// </summary>
public sealed class TokenFlowFixture : IAsyncLifetime
{
    public const string AlicePassword = "alice-password-1";
    public const string BobPassword = "bob-password-1";
    public const string PrivateRepository = "alice/app";
    public const string PublicRepository = "alice/public";
    public const string BobRepository = "bob/private";

    public AuthRegistryFactory Factory { get; } = new();

    public TestManifest PrivateManifest { get; private set; } = null!;

    public TestManifest BobManifest { get; private set; } = null!;

    /// <summary>When alice's account was created, which tokens of alice carry.</summary>
    public DateTimeOffset AliceCreatedAt { get; private set; }

    public async Task InitializeAsync()
    {
        await Factory.CreateUserAsync("alice", AlicePassword);
        await Factory.CreateUserAsync("bob", BobPassword);
        AliceCreatedAt = (await Factory.Identity.GetUserAsync("alice"))!.CreatedAt;
        await Factory.CreateRepositoryAsync(PrivateRepository, RepositoryVisibility.Private);
        await Factory.CreateRepositoryAsync(PublicRepository, RepositoryVisibility.Public);
        await Factory.CreateRepositoryAsync(BobRepository, RepositoryVisibility.Private);

        using var alice = Factory.CreateBasicClient("alice", AlicePassword);
        PrivateManifest = await alice.PushImageAsync(PrivateRepository, "v1");
        await alice.PushImageAsync(PublicRepository, "v1", seed: 2);
        using var bob = Factory.CreateBasicClient("bob", BobPassword);
        BobManifest = await bob.PushImageAsync(BobRepository, "v1", seed: 3);
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();

    /// <summary>Requests a token with GET and returns the parsed response, asserting 200.</summary>
    public async Task<JsonElement> GetTokenAsync(string? userName, string? password, params string[] scopes)
    {
        using var client = userName is null ? Factory.CreateAnonymousClient() : Factory.CreateBasicClient(userName, password!);
        var query = "service=" + AuthTestSupport.Service + string.Concat(scopes.Select(scope => "&scope=" + Uri.EscapeDataString(scope)));
        using var response = await client.GetAsync("/auth/token?" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await RegistryClient.DescribeAsync(response));
        return JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync()).RootElement.Clone();
    }

    /// <summary>Returns the granted actions per resource name in a token's access claim.</summary>
    public static Dictionary<string, List<string>> Grants(string token)
    {
        var grants = new Dictionary<string, List<string>>();
        foreach (var entry in AuthTestSupport.Payload(token).GetProperty("access").EnumerateArray())
        {
            grants[entry.GetProperty("type").GetString() + ":" + entry.GetProperty("name").GetString()] =
                entry.GetProperty("actions").EnumerateArray().Select(action => action.GetString()!).ToList();
        }

        return grants;
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Two sample hosts with authentication on that share PostgreSQL, an S3 bucket and the token signing key file: a
/// token that one host issues works on the other, and the administrator that both were configured to create exists once.
/// </summary>
[Collection(ScaledOutRegistryCollection.Name)]
public sealed class SharedSigningKeyTests(ScaledOutRegistryFixture fixture)
{
    private const string Repository = "admin/scaled-token";

    private readonly ScaledOutRequests _requests = new(fixture);

    private ScaledOutHost HostA => fixture.SecuredA;
    private ScaledOutHost HostB => fixture.SecuredB;

    [Fact]
    public async Task TokenFromHostA_AcceptedByHostB()
    {
        // Both hosts started with the same administrator password on one empty database, and one of them created it.
        using (var adminOnA = new ManagementApiClient(new Uri($"http://{HostA.Address}"), fixture.AdminUserName, fixture.AdminPassword, fixture.DescribeHosts))
        {
            await adminOnA.CreateRepositoryAsync("admin", "scaled-token", "private");
        }

        using (var adminOnB = new ManagementApiClient(new Uri($"http://{HostB.Address}"), fixture.AdminUserName, fixture.AdminPassword, fixture.DescribeHosts))
        {
            var response = await adminOnB.SendAsync(HttpMethod.Get, "users", null);
            var users = (response?["users"]?.AsArray() ?? []).Select(user => user?["name"]?.GetValue<string>()).ToList();
            Assert.Equal([fixture.AdminUserName], users);
        }

        var token = await RequestTokenFromAAsync($"repository:{Repository}:pull,push");

        using (var baseCheck = await ScaledOutRequests.SendAsync(HostB, HttpMethod.Get, "/v2/", token))
        {
            await _requests.AssertStatusAsync(baseCheck, HttpStatusCode.OK, HostB, "GET /v2/ with host A's token");
        }

        var digest = await _requests.PushImageAsync(HostB, Repository, "v1", Encoding.UTF8.GetBytes("pushed to B with A's token"), token);

        var onA = await _requests.GetManifestAsync(HostA, Repository, "v1", token);
        Assert.Equal(HttpStatusCode.OK, onA.Status);
        Assert.Equal(digest, onA.Digest);

        // Host B checks the signature rather than accepting any token: the same token with a changed signature fails.
        var signatureStart = token.LastIndexOf('.') + 1;
        var forged = token[..signatureStart] + (token[signatureStart] == 'A' ? 'B' : 'A') + token[(signatureStart + 1)..];
        var withForgedToken = await _requests.GetManifestAsync(HostB, Repository, "v1", forged);
        Assert.Equal(HttpStatusCode.Unauthorized, withForgedToken.Status);
    }

    /// <summary>Follows host A's Bearer challenge to its token endpoint as the administrator and returns the token.</summary>
    private async Task<string> RequestTokenFromAAsync(string scope)
    {
        using var anonymous = await HostA.Http.GetAsync("/v2/");
        Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized,
            $"An anonymous GET /v2/ on host A returned {(int)anonymous.StatusCode}; expected 401.\n{fixture.DescribeHosts()}");
        var challenge = BearerChallenge.From(anonymous);
        Assert.True(challenge is not null, $"Host A's 401 has no Bearer challenge.\n{fixture.DescribeHosts()}");
        Assert.StartsWith($"http://{HostA.Address}/", challenge.Realm, StringComparison.Ordinal);

        using var response = await challenge.RequestTokenAsync(HostA.Http, scope, (fixture.AdminUserName, fixture.AdminPassword));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Host A's token endpoint returned {(int)response.StatusCode}: {body}\n{fixture.DescribeHosts()}");
        var token = JsonNode.Parse(body)?["token"]?.GetValue<string>();
        Assert.True(!string.IsNullOrEmpty(token), $"Host A's token response has no token: {body}");
        return token;
    }
}

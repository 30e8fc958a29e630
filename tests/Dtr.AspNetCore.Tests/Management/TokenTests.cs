using System.Net;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class TokenTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public TokenTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private async Task<string> NewUserAsync()
    {
        var name = "tok" + Guid.NewGuid().ToString("N")[..8];
        await _admin.CreateUserAsync(name);
        return name;
    }

    private ManagementClient SignIn(string name) => _factory.CreateManagementClient(name, PasswordOf(name));

    [Fact]
    public async Task CreateToken_ShownOnceListedWithoutSecret()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);

        using var created = await user.PostAsync($"/users/{name}/tokens", new { label = "ci" });
        var token = await ReadJsonAsync(created, HttpStatusCode.Created);
        using var listed = await user.GetAsync($"/users/{name}/tokens");
        var list = await ReadJsonAsync(listed);

        var id = token.GetProperty("id").GetString()!;
        var secret = token.GetProperty("token").GetString()!;
        Assert.StartsWith("dtr_pat_", secret, StringComparison.Ordinal);
        Assert.Equal("ci", token.GetProperty("label").GetString());
        var entry = Assert.Single(list.GetProperty("tokens").EnumerateArray());
        Assert.Equal(id, entry.GetProperty("id").GetString());
        Assert.Equal("ci", entry.GetProperty("label").GetString());
        Assert.False(entry.TryGetProperty("token", out _));
        Assert.True(entry.TryGetProperty("lastUsedAt", out _));
        var listBody = await listed.Content.ReadAsStringAsync();
        Assert.DoesNotContain(secret[^20..], listBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateToken_WithoutBody()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{Prefix}/users/{name}/tokens");
        request.Headers.Authorization = BasicHeader(name, PasswordOf(name));

        using var response = await user.Http.SendAsync(request);

        var token = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, token.GetProperty("label").ValueKind);
    }

    [Fact]
    public async Task Token_SignsInUntilRevoked()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        using var created = await user.PostAsync($"/users/{name}/tokens", new { label = "laptop" });
        var token = await ReadJsonAsync(created, HttpStatusCode.Created);
        var id = token.GetProperty("id").GetString()!;
        using var withToken = _factory.CreateManagementClient(name, token.GetProperty("token").GetString());

        using var before = await withToken.GetAsync($"/users/{name}");
        using var revoked = await user.DeleteAsync($"/users/{name}/tokens/{id}");
        using var after = await withToken.GetAsync($"/users/{name}");
        using var revokedAgain = await user.DeleteAsync($"/users/{name}/tokens/{id}");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        await AssertProblemAsync(after, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(revokedAgain, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Tokens_OtherUserIs403()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        var otherName = await NewUserAsync();
        using var other = SignIn(otherName);
        using var created = await user.PostAsync($"/users/{name}/tokens", new { label = "mine" });
        var id = (await ReadJsonAsync(created, HttpStatusCode.Created)).GetProperty("id").GetString();

        using var create = await other.PostAsync($"/users/{name}/tokens", new { label = "theirs" });
        using var list = await other.GetAsync($"/users/{name}/tokens");
        using var revoke = await other.DeleteAsync($"/users/{name}/tokens/{id}");
        using var ownList = await other.GetAsync($"/users/{otherName}/tokens");

        await AssertProblemAsync(create, HttpStatusCode.Forbidden);
        await AssertProblemAsync(list, HttpStatusCode.Forbidden);
        await AssertProblemAsync(revoke, HttpStatusCode.Forbidden);
        Assert.Empty((await ReadJsonAsync(ownList)).GetProperty("tokens").EnumerateArray());
    }

    [Fact]
    public async Task Tokens_AdminManagesAnyUser()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);

        using var created = await _admin.PostAsync($"/users/{name}/tokens", new { label = "issued" });
        using var listed = await _admin.GetAsync($"/users/{name}/tokens");
        using var missingUser = await _admin.PostAsync("/users/nobody-here/tokens", new { label = "x" });
        using var missingList = await _admin.GetAsync("/users/nobody-here/tokens");

        await ReadJsonAsync(created, HttpStatusCode.Created);
        Assert.Single((await ReadJsonAsync(listed)).GetProperty("tokens").EnumerateArray());
        await AssertProblemAsync(missingUser, HttpStatusCode.NotFound);
        await AssertProblemAsync(missingList, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task CreateToken_LongLabelIs400()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);

        using var response = await user.PostAsync($"/users/{name}/tokens", new { label = new string('x', 2000) });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("label", out _));
    }
}

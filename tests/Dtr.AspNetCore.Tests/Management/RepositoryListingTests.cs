using System.Net;
using Dtr.Names;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class RepositoryListingTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public RepositoryListingTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task List_SearchIgnoresCaseAndPages()
    {
        var owner = UniqueName("finder");
        await _admin.CreateUserAsync(owner);
        foreach (var name in new[] { "web-frontend", "web-backend", "tools/webhook", "database" })
        {
            await _admin.CreateRepositoryAsync(owner, name);
        }

        using var user = _factory.CreateManagementClient(owner, PasswordOf(owner));
        using var all = await user.GetAsync($"/repositories?q={owner.ToUpperInvariant()}/WEB");
        using var inNamespace = await user.GetAsync($"/repositories/{owner}?q=Web&n=2");
        var link = RegistryClient.Header(inNamespace, "Link");
        using var next = await user.GetAsync($"/repositories/{owner}?q=Web&n=2&last={owner}%2Fweb-backend");
        using var across = await user.GetAsync($"/repositories/{owner}?q=s/web");
        using var none = await user.GetAsync($"/repositories/{owner}?q=nothing-like-this");

        Assert.Equal([$"{owner}/web-backend", $"{owner}/web-frontend"], NamesIn(await ReadJsonAsync(all), "repositories"));
        Assert.Equal([$"{owner}/tools/webhook", $"{owner}/web-backend"], NamesIn(await ReadJsonAsync(inNamespace), "repositories"));
        Assert.Equal($"<{Prefix}/repositories/{owner}?q=Web&n=2&last={owner}%2Fweb-backend>; rel=\"next\"", link);
        Assert.Equal([$"{owner}/web-frontend"], NamesIn(await ReadJsonAsync(next), "repositories"));
        Assert.Equal([$"{owner}/tools/webhook"], NamesIn(await ReadJsonAsync(across), "repositories"));
        Assert.Empty(NamesIn(await ReadJsonAsync(none), "repositories"));
    }

    [Fact]
    public async Task List_SearchHidesPrivateOfOthers()
    {
        var owner = UniqueName("owner");
        var viewer = UniqueName("viewer");
        await _admin.CreateUserAsync(owner);
        await _admin.CreateUserAsync(viewer);
        await _admin.CreateRepositoryAsync(owner, "secret-app");
        await _admin.CreateRepositoryAsync(owner, "shared-app", "public");
        using var client = _factory.CreateManagementClient(viewer, PasswordOf(viewer));

        using var response = await client.GetAsync($"/repositories?q={owner}/");

        Assert.Equal([$"{owner}/shared-app"], NamesIn(await ReadJsonAsync(response), "repositories"));
    }

    [Fact]
    public async Task List_ShowsSettingsAndTagSummary()
    {
        var owner = UniqueName("lister");
        await _admin.CreateUserAsync(owner);
        using (var created = await _admin.PostAsync($"/repositories/{owner}", new { name = "app", visibility = "public", scanOnPush = true, immutableTags = true, description = "The app" }))
        {
            await AssertStatusAsync(created, HttpStatusCode.Created, "creating the repository");
        }

        await _admin.CreateRepositoryAsync(owner, "empty");
        var config = TestContent.Json("""{"architecture":"amd64","os":"linux"}""");
        await StoredContent.StoreImageAsync(_factory, RepositoryName.Parse($"{owner}/app"), config, [TestContent.RandomBytes(50, 7)], ["1.0", "latest"]);

        using var response = await _admin.GetAsync($"/repositories/{owner}");

        var repositories = (await ReadJsonAsync(response)).GetProperty("repositories").EnumerateArray().ToList();
        Assert.Equal(2, repositories.Count);
        var app = repositories[0];
        Assert.Equal($"{owner}/app", app.GetProperty("name").GetString());
        Assert.Equal(owner, app.GetProperty("namespace").GetString());
        Assert.Equal("app", app.GetProperty("repository").GetString());
        Assert.Equal("public", app.GetProperty("visibility").GetString());
        Assert.Equal("The app", app.GetProperty("description").GetString());
        Assert.True(app.GetProperty("scanOnPush").GetBoolean());
        Assert.True(app.GetProperty("immutableTags").GetBoolean());
        Assert.Equal(2, app.GetProperty("tagCount").GetInt32());
        Assert.True(app.GetProperty("lastPushedAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        var empty = repositories[1];
        Assert.Equal(0, empty.GetProperty("tagCount").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, empty.GetProperty("lastPushedAt").ValueKind);
    }

    [Fact]
    public async Task List_InvalidSearchText()
    {
        using var tooLong = await _admin.GetAsync($"/repositories?q={new string('a', RepositoryName.MaxLength + 1)}");
        using var repeated = await _admin.GetAsync("/repositories?q=a&q=b");
        using var badNamespace = await _admin.GetAsync("/repositories/Not_Valid?q=a");

        var tooLongProblem = await AssertProblemAsync(tooLong, HttpStatusCode.BadRequest);
        Assert.True(tooLongProblem.GetProperty("errors").TryGetProperty("q", out _));
        var repeatedProblem = await AssertProblemAsync(repeated, HttpStatusCode.BadRequest);
        Assert.True(repeatedProblem.GetProperty("errors").TryGetProperty("q", out _));
        await AssertProblemAsync(badNamespace, HttpStatusCode.BadRequest);
    }
}

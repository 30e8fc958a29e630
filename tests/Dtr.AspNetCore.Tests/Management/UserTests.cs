using System.Net;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class UserTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public UserTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task CreateUser_ReturnsUserWithoutHash()
    {
        var name = UniqueName("alice");

        using var response = await _admin.PostAsync("/users", new { name, password = "long-enough-1", email = "a@example.com", fullName = "Alice A" });

        var user = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal($"{Prefix}/users/{name}", response.Headers.Location?.OriginalString);
        Assert.Equal(name, user.GetProperty("name").GetString());
        Assert.Equal("a@example.com", user.GetProperty("email").GetString());
        Assert.Equal("Alice A", user.GetProperty("fullName").GetString());
        Assert.False(user.GetProperty("isAdmin").GetBoolean());
        Assert.True(user.GetProperty("isActive").GetBoolean());
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("hash", body, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("long-enough-1", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUser_NewUserCanSignIn()
    {
        var name = UniqueName("bob");
        await _admin.CreateUserAsync(name);
        using var bob = _factory.CreateManagementClient(name, PasswordOf(name));

        using var response = await bob.GetAsync($"/users/{name}");

        Assert.Equal(name, (await ReadJsonAsync(response)).GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("Upper", "name")]
    [InlineData("-dash", "name")]
    [InlineData("a..b", "name")]
    [InlineData("", "name")]
    public async Task CreateUser_InvalidNameIs400(string name, string field)
    {
        using var response = await _admin.PostAsync("/users", new { name, password = "long-enough-1" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names no '{field}' field: {problem}");
        Assert.Contains("lowercase letters and digits", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUser_ShortPasswordIs400()
    {
        using var response = await _admin.PostAsync("/users", new { name = UniqueName("short"), password = "1234567" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
        Assert.Contains("minimum is 8", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUser_MalformedBodyIs400()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/users")
        {
            Content = new StringContent("{\"name\":", System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        using var malformed = await _admin.Http.SendAsync(request);
        using var unknownField = await _admin.PostAsync("/users", new { name = UniqueName("x"), password = "long-enough-1", role = "admin" });

        await AssertProblemAsync(malformed, HttpStatusCode.BadRequest);
        await AssertProblemAsync(unknownField, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task CreateUser_NotJsonIs415()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/users") { Content = new StringContent("name=x") };
        request.Headers.Authorization = BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        using var response = await _admin.Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task CreateUser_TakenNameIs409()
    {
        var name = UniqueName("dup");
        await _admin.CreateUserAsync(name);
        var organization = UniqueName("org");
        await _admin.CreateOrganizationAsync(organization);

        using var again = await _admin.PostAsync("/users", new { name, password = "long-enough-1" });
        using var asOrganization = await _admin.PostAsync("/users", new { name = organization, password = "long-enough-1" });

        await AssertProblemAsync(again, HttpStatusCode.Conflict);
        await AssertProblemAsync(asOrganization, HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task CreateUser_NonAdminIs403()
    {
        var name = UniqueName("plain");
        await _admin.CreateUserAsync(name);
        using var plain = _factory.CreateManagementClient(name, PasswordOf(name));

        using var response = await plain.PostAsync("/users", new { name = UniqueName("other"), password = "long-enough-1" });

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ListUsers_PagesWithLinkHeader()
    {
        var prefix = UniqueName("page");
        string[] names = [prefix + "a", prefix + "b", prefix + "c"];
        foreach (var name in names)
        {
            await _admin.CreateUserAsync(name);
        }

        // Start just before the three users, so other tests' users in the shared host sort outside the pages.
        using var first = await _admin.GetAsync($"/users?n=2&last={prefix}");
        var firstPage = await ReadJsonAsync(first);
        var link = RegistryClient.Header(first, "Link");
        using var second = await _admin.GetAsync($"/users?n=2&last={names[1]}");
        var secondPage = await ReadJsonAsync(second);

        Assert.Equal(names[..2], NamesIn(firstPage, "users"));
        Assert.Equal($"<{Prefix}/users?n=2&last={names[1]}>; rel=\"next\"", link);
        Assert.Equal(names[2], NamesIn(secondPage, "users")[0]);
    }

    [Fact]
    public async Task ListUsers_InvalidPageSizeIs400()
    {
        using var response = await _admin.GetAsync("/users?n=abc");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("n", out _));
    }

    [Fact]
    public async Task ListUsers_NonAdminIs403()
    {
        var name = UniqueName("lister");
        await _admin.CreateUserAsync(name);
        using var plain = _factory.CreateManagementClient(name, PasswordOf(name));

        using var response = await plain.GetAsync("/users");

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task GetUser_OtherUserIs403AndMissingIs404()
    {
        var name = UniqueName("carol");
        var other = UniqueName("dave");
        await _admin.CreateUserAsync(name);
        await _admin.CreateUserAsync(other);
        using var carol = _factory.CreateManagementClient(name, PasswordOf(name));

        using var otherUser = await carol.GetAsync($"/users/{other}");
        using var missing = await _admin.GetAsync("/users/nobody-here");

        await AssertProblemAsync(otherUser, HttpStatusCode.Forbidden);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PatchUser_SelfChangesProfileAndPassword()
    {
        var name = UniqueName("erin");
        await _admin.CreateUserAsync(name);
        using var erin = _factory.CreateManagementClient(name, PasswordOf(name));

        using var response = await erin.PatchAsync($"/users/{name}", new { email = "erin@example.com", fullName = "Erin E", password = "new-password-2" });

        var user = await ReadJsonAsync(response);
        Assert.Equal("erin@example.com", user.GetProperty("email").GetString());
        Assert.Equal("Erin E", user.GetProperty("fullName").GetString());
        using var withOld = await erin.GetAsync($"/users/{name}");
        await AssertProblemAsync(withOld, HttpStatusCode.Unauthorized);
        using var renewed = _factory.CreateManagementClient(name, "new-password-2");
        using var withNew = await renewed.GetAsync($"/users/{name}");
        Assert.Equal(HttpStatusCode.OK, withNew.StatusCode);
    }

    [Fact]
    public async Task PatchUser_SelfCannotBecomeAdmin()
    {
        var name = UniqueName("frank");
        await _admin.CreateUserAsync(name);
        using var frank = _factory.CreateManagementClient(name, PasswordOf(name));

        using var admin = await frank.PatchAsync($"/users/{name}", new { isAdmin = true });
        using var active = await frank.PatchAsync($"/users/{name}", new { isActive = false });

        await AssertProblemAsync(admin, HttpStatusCode.Forbidden);
        await AssertProblemAsync(active, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task PatchUser_AdminDeactivatesAndPromotes()
    {
        var name = UniqueName("gina");
        await _admin.CreateUserAsync(name);

        using var promoted = await _admin.PatchAsync($"/users/{name}", new { isAdmin = true });
        using var deactivated = await _admin.PatchAsync($"/users/{name}", new { isActive = false });

        Assert.True((await ReadJsonAsync(promoted)).GetProperty("isAdmin").GetBoolean());
        Assert.False((await ReadJsonAsync(deactivated)).GetProperty("isActive").GetBoolean());
        using var gina = _factory.CreateManagementClient(name, PasswordOf(name));
        using var signIn = await gina.GetAsync($"/users/{name}");
        await AssertProblemAsync(signIn, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task PatchUser_ShortPasswordAndMissingUser()
    {
        var name = UniqueName("hank");
        await _admin.CreateUserAsync(name);

        using var shortPassword = await _admin.PatchAsync($"/users/{name}", new { password = "short" });
        using var missing = await _admin.PatchAsync("/users/nobody-here", new { fullName = "X" });

        await AssertProblemAsync(shortPassword, HttpStatusCode.BadRequest);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteUser_RemovesUser()
    {
        var name = UniqueName("ivan");
        await _admin.CreateUserAsync(name);

        using var deleted = await _admin.DeleteAsync($"/users/{name}");
        using var again = await _admin.DeleteAsync($"/users/{name}");
        using var get = await _admin.GetAsync($"/users/{name}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
        await AssertProblemAsync(get, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteUser_WithRepositoryIs409()
    {
        var name = UniqueName("kim");
        await _admin.CreateUserAsync(name);
        await _admin.CreateRepositoryAsync(name, "app");

        using var refused = await _admin.DeleteAsync($"/users/{name}");

        var problem = await AssertProblemAsync(refused, HttpStatusCode.Conflict);
        Assert.Contains($"{name}/app", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("delete or move the user's repositories first", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var stillThere = await _admin.GetAsync($"/users/{name}");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);

        using var repositoryDeleted = await _admin.DeleteAsync($"/repositories/{name}/app");
        using var deleted = await _admin.DeleteAsync($"/users/{name}");
        Assert.Equal(HttpStatusCode.NoContent, repositoryDeleted.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
    }

    [Fact]
    public async Task DeleteUser_NonAdminAndSelf()
    {
        var name = UniqueName("judy");
        await _admin.CreateUserAsync(name);
        using var judy = _factory.CreateManagementClient(name, PasswordOf(name));

        using var byUser = await judy.DeleteAsync($"/users/{name}");
        using var ownAccount = await _admin.DeleteAsync($"/users/{ManagementFactory.AdminName}");

        await AssertProblemAsync(byUser, HttpStatusCode.Forbidden);
        await AssertProblemAsync(ownAccount, HttpStatusCode.Conflict);
    }
}

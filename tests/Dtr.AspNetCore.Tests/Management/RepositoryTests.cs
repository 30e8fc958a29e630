using System.Net;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class RepositoryTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public RepositoryTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> NewUserAsync()
    {
        var name = UniqueName("user");
        await _admin.CreateUserAsync(name);
        return name;
    }

    private ManagementClient SignIn(string name) => _factory.CreateManagementClient(name, PasswordOf(name));

    [Fact]
    public async Task Create_InOwnNamespace()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);

        using var response = await user.PostAsync($"/repositories/{name}", new { name = "tools/app", visibility = "public", scanOnPush = true, immutableTags = true, description = "An app" });

        var repository = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal($"{Prefix}/repositories/{name}/tools/app", response.Headers.Location?.OriginalString);
        Assert.Equal($"{name}/tools/app", repository.GetProperty("name").GetString());
        Assert.Equal(name, repository.GetProperty("namespace").GetString());
        Assert.Equal("tools/app", repository.GetProperty("repository").GetString());
        Assert.Equal("public", repository.GetProperty("visibility").GetString());
        Assert.True(repository.GetProperty("scanOnPush").GetBoolean());
        Assert.True(repository.GetProperty("immutableTags").GetBoolean());
        Assert.Equal("An app", repository.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Create_DefaultsToPrivate()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);

        using var response = await user.PostAsync($"/repositories/{name}", new { name = "app" });

        var repository = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal("private", repository.GetProperty("visibility").GetString());
        Assert.False(repository.GetProperty("scanOnPush").GetBoolean());
    }

    [Fact]
    public async Task Create_OrganizationOwnerOnly()
    {
        var organization = UniqueName("org");
        await _admin.CreateOrganizationAsync(organization);
        var ownerName = await NewUserAsync();
        var outsiderName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        using var outsider = SignIn(outsiderName);
        await _admin.PutAsync($"/organizations/{organization}/owners/{ownerName}");

        using var byOwner = await owner.PostAsync($"/repositories/{organization}", new { name = "app" });
        using var byOutsider = await outsider.PostAsync($"/repositories/{organization}", new { name = "other" });
        using var inOtherUser = await outsider.PostAsync($"/repositories/{ownerName}", new { name = "app" });

        await ReadJsonAsync(byOwner, HttpStatusCode.Created);
        await AssertProblemAsync(byOutsider, HttpStatusCode.Forbidden);
        await AssertProblemAsync(inOtherUser, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Create_ValidationConflictAndMissingNamespace()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        await user.CreateRepositoryAsync(name, "app");

        using var invalidName = await user.PostAsync($"/repositories/{name}", new { name = "App" });
        using var missingName = await user.PostAsync($"/repositories/{name}", new { visibility = "public" });
        using var invalidVisibility = await user.PostAsync($"/repositories/{name}", new { name = "other", visibility = "Public" });
        using var duplicate = await user.PostAsync($"/repositories/{name}", new { name = "app" });
        using var missingNamespace = await _admin.PostAsync("/repositories/nobody-here", new { name = "app" });
        using var invalidNamespace = await _admin.PostAsync("/repositories/Nobody", new { name = "app" });

        var nameProblem = await AssertProblemAsync(invalidName, HttpStatusCode.BadRequest);
        Assert.True(nameProblem.GetProperty("errors").TryGetProperty("name", out _));
        await AssertProblemAsync(missingName, HttpStatusCode.BadRequest);
        var visibilityProblem = await AssertProblemAsync(invalidVisibility, HttpStatusCode.BadRequest);
        Assert.True(visibilityProblem.GetProperty("errors").TryGetProperty("visibility", out _));
        Assert.Contains("\"public\" or \"private\"", visibilityProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(duplicate, HttpStatusCode.Conflict);
        await AssertProblemAsync(missingNamespace, HttpStatusCode.NotFound);
        var namespaceProblem = await AssertProblemAsync(invalidNamespace, HttpStatusCode.BadRequest);
        Assert.True(namespaceProblem.GetProperty("errors").TryGetProperty("namespace", out _));
    }

    [Fact]
    public async Task List_ShowsOnlyPullableRepositories()
    {
        var ownerName = await NewUserAsync();
        var viewerName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        using var viewer = SignIn(viewerName);
        await owner.CreateRepositoryAsync(ownerName, "hidden");
        await owner.CreateRepositoryAsync(ownerName, "shown", "public");

        using var asViewer = await viewer.GetAsync($"/repositories/{ownerName}");
        using var asOwner = await owner.GetAsync($"/repositories/{ownerName}");
        using var asAdmin = await _admin.GetAsync("/repositories");
        using var viewerAll = await viewer.GetAsync("/repositories");

        Assert.Equal([$"{ownerName}/shown"], NamesIn(await ReadJsonAsync(asViewer), "repositories"));
        Assert.Equal([$"{ownerName}/hidden", $"{ownerName}/shown"], NamesIn(await ReadJsonAsync(asOwner), "repositories"));
        var all = NamesIn(await ReadJsonAsync(asAdmin), "repositories");
        Assert.Contains($"{ownerName}/hidden", all);
        var viewerNames = NamesIn(await ReadJsonAsync(viewerAll), "repositories");
        Assert.Contains($"{ownerName}/shown", viewerNames);
        Assert.DoesNotContain($"{ownerName}/hidden", viewerNames);
    }

    [Fact]
    public async Task List_PagesWithinNamespace()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        foreach (var repository in new[] { "a", "b", "c" })
        {
            await user.CreateRepositoryAsync(name, repository);
        }

        using var first = await user.GetAsync($"/repositories/{name}?n=2");
        using var second = await user.GetAsync($"/repositories/{name}?n=2&last={name}/b");

        Assert.Equal([$"{name}/a", $"{name}/b"], NamesIn(await ReadJsonAsync(first), "repositories"));
        Assert.Equal($"<{Prefix}/repositories/{name}?n=2&last={name}%2Fb>; rel=\"next\"", RegistryClient.Header(first, "Link"));
        Assert.Equal([$"{name}/c"], NamesIn(await ReadJsonAsync(second), "repositories"));
        Assert.Null(RegistryClient.Header(second, "Link"));
    }

    [Fact]
    public async Task Get_PrivateHiddenFromOutsiders()
    {
        var ownerName = await NewUserAsync();
        var outsiderName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        using var outsider = SignIn(outsiderName);
        await owner.CreateRepositoryAsync(ownerName, "secret");
        await owner.CreateRepositoryAsync(ownerName, "open", "public");

        using var ownView = await owner.GetAsync($"/repositories/{ownerName}/secret");
        using var hidden = await outsider.GetAsync($"/repositories/{ownerName}/secret");
        using var open = await outsider.GetAsync($"/repositories/{ownerName}/open");
        using var missing = await _admin.GetAsync($"/repositories/{ownerName}/nothing");

        Assert.Equal("private", (await ReadJsonAsync(ownView)).GetProperty("visibility").GetString());
        await AssertProblemAsync(hidden, HttpStatusCode.NotFound);
        Assert.Equal("public", (await ReadJsonAsync(open)).GetProperty("visibility").GetString());
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Patch_ChangesSettings()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        await user.CreateRepositoryAsync(name, "tools/app");

        using var response = await user.PatchAsync($"/repositories/{name}/tools/app", new { visibility = "public", description = "Now public", immutableTags = true });
        using var invalid = await user.PatchAsync($"/repositories/{name}/tools/app", new { visibility = "internal" });

        var repository = await ReadJsonAsync(response);
        Assert.Equal("public", repository.GetProperty("visibility").GetString());
        Assert.Equal("Now public", repository.GetProperty("description").GetString());
        Assert.True(repository.GetProperty("immutableTags").GetBoolean());
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task PatchAndDelete_PublicRepositoryOutsiderIs403()
    {
        var ownerName = await NewUserAsync();
        var outsiderName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        using var outsider = SignIn(outsiderName);
        await owner.CreateRepositoryAsync(ownerName, "open", "public");

        using var patch = await outsider.PatchAsync($"/repositories/{ownerName}/open", new { description = "mine now" });
        using var delete = await outsider.DeleteAsync($"/repositories/{ownerName}/open");

        await AssertProblemAsync(patch, HttpStatusCode.Forbidden);
        await AssertProblemAsync(delete, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Delete_RemovesRepository()
    {
        var name = await NewUserAsync();
        using var user = SignIn(name);
        await user.CreateRepositoryAsync(name, "tools/app");

        using var deleted = await user.DeleteAsync($"/repositories/{name}/tools/app");
        using var again = await user.DeleteAsync($"/repositories/{name}/tools/app");
        using var get = await user.GetAsync($"/repositories/{name}/tools/app");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
        await AssertProblemAsync(get, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("read-only", HttpStatusCode.Forbidden)]
    [InlineData("read-write", HttpStatusCode.Forbidden)]
    [InlineData("admin", HttpStatusCode.OK)]
    public async Task TeamAccess_EachLevel(string level, HttpStatusCode patchStatus)
    {
        var organization = UniqueName("org");
        await _admin.CreateOrganizationAsync(organization);
        var memberName = await NewUserAsync();
        using var member = SignIn(memberName);
        await _admin.CreateTeamAsync(organization, "devs", memberName);
        await _admin.CreateRepositoryAsync(organization, "app");

        using var before = await member.GetAsync($"/repositories/{organization}/app");
        await _admin.GrantAsync($"{organization}/app", "devs", level);
        using var read = await member.GetAsync($"/repositories/{organization}/app");
        using var listed = await member.GetAsync($"/repositories/{organization}");
        using var grants = await member.GetAsync($"/repositories/{organization}/app/teamAccess");
        using var patch = await member.PatchAsync($"/repositories/{organization}/app", new { description = "changed" });

        await AssertProblemAsync(before, HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal([$"{organization}/app"], NamesIn(await ReadJsonAsync(listed), "repositories"));
        var grant = Assert.Single((await ReadJsonAsync(grants)).GetProperty("teamAccess").EnumerateArray());
        Assert.Equal("devs", grant.GetProperty("team").GetString());
        Assert.Equal(organization, grant.GetProperty("organization").GetString());
        Assert.Equal(level, grant.GetProperty("accessLevel").GetString());
        Assert.Equal(patchStatus, patch.StatusCode);
    }

    [Fact]
    public async Task TeamAccess_AdminLevelMayGrant()
    {
        var organization = UniqueName("org");
        await _admin.CreateOrganizationAsync(organization);
        var memberName = await NewUserAsync();
        using var member = SignIn(memberName);
        await _admin.CreateTeamAsync(organization, "leads", memberName);
        await _admin.CreateTeamAsync(organization, "readers");
        await _admin.CreateRepositoryAsync(organization, "app");
        await _admin.GrantAsync($"{organization}/app", "leads", "read-write");

        using var deniedGrant = await member.PutAsync($"/repositories/{organization}/app/teamAccess/readers", new { accessLevel = "read-only" });
        await _admin.GrantAsync($"{organization}/app", "leads", "admin");
        using var grant = await member.PutAsync($"/repositories/{organization}/app/teamAccess/readers", new { accessLevel = "read-only" });
        using var remove = await member.DeleteAsync($"/repositories/{organization}/app/teamAccess/readers");
        using var removeAgain = await member.DeleteAsync($"/repositories/{organization}/app/teamAccess/readers");

        await AssertProblemAsync(deniedGrant, HttpStatusCode.Forbidden);
        Assert.Equal("read-only", (await ReadJsonAsync(grant)).GetProperty("accessLevel").GetString());
        Assert.Equal(HttpStatusCode.NoContent, remove.StatusCode);
        await AssertProblemAsync(removeAgain, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TeamAccess_InvalidRequests()
    {
        var organization = UniqueName("org");
        var otherOrganization = UniqueName("other");
        await _admin.CreateOrganizationAsync(organization);
        await _admin.CreateOrganizationAsync(otherOrganization);
        await _admin.CreateTeamAsync(otherOrganization, "foreign");
        await _admin.CreateTeamAsync(organization, "devs");
        await _admin.CreateRepositoryAsync(organization, "app");
        var userName = await NewUserAsync();
        await _admin.CreateRepositoryAsync(userName, "personal");

        using var invalidLevel = await _admin.PutAsync($"/repositories/{organization}/app/teamAccess/devs", new { accessLevel = "write" });
        using var missingLevel = await _admin.PutAsync($"/repositories/{organization}/app/teamAccess/devs", new { });
        using var foreignTeam = await _admin.PutAsync($"/repositories/{organization}/app/teamAccess/foreign", new { accessLevel = "admin" });
        using var userNamespace = await _admin.PutAsync($"/repositories/{userName}/personal/teamAccess/devs", new { accessLevel = "admin" });
        using var missingRepository = await _admin.PutAsync($"/repositories/{organization}/nothing/teamAccess/devs", new { accessLevel = "admin" });

        var levelProblem = await AssertProblemAsync(invalidLevel, HttpStatusCode.BadRequest);
        Assert.True(levelProblem.GetProperty("errors").TryGetProperty("accessLevel", out _));
        Assert.Contains("\"read-only\", \"read-write\" or \"admin\"", levelProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(missingLevel, HttpStatusCode.BadRequest);
        await AssertProblemAsync(foreignTeam, HttpStatusCode.NotFound);
        await AssertProblemAsync(userNamespace, HttpStatusCode.BadRequest);
        await AssertProblemAsync(missingRepository, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task TeamAccess_MultiComponentRepository()
    {
        var organization = UniqueName("org");
        await _admin.CreateOrganizationAsync(organization);
        await _admin.CreateTeamAsync(organization, "devs");
        await _admin.CreateRepositoryAsync(organization, "tools/app");

        await _admin.GrantAsync($"{organization}/tools/app", "devs", "read-write");
        using var listed = await _admin.GetAsync($"/repositories/{organization}/tools/app/teamAccess");
        using var removed = await _admin.DeleteAsync($"/repositories/{organization}/tools/app/teamAccess/devs");
        using var listedAfter = await _admin.GetAsync($"/repositories/{organization}/tools/app/teamAccess");
        using var strayPut = await _admin.PutAsync($"/repositories/{organization}/tools/app", new { name = "x" });

        var grant = Assert.Single((await ReadJsonAsync(listed)).GetProperty("teamAccess").EnumerateArray());
        Assert.Equal("read-write", grant.GetProperty("accessLevel").GetString());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Empty((await ReadJsonAsync(listedAfter)).GetProperty("teamAccess").EnumerateArray());
        await AssertProblemAsync(strayPut, HttpStatusCode.NotFound);
    }
}

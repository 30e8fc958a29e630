using System.Net;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class OrganizationTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly ManagementClient _admin;

    public OrganizationTests(ManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static string UniqueName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    private async Task<string> NewUserAsync()
    {
        var name = UniqueName("member");
        await _admin.CreateUserAsync(name);
        return name;
    }

    private ManagementClient SignIn(string name) => _factory.CreateManagementClient(name, PasswordOf(name));

    [Fact]
    public async Task CreateOrganization_CreatorIsOwner()
    {
        var name = UniqueName("org");

        using var response = await _admin.PostAsync("/organizations", new { name });

        var organization = await ReadJsonAsync(response, HttpStatusCode.Created);
        Assert.Equal($"{Prefix}/organizations/{name}", response.Headers.Location?.OriginalString);
        Assert.Equal(name, organization.GetProperty("name").GetString());
        Assert.Equal([ManagementFactory.AdminName], organization.GetProperty("owners").EnumerateArray().Select(o => o.GetString()));
        Assert.Empty(organization.GetProperty("teams").EnumerateArray());
    }

    [Fact]
    public async Task CreateOrganization_ValidationConflictAndRights()
    {
        var userName = UniqueName("taken");
        await _admin.CreateUserAsync(userName);
        using var plain = SignIn(await NewUserAsync());

        using var invalid = await _admin.PostAsync("/organizations", new { name = "Bad_Name!" });
        using var missing = await _admin.PostAsync("/organizations", new { });
        using var userNameTaken = await _admin.PostAsync("/organizations", new { name = userName });
        using var byNonAdmin = await plain.PostAsync("/organizations", new { name = UniqueName("org") });

        var problem = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest);
        await AssertProblemAsync(userNameTaken, HttpStatusCode.Conflict);
        await AssertProblemAsync(byNonAdmin, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task ListAndGet_AnySignedInUser()
    {
        var prefix = UniqueName("list");
        await _admin.CreateOrganizationAsync(prefix + "a");
        await _admin.CreateOrganizationAsync(prefix + "b");
        await _admin.CreateOrganizationAsync(prefix + "c");
        await _admin.CreateTeamAsync(prefix + "a", "devs");
        using var plain = SignIn(await NewUserAsync());

        using var page = await plain.GetAsync($"/organizations?n=2&last={prefix}");
        using var detail = await plain.GetAsync($"/organizations/{prefix}a");
        using var missing = await plain.GetAsync("/organizations/nothing-here");

        Assert.Equal([prefix + "a", prefix + "b"], NamesIn(await ReadJsonAsync(page), "organizations"));
        Assert.Contains($"last={prefix}b", RegistryClient.Header(page, "Link"), StringComparison.Ordinal);
        var organization = await ReadJsonAsync(detail);
        Assert.Equal(["devs"], organization.GetProperty("teams").EnumerateArray().Select(t => t.GetString()));
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Owners_AddRemoveAndRights()
    {
        var organization = UniqueName("own");
        await _admin.CreateOrganizationAsync(organization);
        var ownerName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        var otherName = await NewUserAsync();
        using var other = SignIn(otherName);

        using var added = await _admin.PutAsync($"/organizations/{organization}/owners/{ownerName}");
        using var addedByOwner = await owner.PutAsync($"/organizations/{organization}/owners/{otherName}");
        using var removedByOwner = await owner.DeleteAsync($"/organizations/{organization}/owners/{otherName}");
        using var byOutsider = await other.PutAsync($"/organizations/{organization}/owners/{otherName}");
        using var missingUser = await owner.PutAsync($"/organizations/{organization}/owners/nobody-here");
        using var notOwner = await owner.DeleteAsync($"/organizations/{organization}/owners/{otherName}");
        using var missingOrganization = await _admin.PutAsync($"/organizations/nothing-here/owners/{ownerName}");

        Assert.Equal(HttpStatusCode.NoContent, added.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, addedByOwner.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, removedByOwner.StatusCode);
        await AssertProblemAsync(byOutsider, HttpStatusCode.Forbidden);
        await AssertProblemAsync(missingUser, HttpStatusCode.NotFound);
        await AssertProblemAsync(notOwner, HttpStatusCode.NotFound);
        await AssertProblemAsync(missingOrganization, HttpStatusCode.NotFound);
        using var detail = await _admin.GetAsync($"/organizations/{organization}");
        Assert.Equal(
            new[] { ManagementFactory.AdminName, ownerName }.Order(StringComparer.Ordinal),
            (await ReadJsonAsync(detail)).GetProperty("owners").EnumerateArray().Select(o => o.GetString()));
    }

    [Fact]
    public async Task RemoveOwner_LastOwnerIs409()
    {
        var organization = UniqueName("last");
        await _admin.CreateOrganizationAsync(organization);

        using var response = await _admin.DeleteAsync($"/organizations/{organization}/owners/{ManagementFactory.AdminName}");

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("an organization needs at least one owner; add another owner first", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var detail = await _admin.GetAsync($"/organizations/{organization}");
        Assert.Equal([ManagementFactory.AdminName], (await ReadJsonAsync(detail)).GetProperty("owners").EnumerateArray().Select(o => o.GetString()));
    }

    [Fact]
    public async Task Teams_CreateListGetAndMembers()
    {
        var organization = UniqueName("teams");
        await _admin.CreateOrganizationAsync(organization);
        var ownerName = await NewUserAsync();
        using var owner = SignIn(ownerName);
        var memberName = await NewUserAsync();
        using var member = SignIn(memberName);
        await _admin.PutAsync($"/organizations/{organization}/owners/{ownerName}");

        using var created = await owner.PostAsync($"/organizations/{organization}/teams", new { name = "builders" });
        using var addMember = await owner.PutAsync($"/organizations/{organization}/teams/builders/members/{memberName}");
        using var list = await member.GetAsync($"/organizations/{organization}/teams");
        using var detail = await member.GetAsync($"/organizations/{organization}/teams/builders");

        var team = await ReadJsonAsync(created, HttpStatusCode.Created);
        Assert.Equal("builders", team.GetProperty("name").GetString());
        Assert.Equal(organization, team.GetProperty("organization").GetString());
        Assert.Equal(HttpStatusCode.NoContent, addMember.StatusCode);
        Assert.Equal(["builders"], NamesIn(await ReadJsonAsync(list), "teams"));
        Assert.Equal([memberName], (await ReadJsonAsync(detail)).GetProperty("members").EnumerateArray().Select(m => m.GetString()));

        using var removeMember = await owner.DeleteAsync($"/organizations/{organization}/teams/builders/members/{memberName}");
        using var removeAgain = await owner.DeleteAsync($"/organizations/{organization}/teams/builders/members/{memberName}");
        Assert.Equal(HttpStatusCode.NoContent, removeMember.StatusCode);
        await AssertProblemAsync(removeAgain, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Teams_ValidationConflictRightsAndMissing()
    {
        var organization = UniqueName("teamerr");
        await _admin.CreateOrganizationAsync(organization);
        await _admin.CreateTeamAsync(organization, "ops");
        var memberName = await NewUserAsync();
        using var outsider = SignIn(memberName);

        using var invalid = await _admin.PostAsync($"/organizations/{organization}/teams", new { name = "Ops Team" });
        using var duplicate = await _admin.PostAsync($"/organizations/{organization}/teams", new { name = "ops" });
        using var byOutsider = await outsider.PostAsync($"/organizations/{organization}/teams", new { name = "mine" });
        using var memberByOutsider = await outsider.PutAsync($"/organizations/{organization}/teams/ops/members/{memberName}");
        using var missingTeam = await _admin.GetAsync($"/organizations/{organization}/teams/nothing-here");
        using var missingOrganization = await _admin.PostAsync("/organizations/nothing-here/teams", new { name = "x" });
        using var missingMember = await _admin.PutAsync($"/organizations/{organization}/teams/ops/members/nobody-here");

        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        await AssertProblemAsync(duplicate, HttpStatusCode.Conflict);
        await AssertProblemAsync(byOutsider, HttpStatusCode.Forbidden);
        await AssertProblemAsync(memberByOutsider, HttpStatusCode.Forbidden);
        await AssertProblemAsync(missingTeam, HttpStatusCode.NotFound);
        await AssertProblemAsync(missingOrganization, HttpStatusCode.NotFound);
        await AssertProblemAsync(missingMember, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteTeam_RemovesIt()
    {
        var organization = UniqueName("delteam");
        await _admin.CreateOrganizationAsync(organization);
        await _admin.CreateTeamAsync(organization, "gone");

        using var deleted = await _admin.DeleteAsync($"/organizations/{organization}/teams/gone");
        using var again = await _admin.DeleteAsync($"/organizations/{organization}/teams/gone");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DeleteOrganization_AdminOnlyAfterRepositories()
    {
        var organization = UniqueName("delorg");
        await _admin.CreateOrganizationAsync(organization);
        await _admin.CreateRepositoryAsync(organization, "app");
        using var plain = SignIn(await NewUserAsync());

        using var byNonAdmin = await plain.DeleteAsync($"/organizations/{organization}");
        using var withRepository = await _admin.DeleteAsync($"/organizations/{organization}");
        using var repositoryDeleted = await _admin.DeleteAsync($"/repositories/{organization}/app");
        using var deleted = await _admin.DeleteAsync($"/organizations/{organization}");
        using var again = await _admin.DeleteAsync($"/organizations/{organization}");

        await AssertProblemAsync(byNonAdmin, HttpStatusCode.Forbidden);
        await AssertProblemAsync(withRepository, HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, repositoryDeleted.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
    }
}

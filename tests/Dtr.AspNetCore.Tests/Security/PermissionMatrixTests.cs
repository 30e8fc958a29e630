using System.Net;
using System.Text.Json;
using Dtr.Identity;
using Dtr.Names;

namespace Dtr.AspNetCore.Tests.Security;

public enum CallerRole
{
    Anonymous,
    OtherUser,
    TeamReadOnly,
    TeamReadWrite,
    TeamAdmin,
    NamespaceOwner,
    OrganizationOwner,
    SystemAdmin,
    InactiveUser,
}

public enum RegistryAction
{
    Pull,
    Push,
    DeleteTag,
    DeleteManifest,
    Catalog,
}

/// <summary>
/// Users, an organization with three teams and an owner, and a personal access token per user, shared by the
/// permission matrix. Every request signs in with basic authentication and the user's token, which skips the slow
/// password hash.
/// </summary>
public sealed class PermissionMatrixFixture : IAsyncLifetime
{
    public const string Organization = "acme";
    public const string OwnerNamespace = "nsowner";

    private readonly Dictionary<CallerRole, string> _userNames = new()
    {
        [CallerRole.OtherUser] = "other",
        [CallerRole.TeamReadOnly] = "reader",
        [CallerRole.TeamReadWrite] = "writer",
        [CallerRole.TeamAdmin] = "teamadmin",
        [CallerRole.NamespaceOwner] = OwnerNamespace,
        [CallerRole.OrganizationOwner] = "orgowner",
        [CallerRole.SystemAdmin] = "sysadmin",
        [CallerRole.InactiveUser] = "inactive",
    };

    private readonly Dictionary<CallerRole, string> _tokens = [];

    public AuthRegistryFactory Factory { get; } = new();

    public async Task InitializeAsync()
    {
        var identity = Factory.Identity;
        foreach (var (role, name) in _userNames)
        {
            await identity.CreateUserAsync(new NewUser
            {
                Name = name,
                IsAdmin = role == CallerRole.SystemAdmin,
                IsActive = role != CallerRole.InactiveUser,
            });
            _tokens[role] = (await Factory.CreateAccessTokenAsync(name)).Token;
        }

        await identity.CreateOrganizationAsync(Organization);
        await identity.AddOwnerAsync(Organization, _userNames[CallerRole.OrganizationOwner]);
        await AddTeamAsync("readers", CallerRole.TeamReadOnly);
        await AddTeamAsync("writers", CallerRole.TeamReadWrite, CallerRole.InactiveUser);
        await AddTeamAsync("admins", CallerRole.TeamAdmin);
    }

    public async Task DisposeAsync() => await Factory.DisposeAsync();

    public RegistryClient CreateClient(CallerRole role) =>
        role == CallerRole.Anonymous ? Factory.CreateAnonymousClient() : Factory.CreateBasicClient(_userNames[role], _tokens[role]);

    /// <summary>Creates a repository with settings, team grants in the organization, and an image tagged v1.</summary>
    public async Task<(string Repository, TestManifest Manifest)> CreateRepositoryAsync(CallerRole role, RepositoryVisibility visibility)
    {
        var namespaceName = role == CallerRole.NamespaceOwner ? OwnerNamespace : Organization;
        var repository = namespaceName + "/" + Guid.NewGuid().ToString("N")[..12];
        await Factory.CreateRepositoryAsync(repository, visibility);
        if (namespaceName == Organization)
        {
            var name = RepositoryName.Parse(repository);
            await Factory.Identity.SetTeamAccessAsync(name, Organization, "readers", AccessLevel.ReadOnly);
            await Factory.Identity.SetTeamAccessAsync(name, Organization, "writers", AccessLevel.ReadWrite);
            await Factory.Identity.SetTeamAccessAsync(name, Organization, "admins", AccessLevel.Admin);
        }

        using var admin = CreateClient(CallerRole.SystemAdmin);
        var manifest = await admin.PushImageAsync(repository, "v1");
        return (repository, manifest);
    }

    private async Task AddTeamAsync(string team, params CallerRole[] members)
    {
        await Factory.Identity.CreateTeamAsync(Organization, team);
        foreach (var member in members)
        {
            await Factory.Identity.AddTeamMemberAsync(Organization, team, _userNames[member]);
        }
    }
}

public sealed class PermissionMatrixTests : IClassFixture<PermissionMatrixFixture>
{
    // For the catalog, 1 means listed and 0 means not listed.
    private const int Listed = 1;
    private const int NotListed = 0;

    private readonly PermissionMatrixFixture _fixture;

    public PermissionMatrixTests(PermissionMatrixFixture fixture) => _fixture = fixture;

    /// <summary>
    /// The expected outcome of every role, action and visibility. Anonymous callers get 401 so that they sign in;
    /// signed-in users without the right get 403; inactive users are rejected at sign-in with 401.
    /// </summary>
    public static TheoryData<CallerRole, RegistryAction, RepositoryVisibility, int> Matrix()
    {
        var data = new TheoryData<CallerRole, RegistryAction, RepositoryVisibility, int>();
        void Add(CallerRole role, RegistryAction action, int publicResult, int privateResult)
        {
            data.Add(role, action, RepositoryVisibility.Public, publicResult);
            data.Add(role, action, RepositoryVisibility.Private, privateResult);
        }

        Add(CallerRole.Anonymous, RegistryAction.Pull, 200, 401);
        Add(CallerRole.Anonymous, RegistryAction.Push, 401, 401);
        Add(CallerRole.Anonymous, RegistryAction.DeleteTag, 401, 401);
        Add(CallerRole.Anonymous, RegistryAction.DeleteManifest, 401, 401);
        Add(CallerRole.Anonymous, RegistryAction.Catalog, Listed, NotListed);

        Add(CallerRole.OtherUser, RegistryAction.Pull, 200, 403);
        Add(CallerRole.OtherUser, RegistryAction.Push, 403, 403);
        Add(CallerRole.OtherUser, RegistryAction.DeleteTag, 403, 403);
        Add(CallerRole.OtherUser, RegistryAction.DeleteManifest, 403, 403);
        Add(CallerRole.OtherUser, RegistryAction.Catalog, Listed, NotListed);

        Add(CallerRole.TeamReadOnly, RegistryAction.Pull, 200, 200);
        Add(CallerRole.TeamReadOnly, RegistryAction.Push, 403, 403);
        Add(CallerRole.TeamReadOnly, RegistryAction.DeleteTag, 403, 403);
        Add(CallerRole.TeamReadOnly, RegistryAction.DeleteManifest, 403, 403);
        Add(CallerRole.TeamReadOnly, RegistryAction.Catalog, Listed, Listed);

        foreach (var role in new[] { CallerRole.TeamReadWrite, CallerRole.TeamAdmin, CallerRole.NamespaceOwner, CallerRole.OrganizationOwner, CallerRole.SystemAdmin })
        {
            Add(role, RegistryAction.Pull, 200, 200);
            Add(role, RegistryAction.Push, 201, 201);
            Add(role, RegistryAction.DeleteTag, 202, 202);
            Add(role, RegistryAction.DeleteManifest, 202, 202);
            Add(role, RegistryAction.Catalog, Listed, Listed);
        }

        Add(CallerRole.InactiveUser, RegistryAction.Pull, 401, 401);
        Add(CallerRole.InactiveUser, RegistryAction.Push, 401, 401);
        Add(CallerRole.InactiveUser, RegistryAction.DeleteTag, 401, 401);
        Add(CallerRole.InactiveUser, RegistryAction.DeleteManifest, 401, 401);
        Add(CallerRole.InactiveUser, RegistryAction.Catalog, 401, 401);
        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Permission_MatchesMatrix(CallerRole role, RegistryAction action, RepositoryVisibility visibility, int expected)
    {
        var (repository, manifest) = await _fixture.CreateRepositoryAsync(role, visibility);
        using var client = _fixture.CreateClient(role);

        using var response = action switch
        {
            RegistryAction.Pull => await client.GetAsync($"/v2/{repository}/manifests/v1", ("Accept", manifest.MediaType)),
            RegistryAction.Push => await client.PutManifestAsync(repository, "v2", manifest.Bytes, manifest.MediaType),
            RegistryAction.DeleteTag => await client.DeleteAsync($"/v2/{repository}/manifests/v1"),
            RegistryAction.DeleteManifest => await client.DeleteAsync($"/v2/{repository}/manifests/{manifest.Digest}"),
            _ => await client.GetAsync("/v2/_catalog?n=1000"),
        };

        var description = await RegistryClient.DescribeAsync(response);
        if (action == RegistryAction.Catalog && expected is Listed or NotListed)
        {
            Assert.True(response.StatusCode == HttpStatusCode.OK, description);
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            var names = document.RootElement.GetProperty("repositories").EnumerateArray().Select(name => name.GetString()).ToList();
            Assert.Equal(expected == Listed, names.Contains(repository));
            return;
        }

        Assert.True((int)response.StatusCode == expected, $"{role} {action} on a {visibility} repository: expected {expected}, got {description}.");
        if (expected == 401)
        {
            Assert.StartsWith("Bearer realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        }

        if (expected == 403)
        {
            await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
        }
    }
}

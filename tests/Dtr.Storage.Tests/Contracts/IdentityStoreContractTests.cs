using System.Text;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IIdentityStore"/> driver must have: users, tokens, organizations and teams here,
/// repositories, grants, authorization queries and immutable tags in the other part of this class. A driver's test
/// class derives from it and supplies a fresh, migrated database per test, seen through both store interfaces.
/// </summary>
public abstract partial class IdentityStoreContractTests : IAsyncLifetime
{
    private IIdentityStore? _identity;
    private IMetadataStore? _metadata;

    /// <summary>The clock the stores read, starting at a fixed time so timestamps can be compared exactly.</summary>
    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero));

    /// <summary>The identity store under test.</summary>
    protected IIdentityStore Identity => _identity ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>The metadata store over the same database, for content that settings and grants hang off.</summary>
    protected IMetadataStore Metadata => _metadata ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>
    /// Creates an empty database for one test, read through <paramref name="timeProvider"/>. The suite calls
    /// <see cref="IMetadataStore.MigrateAsync"/> before the test runs.
    /// </summary>
    protected abstract Task<(IIdentityStore Identity, IMetadataStore Metadata)> CreateStoresAsync(TimeProvider timeProvider);

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        (_identity, _metadata) = await CreateStoresAsync(Time);
        await Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    [Fact]
    public async Task CreateUser_StoresEveryField()
    {
        var created = await Identity.CreateUserAsync(new NewUser
        {
            Name = "alice",
            PasswordHash = "hash-1",
            Email = "alice@example.com",
            FullName = "Alice Example",
            IsAdmin = true,
            IsActive = false,
        });

        var expected = new User("alice", "alice@example.com", "Alice Example", IsActive: false, IsAdmin: true, Time.GetUtcNow());
        Assert.Equal(expected, created);
        Assert.Equal(expected, await Identity.GetUserAsync("alice"));
        Assert.Equal("hash-1", await Identity.GetPasswordHashAsync("alice"));
    }

    [Fact]
    public async Task CreateUser_DefaultsActiveNotAdmin()
    {
        var created = await Identity.CreateUserAsync(new NewUser { Name = "bob" });

        Assert.True(created.IsActive);
        Assert.False(created.IsAdmin);
        Assert.Null(created.Email);
        Assert.Null(created.FullName);
        Assert.Null(await Identity.GetPasswordHashAsync("bob"));
    }

    [Fact]
    public async Task CreateUser_DuplicateConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice", Email = "first@example.com" });

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateUserAsync(new NewUser { Name = "alice" }));

        Assert.Contains("'alice'", exception.Message, StringComparison.Ordinal);
        Assert.Equal("first@example.com", (await Identity.GetUserAsync("alice"))!.Email);
    }

    [Fact]
    public async Task CreateUser_OrganizationNameConflicts()
    {
        await Identity.CreateOrganizationAsync("acme");

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateUserAsync(new NewUser { Name = "acme" }));

        Assert.Contains("organization", exception.Message, StringComparison.Ordinal);
        Assert.Null(await Identity.GetUserAsync("acme"));
    }

    [Fact]
    public async Task CreateOrganization_UserNameConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateOrganizationAsync("alice"));

        Assert.Contains("user", exception.Message, StringComparison.Ordinal);
        Assert.Null(await Identity.GetOrganizationAsync("alice"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Alice")]
    [InlineData("a/b")]
    [InlineData("-alice")]
    [InlineData("alice-")]
    [InlineData("a..b")]
    [InlineData("a___b")]
    [InlineData("has space")]
    public async Task CreateUser_InvalidNameThrows(string name)
    {
        var exception = await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateUserAsync(new NewUser { Name = name }));

        Assert.Contains("invalid", exception.Message, StringComparison.Ordinal);
        Assert.False(await Identity.AnyUserAsync());
    }

    [Fact]
    public async Task CreateUser_OverlongNameThrows()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateUserAsync(new NewUser { Name = new string('a', RepositoryName.MaxLength + 1) }));

        var longest = await Identity.CreateUserAsync(new NewUser { Name = new string('a', RepositoryName.MaxLength) });
        Assert.Equal(RepositoryName.MaxLength, longest.Name.Length);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("a.b")]
    [InlineData("a_b")]
    [InlineData("a__b")]
    [InlineData("a---b")]
    [InlineData("0user9")]
    public async Task CreateUser_ValidNamesAccepted(string name)
    {
        var created = await Identity.CreateUserAsync(new NewUser { Name = name });

        Assert.Equal(name, created.Name);
        Assert.NotNull(await Identity.GetUserAsync(name));
    }

    [Fact]
    public async Task GetUser_UnknownOrOrganizationIsNull()
    {
        await Identity.CreateOrganizationAsync("acme");

        Assert.Null(await Identity.GetUserAsync("nobody"));
        Assert.Null(await Identity.GetUserAsync("acme"));
        Assert.Null(await Identity.GetPasswordHashAsync("nobody"));
        Assert.Null(await Identity.GetPasswordHashAsync("acme"));
    }

    [Fact]
    public async Task ListUsers_OrdinalOrderAndPages()
    {
        string[] names = ["b", "a-b", "a", "a.b", "a0", "a_b", "ab", "z"];
        foreach (var name in names)
        {
            await Identity.CreateUserAsync(new NewUser { Name = name });
        }

        await Identity.CreateOrganizationAsync("m-organization");
        var ordered = names.Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(ordered, (await Identity.ListUsersAsync(null, 100)).Select(u => u.Name));
        Assert.Equal(ordered[..3], (await Identity.ListUsersAsync(null, 3)).Select(u => u.Name));
        Assert.Equal(ordered[3..6], (await Identity.ListUsersAsync(ordered[2], 3)).Select(u => u.Name));
        Assert.Equal(ordered[6..], (await Identity.ListUsersAsync(ordered[5], 3)).Select(u => u.Name));
        Assert.Equal(["ab", "b", "z"], (await Identity.ListUsersAsync("aa", 100)).Select(u => u.Name));
        Assert.Empty(await Identity.ListUsersAsync("z", 100));
        Assert.Empty(await Identity.ListUsersAsync(null, 0));
    }

    [Fact]
    public async Task UpdateUser_ChangesOnlyGivenFields()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice", PasswordHash = "old", Email = "old@example.com", FullName = "Old Name" });

        var updated = await Identity.UpdateUserAsync("alice", new UserUpdate { Email = "new@example.com", IsAdmin = true });

        Assert.Equal(new User("alice", "new@example.com", "Old Name", IsActive: true, IsAdmin: true, Time.GetUtcNow()), updated);
        Assert.Equal(updated, await Identity.GetUserAsync("alice"));
        Assert.Equal("old", await Identity.GetPasswordHashAsync("alice"));

        var second = await Identity.UpdateUserAsync("alice", new UserUpdate { PasswordHash = "new", FullName = "New Name", IsActive = false, IsAdmin = false });

        Assert.Equal(new User("alice", "new@example.com", "New Name", IsActive: false, IsAdmin: false, Time.GetUtcNow()), second);
        Assert.Equal("new", await Identity.GetPasswordHashAsync("alice"));
    }

    [Fact]
    public async Task UpdateUser_EmptyUpdateChangesNothing()
    {
        var created = await Identity.CreateUserAsync(new NewUser { Name = "alice", Email = "a@example.com" });

        Assert.Equal(created, await Identity.UpdateUserAsync("alice", new UserUpdate()));
    }

    [Fact]
    public async Task UpdateUser_UnknownIsNull()
    {
        await Identity.CreateOrganizationAsync("acme");

        Assert.Null(await Identity.UpdateUserAsync("nobody", new UserUpdate { Email = "x@example.com" }));
        Assert.Null(await Identity.UpdateUserAsync("acme", new UserUpdate { Email = "x@example.com" }));
    }

    [Fact]
    public async Task DeleteUser_RemovesOnceAndFreesName()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        Assert.True(await Identity.DeleteUserAsync("alice"));
        Assert.False(await Identity.DeleteUserAsync("alice"));
        Assert.Null(await Identity.GetUserAsync("alice"));

        await Identity.CreateOrganizationAsync("alice");
        Assert.NotNull(await Identity.GetOrganizationAsync("alice"));
    }

    [Fact]
    public async Task DeleteUser_OrganizationNameIsFalse()
    {
        await Identity.CreateOrganizationAsync("acme");

        Assert.False(await Identity.DeleteUserAsync("acme"));
        Assert.NotNull(await Identity.GetOrganizationAsync("acme"));
    }

    [Fact]
    public async Task DeleteUser_RemovesMembershipsOwnershipsTokens()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.AddOwnerAsync("acme", "alice");
        await Identity.AddOwnerAsync("acme", "bob");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        await Identity.AddTeamMemberAsync("acme", "devs", "bob");
        await Identity.CreateAccessTokenAsync("alice", "token-a", "secret-hash", null);

        Assert.True(await Identity.DeleteUserAsync("alice"));

        Assert.Equal(["bob"], await Identity.ListOwnersAsync("acme"));
        Assert.Equal(["bob"], await Identity.ListTeamMembersAsync("acme", "devs"));
        Assert.Null(await Identity.FindAccessTokenAsync("token-a"));

        // A new user with the same name starts with nothing.
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        Assert.Empty(await Identity.ListAccessTokensAsync("alice"));
        Assert.Equal(["bob"], await Identity.ListOwnersAsync("acme"));
    }

    [Fact]
    public async Task DeleteUser_WithRepositoryConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await CreateRepositoryAsync("alice/app");

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.DeleteUserAsync("alice"));

        Assert.Contains("delete or move the user's repositories first", exception.Message, StringComparison.Ordinal);
        Assert.Contains("alice/app", exception.Message, StringComparison.Ordinal);
        Assert.NotNull(await Identity.GetUserAsync("alice"));

        Assert.True(await Identity.DeleteRepositoryAsync(RepositoryName.Parse("alice/app")));
        Assert.True(await Identity.DeleteUserAsync("alice"));
    }

    [Theory]
    [InlineData("alice")]
    [InlineData("alice/app")]
    [InlineData("alice/deep/nested")]
    public async Task DeleteUser_ContentOnlyRepositoryConflicts(string repository)
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await LinkBlobAsync(RepositoryName.Parse(repository), "pushed before creation");

        await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.DeleteUserAsync("alice"));

        Assert.NotNull(await Identity.GetUserAsync("alice"));
    }

    [Fact]
    public async Task DeleteUser_NeighbourNamespacesIgnored()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        foreach (var name in new[] { "alice-labs/app", "alice.io/app", "alice0/app", "alicea", "alic/app" })
        {
            await LinkBlobAsync(RepositoryName.Parse(name), "neighbour");
        }

        Assert.True(await Identity.DeleteUserAsync("alice"));
    }

    [Fact]
    public async Task AnyUser_CountsOnlyUsers()
    {
        Assert.False(await Identity.AnyUserAsync());

        await Identity.CreateOrganizationAsync("acme");
        Assert.False(await Identity.AnyUserAsync());

        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        Assert.True(await Identity.AnyUserAsync());

        await Identity.DeleteUserAsync("alice");
        Assert.False(await Identity.AnyUserAsync());
    }

    [Fact]
    public async Task AccessToken_CreateFindTouchDelete()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        var created = await Identity.CreateAccessTokenAsync("alice", "tok1", "hash-of-secret", "laptop");

        var expected = new AccessToken("tok1", "alice", "laptop", Time.GetUtcNow(), null);
        Assert.Equal(expected, created);
        var found = await Identity.FindAccessTokenAsync("tok1");
        Assert.NotNull(found);
        Assert.Equal(expected, found.Value.Token);
        Assert.Equal("hash-of-secret", found.Value.SecretHash);

        var usedAt = new DateTimeOffset(2025, 6, 7, 8, 9, 10, 123, TimeSpan.Zero);
        await Identity.TouchAccessTokenAsync("tok1", usedAt);
        Assert.Equal(usedAt, (await Identity.FindAccessTokenAsync("tok1"))!.Value.Token.LastUsedAt);
        Assert.Equal(usedAt, Assert.Single(await Identity.ListAccessTokensAsync("alice")).LastUsedAt);

        Assert.True(await Identity.DeleteAccessTokenAsync("alice", "tok1"));
        Assert.False(await Identity.DeleteAccessTokenAsync("alice", "tok1"));
        Assert.Null(await Identity.FindAccessTokenAsync("tok1"));
        Assert.Empty(await Identity.ListAccessTokensAsync("alice"));
    }

    [Fact]
    public async Task AccessToken_NullLabelKept()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        await Identity.CreateAccessTokenAsync("alice", "tok1", "hash", null);

        Assert.Null((await Identity.FindAccessTokenAsync("tok1"))!.Value.Token.Label);
    }

    [Fact]
    public async Task TouchAccessToken_NeverMovesBack()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateAccessTokenAsync("alice", "tok1", "hash", null);
        var later = new DateTimeOffset(2025, 6, 7, 8, 0, 0, TimeSpan.Zero);

        await Identity.TouchAccessTokenAsync("tok1", later);
        await Identity.TouchAccessTokenAsync("tok1", later.AddMinutes(-5));

        Assert.Equal(later, (await Identity.FindAccessTokenAsync("tok1"))!.Value.Token.LastUsedAt);
    }

    [Fact]
    public async Task TouchAccessToken_UnknownDoesNothing()
    {
        await Identity.TouchAccessTokenAsync("never-created", Time.GetUtcNow());

        Assert.Null(await Identity.FindAccessTokenAsync("never-created"));
    }

    [Fact]
    public async Task ListAccessTokens_NewestFirst()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateAccessTokenAsync("alice", "first", "hash", "one");
        Time.Advance(TimeSpan.FromSeconds(1));
        await Identity.CreateAccessTokenAsync("alice", "second", "hash", "two");
        Time.Advance(TimeSpan.FromSeconds(1));
        await Identity.CreateAccessTokenAsync("alice", "third", "hash", "three");
        await Identity.CreateAccessTokenAsync("bob", "bobs", "hash", null);

        var tokens = await Identity.ListAccessTokensAsync("alice");

        Assert.Equal(["third", "second", "first"], tokens.Select(t => t.Id));
        Assert.All(tokens, t => Assert.Equal("alice", t.UserName));
        Assert.Equal(["bobs"], (await Identity.ListAccessTokensAsync("bob")).Select(t => t.Id));
    }

    [Fact]
    public async Task AccessToken_UnknownUserThrows()
    {
        await Identity.CreateOrganizationAsync("acme");

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.CreateAccessTokenAsync("nobody", "tok1", "hash", null));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.CreateAccessTokenAsync("acme", "tok1", "hash", null));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListAccessTokensAsync("nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.DeleteAccessTokenAsync("nobody", "tok1"));
        Assert.Null(await Identity.FindAccessTokenAsync("tok1"));
    }

    [Fact]
    public async Task AccessToken_DuplicateIdConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateAccessTokenAsync("alice", "tok1", "alice-hash", null);

        await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateAccessTokenAsync("bob", "tok1", "bob-hash", null));

        var found = await Identity.FindAccessTokenAsync("tok1");
        Assert.Equal("alice", found!.Value.Token.UserName);
        Assert.Equal("alice-hash", found.Value.SecretHash);
    }

    [Fact]
    public async Task AccessToken_EmptyIdOrHashThrows()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateAccessTokenAsync("alice", "", "hash", null));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateAccessTokenAsync("alice", "tok1", "", null));
        Assert.Empty(await Identity.ListAccessTokensAsync("alice"));
    }

    [Fact]
    public async Task DeleteAccessToken_OtherUsersTokenIsFalse()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateAccessTokenAsync("alice", "tok1", "hash", null);

        Assert.False(await Identity.DeleteAccessTokenAsync("bob", "tok1"));

        Assert.NotNull(await Identity.FindAccessTokenAsync("tok1"));
    }

    [Fact]
    public async Task CreateOrganization_GetReturnsIt()
    {
        var created = await Identity.CreateOrganizationAsync("acme");

        Assert.Equal(new Organization("acme", Time.GetUtcNow()), created);
        Assert.Equal(created, await Identity.GetOrganizationAsync("acme"));
    }

    [Fact]
    public async Task CreateOrganization_DuplicateConflicts()
    {
        await Identity.CreateOrganizationAsync("acme");

        await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateOrganizationAsync("acme"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Acme")]
    [InlineData("acme/corp")]
    [InlineData("acme.")]
    public async Task CreateOrganization_InvalidNameThrows(string name)
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateOrganizationAsync(name));

        Assert.Empty(await Identity.ListOrganizationsAsync(null, 10));
    }

    [Fact]
    public async Task GetOrganization_UnknownOrUserIsNull()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        Assert.Null(await Identity.GetOrganizationAsync("nobody"));
        Assert.Null(await Identity.GetOrganizationAsync("alice"));
    }

    [Fact]
    public async Task ListOrganizations_OrdinalOrderAndPages()
    {
        string[] names = ["zeta", "acme", "acme-labs", "acme.io", "beta"];
        foreach (var name in names)
        {
            await Identity.CreateOrganizationAsync(name);
        }

        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var ordered = names.Order(StringComparer.Ordinal).ToArray();

        Assert.Equal(ordered, (await Identity.ListOrganizationsAsync(null, 100)).Select(o => o.Name));
        Assert.Equal(ordered[..2], (await Identity.ListOrganizationsAsync(null, 2)).Select(o => o.Name));
        Assert.Equal(ordered[2..4], (await Identity.ListOrganizationsAsync(ordered[1], 2)).Select(o => o.Name));
        Assert.Equal(ordered[4..], (await Identity.ListOrganizationsAsync(ordered[3], 2)).Select(o => o.Name));
        Assert.Empty(await Identity.ListOrganizationsAsync(null, 0));
    }

    [Fact]
    public async Task DeleteOrganization_RemovesTeamsAndOwners()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.AddOwnerAsync("acme", "alice");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");

        Assert.True(await Identity.DeleteOrganizationAsync("acme"));
        Assert.False(await Identity.DeleteOrganizationAsync("acme"));

        Assert.Null(await Identity.GetOrganizationAsync("acme"));
        Assert.Null(await Identity.GetTeamAsync("acme", "devs"));
        Assert.NotNull(await Identity.GetUserAsync("alice"));

        // A new organization with the same name starts with no owners or teams.
        await Identity.CreateOrganizationAsync("acme");
        Assert.Empty(await Identity.ListOwnersAsync("acme"));
        Assert.Empty(await Identity.ListTeamsAsync("acme"));
    }

    [Fact]
    public async Task DeleteOrganization_UnknownOrUserIsFalse()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        Assert.False(await Identity.DeleteOrganizationAsync("nobody"));
        Assert.False(await Identity.DeleteOrganizationAsync("alice"));
        Assert.NotNull(await Identity.GetUserAsync("alice"));
    }

    [Fact]
    public async Task DeleteOrganization_WithRepositoryConflicts()
    {
        await Identity.CreateOrganizationAsync("acme");
        await CreateRepositoryAsync("acme/app");

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.DeleteOrganizationAsync("acme"));

        Assert.Contains("delete its repositories first", exception.Message, StringComparison.Ordinal);
        Assert.Contains("acme/app", exception.Message, StringComparison.Ordinal);
        Assert.NotNull(await Identity.GetOrganizationAsync("acme"));

        Assert.True(await Identity.DeleteRepositoryAsync(RepositoryName.Parse("acme/app")));
        Assert.True(await Identity.DeleteOrganizationAsync("acme"));
    }

    [Theory]
    [InlineData("acme")]
    [InlineData("acme/app")]
    [InlineData("acme/deep/nested")]
    public async Task DeleteOrganization_ContentOnlyRepositoryConflicts(string repository)
    {
        await Identity.CreateOrganizationAsync("acme");
        await LinkBlobAsync(RepositoryName.Parse(repository), "pushed before creation");

        await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.DeleteOrganizationAsync("acme"));

        Assert.NotNull(await Identity.GetOrganizationAsync("acme"));
    }

    [Fact]
    public async Task DeleteOrganization_NeighbourNamespacesIgnored()
    {
        await Identity.CreateOrganizationAsync("acme");
        foreach (var name in new[] { "acme-labs/app", "acme.io/app", "acme0/app", "acmea", "acm/app" })
        {
            await LinkBlobAsync(RepositoryName.Parse(name), "neighbour");
        }

        Assert.True(await Identity.DeleteOrganizationAsync("acme"));
    }

    [Fact]
    public async Task Owners_AddListRemove()
    {
        await Identity.CreateOrganizationAsync("acme");
        foreach (var name in new[] { "carol", "alice", "bob" })
        {
            await Identity.CreateUserAsync(new NewUser { Name = name });
            await Identity.AddOwnerAsync("acme", name);
        }

        await Identity.AddOwnerAsync("acme", "alice");

        Assert.Equal(["alice", "bob", "carol"], await Identity.ListOwnersAsync("acme"));
        Assert.True(await Identity.RemoveOwnerAsync("acme", "bob"));
        Assert.False(await Identity.RemoveOwnerAsync("acme", "bob"));
        Assert.Equal(["alice", "carol"], await Identity.ListOwnersAsync("acme"));
    }

    [Fact]
    public async Task DeleteUser_SoleOwnerConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "owner" });
        await Identity.CreateUserAsync(new NewUser { Name = "helper" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.AddOwnerAsync("acme", "owner");

        await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.DeleteUserAsync("owner"));
        Assert.NotNull(await Identity.GetUserAsync("owner"));

        await Identity.AddOwnerAsync("acme", "helper");
        Assert.True(await Identity.DeleteUserAsync("owner"));
        Assert.Equal(["helper"], await Identity.ListOwnersAsync("acme"));
    }

    [Fact]
    public async Task RemoveOwner_LastOwnerConflicts()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.AddOwnerAsync("acme", "alice");
        await Identity.AddOwnerAsync("acme", "bob");

        Assert.True(await Identity.RemoveOwnerAsync("acme", "bob"));
        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.RemoveOwnerAsync("acme", "alice"));

        Assert.Contains("add another owner first", exception.Message, StringComparison.Ordinal);
        Assert.Equal(["alice"], await Identity.ListOwnersAsync("acme"));
        Assert.False(await Identity.RemoveOwnerAsync("acme", "bob"));
    }

    [Fact]
    public async Task Owners_UnknownNamesThrow()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("other");

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddOwnerAsync("nobody", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddOwnerAsync("alice", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddOwnerAsync("acme", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddOwnerAsync("acme", "other"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveOwnerAsync("nobody", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveOwnerAsync("acme", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListOwnersAsync("nobody"));
        Assert.Empty(await Identity.ListOwnersAsync("acme"));
    }

    [Fact]
    public async Task CreateTeam_GetAndList()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateOrganizationAsync("other");

        var created = await Identity.CreateTeamAsync("acme", "ops");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "dev-leads");
        await Identity.CreateTeamAsync("other", "ops");

        Assert.Equal(new Team("acme", "ops", Time.GetUtcNow()), created);
        Assert.Equal(created, await Identity.GetTeamAsync("acme", "ops"));
        Assert.Equal(["dev-leads", "devs", "ops"], (await Identity.ListTeamsAsync("acme")).Select(t => t.Name));
        Assert.All(await Identity.ListTeamsAsync("acme"), t => Assert.Equal("acme", t.Organization));
        Assert.Equal(["ops"], (await Identity.ListTeamsAsync("other")).Select(t => t.Name));
    }

    [Fact]
    public async Task CreateTeam_DuplicateConflicts()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");

        var exception = await Assert.ThrowsAsync<IdentityConflictException>(async () => await Identity.CreateTeamAsync("acme", "devs"));

        Assert.Contains("devs", exception.Message, StringComparison.Ordinal);
        Assert.Single(await Identity.ListTeamsAsync("acme"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Devs")]
    [InlineData("devs/leads")]
    [InlineData("_devs")]
    public async Task CreateTeam_InvalidNameThrows(string name)
    {
        await Identity.CreateOrganizationAsync("acme");

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.CreateTeamAsync("acme", name));

        Assert.Empty(await Identity.ListTeamsAsync("acme"));
    }

    [Fact]
    public async Task Teams_UnknownOrganizationThrows()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.CreateTeamAsync("nobody", "devs"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.CreateTeamAsync("alice", "devs"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListTeamsAsync("nobody"));
        Assert.Null(await Identity.GetTeamAsync("nobody", "devs"));
        Assert.False(await Identity.DeleteTeamAsync("nobody", "devs"));
    }

    [Fact]
    public async Task DeleteTeam_RemovesOnce()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "ops");

        Assert.True(await Identity.DeleteTeamAsync("acme", "devs"));
        Assert.False(await Identity.DeleteTeamAsync("acme", "devs"));

        Assert.Null(await Identity.GetTeamAsync("acme", "devs"));
        Assert.Equal(["ops"], (await Identity.ListTeamsAsync("acme")).Select(t => t.Name));
    }

    [Fact]
    public async Task DeleteTeam_RemovesMembersAndGrants()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "ops");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        var repository = await CreateRepositoryAsync("acme/app");
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.ReadWrite);
        await Identity.SetTeamAccessAsync(repository, "acme", "ops", AccessLevel.ReadOnly);

        Assert.True(await Identity.DeleteTeamAsync("acme", "devs"));

        Assert.Equal([new TeamAccess("acme", "ops", AccessLevel.ReadOnly)], await Identity.ListTeamAccessAsync(repository));
        Assert.Equal(AccessLevel.None, (await Identity.GetAccessFactsAsync("alice", repository)).TeamLevel);

        // A new team with the same name starts with no members or grants.
        await Identity.CreateTeamAsync("acme", "devs");
        Assert.Empty(await Identity.ListTeamMembersAsync("acme", "devs"));
        Assert.Single(await Identity.ListTeamAccessAsync(repository));
    }

    [Fact]
    public async Task TeamMembers_AddListRemove()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "ops");
        foreach (var name in new[] { "carol", "alice", "bob" })
        {
            await Identity.CreateUserAsync(new NewUser { Name = name });
            await Identity.AddTeamMemberAsync("acme", "devs", name);
        }

        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        await Identity.AddTeamMemberAsync("acme", "ops", "bob");

        Assert.Equal(["alice", "bob", "carol"], await Identity.ListTeamMembersAsync("acme", "devs"));
        Assert.True(await Identity.RemoveTeamMemberAsync("acme", "devs", "bob"));
        Assert.False(await Identity.RemoveTeamMemberAsync("acme", "devs", "bob"));
        Assert.Equal(["alice", "carol"], await Identity.ListTeamMembersAsync("acme", "devs"));
        Assert.Equal(["bob"], await Identity.ListTeamMembersAsync("acme", "ops"));
    }

    [Fact]
    public async Task TeamMembers_UnknownNamesThrow()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddTeamMemberAsync("nobody", "devs", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddTeamMemberAsync("acme", "nobody", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddTeamMemberAsync("acme", "devs", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.AddTeamMemberAsync("acme", "devs", "acme"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveTeamMemberAsync("acme", "nobody", "alice"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveTeamMemberAsync("acme", "devs", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListTeamMembersAsync("acme", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListTeamMembersAsync("nobody", "devs"));
        Assert.Empty(await Identity.ListTeamMembersAsync("acme", "devs"));
    }

    [Fact]
    public async Task Concurrent_SameNameOneWins()
    {
        for (var round = 0; round < 20; round++)
        {
            var name = $"contested{round}";
            using var start = new ManualResetEventSlim();
            var asUser = Task.Run(async () =>
            {
                start.Wait();
                await Identity.CreateUserAsync(new NewUser { Name = name });
            });
            var asOrganization = Task.Run(async () =>
            {
                start.Wait();
                await Identity.CreateOrganizationAsync(name);
            });
            start.Set();

            var outcomes = await Task.WhenAll(CaptureAsync(asUser), CaptureAsync(asOrganization));

            Assert.Single(outcomes, e => e is null);
            Assert.Single(outcomes, e => e is IdentityConflictException);
            var isUser = await Identity.GetUserAsync(name) is not null;
            var isOrganization = await Identity.GetOrganizationAsync(name) is not null;
            Assert.NotEqual(isUser, isOrganization);
        }
    }

    [Fact]
    public async Task Concurrent_ManyCreateSameUser()
    {
        var tasks = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            await Identity.CreateUserAsync(new NewUser { Name = "popular", Email = $"writer{i}@example.com" })));

        var outcomes = await Task.WhenAll(tasks.Select(CaptureAsync));

        Assert.Single(outcomes, e => e is null);
        Assert.Equal(15, outcomes.Count(e => e is IdentityConflictException));
        Assert.Single(await Identity.ListUsersAsync(null, 100));
    }

    /// <summary>Awaits a task and returns the exception it failed with, or null when it succeeded.</summary>
    private static async Task<Exception?> CaptureAsync(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception exception) when (exception is IdentityConflictException or IdentityNotFoundException)
        {
            return exception;
        }
    }

    /// <summary>Creates a repository with settings, private unless told otherwise. Its namespace must exist.</summary>
    private async Task<RepositoryName> CreateRepositoryAsync(string name, RepositoryVisibility visibility = RepositoryVisibility.Private, bool immutableTags = false)
    {
        var repository = RepositoryName.Parse(name);
        await Identity.CreateRepositoryAsync(new RepositorySettings(repository, visibility, null, ScanOnPush: false, immutableTags, DateTimeOffset.UnixEpoch));
        return repository;
    }

    /// <summary>Links a made-up blob into a repository, which creates the repository row without settings.</summary>
    private async Task<Descriptor> LinkBlobAsync(RepositoryName repository, string blobName)
    {
        var content = Encoding.UTF8.GetBytes(blobName);
        var blob = new Descriptor { MediaType = MediaTypes.OciLayerGzip, Digest = Digest.Compute(content), Size = content.Length };
        await Metadata.LinkBlobAsync(repository, blob.Digest, blob.Size);
        return blob;
    }

    /// <summary>Links a config and a layer and builds an image manifest over them whose bytes are unique to <paramref name="label"/>.</summary>
    private async Task<ManifestWrite> ImageWriteAsync(RepositoryName repository, string label, params string[] tags)
    {
        var config = await LinkBlobAsync(repository, $"{label} config");
        var layer = await LinkBlobAsync(repository, $"{label} layer");
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"label":"{{label}}"}""");
        return new ManifestWrite
        {
            Repository = repository,
            Digest = Digest.Compute(content),
            Content = content,
            Manifest = new ParsedManifest
            {
                MediaType = MediaTypes.OciManifest,
                Config = config with { MediaType = MediaTypes.OciConfig },
                Layers = [layer],
            },
            Tags = tags,
        };
    }

    /// <summary>Stores an image manifest with tags and checks that it was stored.</summary>
    private async Task<ManifestWrite> PushImageAsync(RepositoryName repository, string label, params string[] tags)
    {
        var write = await ImageWriteAsync(repository, label, tags);
        Assert.True((await Metadata.PutManifestAsync(write)).Stored);
        return write;
    }
}

using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>Repository settings, team grants, access facts, visible listings and immutable tags.</summary>
public abstract partial class IdentityStoreContractTests
{
    [Fact]
    public async Task CreateRepository_GetReturnsSettings()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = RepositoryName.Parse("alice/app");
        var requested = new RepositorySettings(repository, RepositoryVisibility.Public, "The app", ScanOnPush: true, ImmutableTags: true, DateTimeOffset.UnixEpoch);

        var created = await Identity.CreateRepositoryAsync(requested);

        // The store sets the creation time from its clock.
        var expected = requested with { CreatedAt = Time.GetUtcNow() };
        Assert.Equal(expected, created);
        Assert.Equal(expected, await Identity.GetRepositoryAsync(repository));
        Assert.True(await Metadata.RepositoryExistsAsync(repository));
    }

    [Fact]
    public async Task CreateRepository_InOrganizationNamespace()
    {
        await Identity.CreateOrganizationAsync("acme");

        var repository = await CreateRepositoryAsync("acme/tools/builder");

        var settings = await Identity.GetRepositoryAsync(repository);
        Assert.NotNull(settings);
        Assert.Equal(RepositoryVisibility.Private, settings.Visibility);
        Assert.Null(settings.Description);
        Assert.False(settings.ScanOnPush);
        Assert.False(settings.ImmutableTags);
    }

    [Fact]
    public async Task CreateRepository_SingleComponentName()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        var repository = await CreateRepositoryAsync("alice");

        Assert.NotNull(await Identity.GetRepositoryAsync(repository));
    }

    [Theory]
    [InlineData("nobody/app")]
    [InlineData("alic/app")]
    [InlineData("alice-labs/app")]
    public async Task CreateRepository_UnknownNamespaceThrows(string name)
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = RepositoryName.Parse(name);

        var exception = await Assert.ThrowsAsync<IdentityNotFoundException>(async () =>
            await Identity.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, null, false, false, DateTimeOffset.UnixEpoch)));

        Assert.Contains(repository.Namespace, exception.Message, StringComparison.Ordinal);
        Assert.False(await Metadata.RepositoryExistsAsync(repository));
    }

    [Fact]
    public async Task CreateRepository_DuplicateConflicts()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = await CreateRepositoryAsync("alice/app", RepositoryVisibility.Public);

        await Assert.ThrowsAsync<IdentityConflictException>(async () =>
            await Identity.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, "second", false, false, DateTimeOffset.UnixEpoch)));

        var stored = await Identity.GetRepositoryAsync(repository);
        Assert.Equal(RepositoryVisibility.Public, stored!.Visibility);
        Assert.Null(stored.Description);
    }

    [Fact]
    public async Task CreateRepository_ExistingContentGetsSettings()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = RepositoryName.Parse("alice/app");
        var pushedAt = Time.GetUtcNow();
        var image = await PushImageAsync(repository, "early", "v1");
        Assert.Null(await Identity.GetRepositoryAsync(repository));
        Time.Advance(TimeSpan.FromHours(1));

        var created = await Identity.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Public, "late", false, false, DateTimeOffset.UnixEpoch));

        Assert.Equal(RepositoryVisibility.Public, created.Visibility);
        Assert.Equal("late", created.Description);
        Assert.Equal(pushedAt, created.CreatedAt);
        Assert.Equal(image.Digest, (await Metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
        Assert.Equal([repository.Value], await Metadata.ListRepositoriesAsync(null, 10));
    }

    [Fact]
    public async Task GetRepository_UnknownOrContentOnlyIsNull()
    {
        var contentOnly = RepositoryName.Parse("alice/pushed");
        await LinkBlobAsync(contentOnly, "blob");

        Assert.Null(await Identity.GetRepositoryAsync(contentOnly));
        Assert.Null(await Identity.GetRepositoryAsync(RepositoryName.Parse("no/such")));
    }

    [Fact]
    public async Task ListRepositorySettings_NamespaceAndPages()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "ns" });
        await Identity.CreateUserAsync(new NewUser { Name = "ns-x" });
        await Identity.CreateUserAsync(new NewUser { Name = "nsa" });
        await Identity.CreateUserAsync(new NewUser { Name = "ns0" });
        string[] inNamespace = ["ns", "ns/a", "ns/a/b", "ns/b", "ns/c.d"];
        string[] outside = ["ns-x/a", "nsa/a", "ns0/a"];
        foreach (var name in inNamespace.Concat(outside))
        {
            await CreateRepositoryAsync(name);
        }

        await LinkBlobAsync(RepositoryName.Parse("ns/content-only"), "blob");

        var all = await Identity.ListRepositorySettingsAsync(null, null, 100);
        Assert.Equal(inNamespace.Concat(outside).Order(StringComparer.Ordinal), all.Select(r => r.Name.Value));

        var namespaced = await Identity.ListRepositorySettingsAsync("ns", null, 100);
        Assert.Equal(inNamespace, namespaced.Select(r => r.Name.Value));

        Assert.Equal(inNamespace[..2], (await Identity.ListRepositorySettingsAsync("ns", null, 2)).Select(r => r.Name.Value));
        Assert.Equal(inNamespace[2..4], (await Identity.ListRepositorySettingsAsync("ns", inNamespace[1], 2)).Select(r => r.Name.Value));
        Assert.Equal(inNamespace[4..], (await Identity.ListRepositorySettingsAsync("ns", inNamespace[3], 2)).Select(r => r.Name.Value));
        // '-' sorts before '/', so "ns-x/a" comes before the namespace "ns" in ordinal order.
        Assert.Equal(["ns/b", "ns/c.d", "ns0/a", "nsa/a"], (await Identity.ListRepositorySettingsAsync(null, "ns/a/b", 100)).Select(r => r.Name.Value));
        Assert.Empty(await Identity.ListRepositorySettingsAsync("nobody", null, 100));
        Assert.Empty(await Identity.ListRepositorySettingsAsync(null, null, 0));
    }

    [Fact]
    public async Task UpdateRepository_ChangesOnlyGivenFields()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = RepositoryName.Parse("alice/app");
        var created = await Identity.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, "first", ScanOnPush: true, ImmutableTags: false, DateTimeOffset.UnixEpoch));

        var updated = await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate { Visibility = RepositoryVisibility.Public, ImmutableTags = true });

        var expected = created with { Visibility = RepositoryVisibility.Public, ImmutableTags = true };
        Assert.Equal(expected, updated);
        Assert.Equal(expected, await Identity.GetRepositoryAsync(repository));

        var second = await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate { Description = "second", ScanOnPush = false });

        Assert.Equal(expected with { Description = "second", ScanOnPush = false }, second);
        Assert.Equal(second, await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate()));
    }

    [Fact]
    public async Task UpdateRepository_UnknownOrContentOnlyIsNull()
    {
        var contentOnly = RepositoryName.Parse("alice/pushed");
        await LinkBlobAsync(contentOnly, "blob");

        Assert.Null(await Identity.UpdateRepositoryAsync(contentOnly, new RepositorySettingsUpdate { Visibility = RepositoryVisibility.Public }));
        Assert.Null(await Identity.UpdateRepositoryAsync(RepositoryName.Parse("no/such"), new RepositorySettingsUpdate { Description = "x" }));
        Assert.False((await Identity.GetAccessFactsAsync(null, contentOnly)).RepositoryExists);
    }

    [Fact]
    public async Task DeleteRepository_RemovesContentAndGrants()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        var repository = await CreateRepositoryAsync("acme/app");
        var untouched = await CreateRepositoryAsync("acme/untouched");
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.Admin);
        await Identity.SetTeamAccessAsync(untouched, "acme", "devs", AccessLevel.ReadOnly);
        var image = await PushImageAsync(repository, "image", "v1");
        var untouchedImage = await PushImageAsync(untouched, "image", "v1");
        var upload = new UploadSession("upload-1", repository, Time.GetUtcNow(), Time.GetUtcNow());
        await Metadata.CreateUploadAsync(upload);

        Assert.True(await Identity.DeleteRepositoryAsync(repository));
        Assert.False(await Identity.DeleteRepositoryAsync(repository));

        Assert.False(await Metadata.RepositoryExistsAsync(repository));
        Assert.Null(await Identity.GetRepositoryAsync(repository));
        Assert.Null(await Metadata.ListTagsAsync(repository, null, 10));
        Assert.Null(await Metadata.GetManifestAsync(repository, ManifestReference.ForDigest(image.Digest)));
        Assert.Null(await Metadata.GetBlobLinkAsync(repository, image.Manifest.Layers[0].Digest));
        Assert.Null(await Metadata.GetUploadAsync(upload.Id));
        Assert.Equal(AccessLevel.None, (await Identity.GetAccessFactsAsync("alice", repository)).TeamLevel);

        // The other repository keeps its content and grant.
        Assert.Equal(untouchedImage.Digest, (await Metadata.GetManifestAsync(untouched, ManifestReference.ForTag("v1")))!.Digest);
        Assert.Equal(AccessLevel.ReadOnly, (await Identity.GetAccessFactsAsync("alice", untouched)).TeamLevel);
    }

    [Fact]
    public async Task DeleteRepository_NameCanBeCreatedAgain()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        var repository = await CreateRepositoryAsync("acme/app", RepositoryVisibility.Public);
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.ReadWrite);
        var image = await PushImageAsync(repository, "image", "v1");
        await Identity.DeleteRepositoryAsync(repository);

        var again = await Identity.CreateRepositoryAsync(new RepositorySettings(repository, RepositoryVisibility.Private, null, false, false, DateTimeOffset.UnixEpoch));

        Assert.Equal(RepositoryVisibility.Private, again.Visibility);
        Assert.Empty(await Identity.ListTeamAccessAsync(repository));
        Assert.Empty((await Metadata.ListTagsAsync(repository, null, 10))!);

        // The old manifest's blobs are no longer linked, so storing it again needs them pushed again.
        Assert.False((await Metadata.PutManifestAsync(image)).Stored);
        Assert.True((await Metadata.PutManifestAsync(await ImageWriteAsync(repository, "image", "v1"))).Stored);
    }

    [Fact]
    public async Task DeleteRepository_ContentOnlyIsDeleted()
    {
        var contentOnly = RepositoryName.Parse("alice/pushed");
        await PushImageAsync(contentOnly, "image", "latest");

        Assert.True(await Identity.DeleteRepositoryAsync(contentOnly));

        Assert.False(await Metadata.RepositoryExistsAsync(contentOnly));
    }

    [Fact]
    public async Task TeamAccess_SetReplaceListRemove()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateOrganizationAsync("beta");
        await Identity.CreateTeamAsync("acme", "ops");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("beta", "auditors");
        var repository = await CreateRepositoryAsync("acme/app");

        await Identity.SetTeamAccessAsync(repository, "acme", "ops", AccessLevel.ReadOnly);
        await Identity.SetTeamAccessAsync(repository, "beta", "auditors", AccessLevel.ReadOnly);
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.ReadOnly);
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.Admin);

        Assert.Equal(
            [
                new TeamAccess("acme", "devs", AccessLevel.Admin),
                new TeamAccess("acme", "ops", AccessLevel.ReadOnly),
                new TeamAccess("beta", "auditors", AccessLevel.ReadOnly),
            ],
            await Identity.ListTeamAccessAsync(repository));

        Assert.True(await Identity.RemoveTeamAccessAsync(repository, "acme", "ops"));
        Assert.False(await Identity.RemoveTeamAccessAsync(repository, "acme", "ops"));
        Assert.Equal(2, (await Identity.ListTeamAccessAsync(repository)).Count);
    }

    [Theory]
    [InlineData(AccessLevel.None)]
    [InlineData((AccessLevel)4)]
    [InlineData((AccessLevel)(-1))]
    public async Task SetTeamAccess_InvalidLevelThrows(AccessLevel level)
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        var repository = await CreateRepositoryAsync("acme/app");

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Identity.SetTeamAccessAsync(repository, "acme", "devs", level));

        Assert.Empty(await Identity.ListTeamAccessAsync(repository));
    }

    [Fact]
    public async Task TeamAccess_UnknownNamesThrow()
    {
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        var repository = await CreateRepositoryAsync("acme/app");
        var missing = RepositoryName.Parse("acme/missing");
        var contentOnly = RepositoryName.Parse("acme/pushed");
        await LinkBlobAsync(contentOnly, "blob");

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.SetTeamAccessAsync(missing, "acme", "devs", AccessLevel.ReadOnly));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.SetTeamAccessAsync(contentOnly, "acme", "devs", AccessLevel.ReadOnly));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.SetTeamAccessAsync(repository, "acme", "nobody", AccessLevel.ReadOnly));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.SetTeamAccessAsync(repository, "nobody", "devs", AccessLevel.ReadOnly));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveTeamAccessAsync(missing, "acme", "devs"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.RemoveTeamAccessAsync(repository, "acme", "nobody"));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListTeamAccessAsync(missing));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Identity.ListTeamAccessAsync(contentOnly));
        Assert.Empty(await Identity.ListTeamAccessAsync(repository));
    }

    [Fact]
    public async Task AccessFacts_AnonymousSeesVisibilityOnly()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var publicRepository = await CreateRepositoryAsync("alice/public", RepositoryVisibility.Public);
        var privateRepository = await CreateRepositoryAsync("alice/private");

        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Public, false, AccessLevel.None), await Identity.GetAccessFactsAsync(null, publicRepository));
        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Private, false, AccessLevel.None), await Identity.GetAccessFactsAsync(null, privateRepository));
        Assert.Equal(new RepositoryAccessFacts(false, RepositoryVisibility.Private, false, AccessLevel.None), await Identity.GetAccessFactsAsync(null, RepositoryName.Parse("alice/missing")));
    }

    [Fact]
    public async Task AccessFacts_OwnNamespace()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        var repository = await CreateRepositoryAsync("alice/app");

        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Private, true, AccessLevel.None), await Identity.GetAccessFactsAsync("alice", repository));
        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Private, false, AccessLevel.None), await Identity.GetAccessFactsAsync("bob", repository));

        // Owners may create repositories by pushing, so ownership is reported for missing ones too.
        Assert.Equal(new RepositoryAccessFacts(false, RepositoryVisibility.Private, true, AccessLevel.None), await Identity.GetAccessFactsAsync("alice", RepositoryName.Parse("alice/new")));
        Assert.True((await Identity.GetAccessFactsAsync("alice", RepositoryName.Parse("alice"))).IsNamespaceOwner);
        Assert.False((await Identity.GetAccessFactsAsync("alice", RepositoryName.Parse("alice-labs/app"))).IsNamespaceOwner);
        Assert.False((await Identity.GetAccessFactsAsync("alic", repository)).IsNamespaceOwner);
    }

    [Fact]
    public async Task AccessFacts_OrganizationOwner()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateOrganizationAsync("beta");
        await Identity.AddOwnerAsync("acme", "alice");
        await Identity.AddOwnerAsync("beta", "bob");
        var repository = await CreateRepositoryAsync("acme/app");

        Assert.True((await Identity.GetAccessFactsAsync("alice", repository)).IsNamespaceOwner);
        Assert.False((await Identity.GetAccessFactsAsync("bob", repository)).IsNamespaceOwner);
        Assert.True((await Identity.GetAccessFactsAsync("alice", RepositoryName.Parse("acme/new/deep"))).IsNamespaceOwner);

        // An organization keeps at least one owner, so bob joins before alice leaves.
        await Identity.AddOwnerAsync("acme", "bob");
        await Identity.RemoveOwnerAsync("acme", "alice");
        Assert.False((await Identity.GetAccessFactsAsync("alice", repository)).IsNamespaceOwner);
    }

    [Theory]
    [InlineData(AccessLevel.ReadOnly)]
    [InlineData(AccessLevel.ReadWrite)]
    [InlineData(AccessLevel.Admin)]
    public async Task AccessFacts_TeamMemberGetsLevel(AccessLevel level)
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        var repository = await CreateRepositoryAsync("acme/app");
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", level);

        var facts = await Identity.GetAccessFactsAsync("alice", repository);

        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Private, false, level), facts);
        Assert.Equal(AccessLevel.None, (await Identity.GetAccessFactsAsync(null, repository)).TeamLevel);
    }

    [Fact]
    public async Task AccessFacts_HighestTeamWins()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateOrganizationAsync("acme");
        var repository = await CreateRepositoryAsync("acme/app");
        foreach (var (team, level) in new[] { ("readers", AccessLevel.ReadOnly), ("admins", AccessLevel.Admin), ("writers", AccessLevel.ReadWrite) })
        {
            await Identity.CreateTeamAsync("acme", team);
            await Identity.AddTeamMemberAsync("acme", team, "alice");
            await Identity.SetTeamAccessAsync(repository, "acme", team, level);
        }

        Assert.Equal(AccessLevel.Admin, (await Identity.GetAccessFactsAsync("alice", repository)).TeamLevel);

        await Identity.RemoveTeamMemberAsync("acme", "admins", "alice");
        Assert.Equal(AccessLevel.ReadWrite, (await Identity.GetAccessFactsAsync("alice", repository)).TeamLevel);

        await Identity.RemoveTeamAccessAsync(repository, "acme", "writers");
        Assert.Equal(AccessLevel.ReadOnly, (await Identity.GetAccessFactsAsync("alice", repository)).TeamLevel);
    }

    [Fact]
    public async Task AccessFacts_NonMemberGetsNone()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        await Identity.CreateUserAsync(new NewUser { Name = "bob" });
        await Identity.CreateOrganizationAsync("acme");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "idle");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");
        await Identity.AddTeamMemberAsync("acme", "idle", "bob");
        var repository = await CreateRepositoryAsync("acme/app");
        var other = await CreateRepositoryAsync("acme/other");
        await Identity.SetTeamAccessAsync(repository, "acme", "devs", AccessLevel.ReadWrite);

        // bob is in a team without a grant; alice's grant is on another repository.
        Assert.Equal(new RepositoryAccessFacts(true, RepositoryVisibility.Private, false, AccessLevel.None), await Identity.GetAccessFactsAsync("bob", repository));
        Assert.Equal(AccessLevel.None, (await Identity.GetAccessFactsAsync("alice", other)).TeamLevel);
        Assert.Equal(AccessLevel.None, (await Identity.GetAccessFactsAsync("nobody", repository)).TeamLevel);
    }

    [Fact]
    public async Task AccessFacts_ContentOnlyRepositoryDoesNotExist()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var contentOnly = RepositoryName.Parse("alice/pushed");
        await LinkBlobAsync(contentOnly, "blob");

        Assert.Equal(new RepositoryAccessFacts(false, RepositoryVisibility.Private, true, AccessLevel.None), await Identity.GetAccessFactsAsync("alice", contentOnly));
    }

    [Fact]
    public async Task AccessFacts_FollowVisibilityChange()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = await CreateRepositoryAsync("alice/app");

        await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate { Visibility = RepositoryVisibility.Public });

        Assert.Equal(RepositoryVisibility.Public, (await Identity.GetAccessFactsAsync(null, repository)).Visibility);
    }

    [Fact]
    public async Task ListVisible_EachCallerKind()
    {
        await SeedVisibilityAsync();

        Assert.Equal(["acme/public", "bob/public"], await Identity.ListVisibleRepositoriesAsync(null, false, null, 100));
        Assert.Equal(["acme/granted", "acme/owned-by-team", "acme/public", "alice/private", "bob/public"], await Identity.ListVisibleRepositoriesAsync("alice", false, null, 100));
        Assert.Equal(["acme/granted", "acme/hidden", "acme/owned-by-team", "acme/public", "bob/private", "bob/public"], await Identity.ListVisibleRepositoriesAsync("bob", false, null, 100));
        Assert.Equal(["acme/public", "bob/public"], await Identity.ListVisibleRepositoriesAsync("carol", false, null, 100));
        Assert.Equal(["acme/public", "bob/public"], await Identity.ListVisibleRepositoriesAsync("nobody", false, null, 100));
    }

    [Fact]
    public async Task ListVisible_AdminSeesEveryRow()
    {
        await SeedVisibilityAsync();

        var all = await Identity.ListVisibleRepositoriesAsync("carol", true, null, 100);

        Assert.Equal(["acme/granted", "acme/hidden", "acme/owned-by-team", "acme/public", "alice/private", "alice/pushed", "bob/private", "bob/public"], all);
        Assert.Equal(all, await Identity.ListVisibleRepositoriesAsync(null, true, null, 100));
    }

    [Fact]
    public async Task ListVisible_Pages()
    {
        await SeedVisibilityAsync();
        string[] visible = ["acme/granted", "acme/owned-by-team", "acme/public", "alice/private", "bob/public"];

        Assert.Equal(visible[..2], await Identity.ListVisibleRepositoriesAsync("alice", false, null, 2));
        Assert.Equal(visible[2..4], await Identity.ListVisibleRepositoriesAsync("alice", false, visible[1], 2));
        Assert.Equal(visible[4..], await Identity.ListVisibleRepositoriesAsync("alice", false, visible[3], 2));
        Assert.Empty(await Identity.ListVisibleRepositoriesAsync("alice", false, visible[4], 2));
        Assert.Equal(["bob/public"], await Identity.ListVisibleRepositoriesAsync(null, false, "acme/public", 10));
        Assert.Equal(["alice/private", "alice/pushed"], await Identity.ListVisibleRepositoriesAsync(null, true, "acme/public", 2));
        Assert.Empty(await Identity.ListVisibleRepositoriesAsync("alice", false, null, 0));
    }

    [Fact]
    public async Task ImmutableTags_MovingTagRejected()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var first = await PushImageAsync(repository, "first", "v1");
        var second = await ImageWriteAsync(repository, "second", "v1");

        var result = await Metadata.PutManifestAsync(second);

        Assert.False(result.Stored);
        Assert.Equal(["v1"], result.ImmutableTags);
        Assert.Empty(result.MissingBlobs);
        Assert.Empty(result.MissingManifests);
        Assert.Equal(first.Digest, (await Metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
        Assert.Null(await Metadata.GetManifestAsync(repository, ManifestReference.ForDigest(second.Digest)));
    }

    [Fact]
    public async Task ImmutableTags_RejectionStoresNoOtherTag()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var first = await PushImageAsync(repository, "first", "v1", "v2");
        var second = await ImageWriteAsync(repository, "second", "new", "v2", "v1");

        var result = await Metadata.PutManifestAsync(second);

        Assert.False(result.Stored);
        Assert.Equal(["v2", "v1"], result.ImmutableTags);
        Assert.Equal(["v1", "v2"], await Metadata.ListTagsAsync(repository, null, 10));

        // Even a stored manifest gains no new tag when another requested tag would move.
        var again = await Metadata.PutManifestAsync(first with { Tags = ["extra", "v2"] });
        Assert.True(again.Stored);
        var rejected = await Metadata.PutManifestAsync(second with { Tags = ["extra"] });
        Assert.Equal(["extra"], rejected.ImmutableTags);
        Assert.Equal(["extra", "v1", "v2"], await Metadata.ListTagsAsync(repository, null, 10));
    }

    [Fact]
    public async Task ImmutableTags_SameDigestAndNewTagsAccepted()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var first = await PushImageAsync(repository, "first", "v1");

        var repeat = await Metadata.PutManifestAsync(first);
        var second = await Metadata.PutManifestAsync(await ImageWriteAsync(repository, "second", "v2"));
        var untagged = await Metadata.PutManifestAsync(await ImageWriteAsync(repository, "third"));

        Assert.True(repeat.Stored);
        Assert.Empty(repeat.ImmutableTags);
        Assert.True(second.Stored);
        Assert.True(untagged.Stored);
        Assert.Equal(first.Digest, (await Metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
    }

    [Fact]
    public async Task ImmutableTags_DeleteTagThrows()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var image = await PushImageAsync(repository, "first", "v1");

        var exception = await Assert.ThrowsAsync<ImmutableTagException>(async () => await Metadata.DeleteTagAsync(repository, "v1"));

        Assert.IsAssignableFrom<InvalidOperationException>(exception);
        Assert.Equal(repository, exception.Repository);
        Assert.Equal("v1", exception.Tag);
        Assert.Contains("'v1'", exception.Message, StringComparison.Ordinal);
        Assert.Contains("immutable", exception.Message, StringComparison.Ordinal);
        Assert.Equal(image.Digest, (await Metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
        Assert.False(await Metadata.DeleteTagAsync(repository, "missing"));
    }

    [Fact]
    public async Task ImmutableTags_DeleteTaggedManifestThrows()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var tagged = await PushImageAsync(repository, "tagged", "v1");
        var untagged = await PushImageAsync(repository, "untagged");

        var exception = await Assert.ThrowsAsync<ImmutableTagException>(async () => await Metadata.DeleteManifestAsync(repository, tagged.Digest));

        Assert.Equal("v1", exception.Tag);
        Assert.NotNull(await Metadata.GetManifestAsync(repository, ManifestReference.ForDigest(tagged.Digest)));
        Assert.True(await Metadata.DeleteManifestAsync(repository, untagged.Digest));
    }

    [Fact]
    public async Task ImmutableTags_TurnedOffAllowsChanges()
    {
        var repository = await CreateImmutableRepositoryAsync();
        var first = await PushImageAsync(repository, "first", "v1", "v2");

        await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate { ImmutableTags = false });

        var second = await PushImageAsync(repository, "second", "v1");
        Assert.Equal(second.Digest, (await Metadata.GetManifestAsync(repository, ManifestReference.ForTag("v1")))!.Digest);
        Assert.True(await Metadata.DeleteTagAsync(repository, "v2"));
        Assert.True(await Metadata.DeleteManifestAsync(repository, first.Digest));
    }

    [Fact]
    public async Task ImmutableTags_TurnedOnProtectsExistingTags()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = await CreateRepositoryAsync("alice/app");
        await PushImageAsync(repository, "first", "v1");

        await Identity.UpdateRepositoryAsync(repository, new RepositorySettingsUpdate { ImmutableTags = true });

        Assert.Equal(["v1"], (await Metadata.PutManifestAsync(await ImageWriteAsync(repository, "second", "v1"))).ImmutableTags);
        await Assert.ThrowsAsync<ImmutableTagException>(async () => await Metadata.DeleteTagAsync(repository, "v1"));
    }

    [Fact]
    public async Task ImmutableTags_OtherRepositoriesUnaffected()
    {
        await CreateImmutableRepositoryAsync();
        var other = await CreateRepositoryAsync("alice/mutable");
        await PushImageAsync(other, "first", "v1");

        var second = await PushImageAsync(other, "second", "v1");

        Assert.Equal(second.Digest, (await Metadata.GetManifestAsync(other, ManifestReference.ForTag("v1")))!.Digest);
        Assert.True(await Metadata.DeleteTagAsync(other, "v1"));
    }

    /// <summary>
    /// Creates users alice, bob and carol, organization acme owned by bob with team devs (member alice), and
    /// repositories of every kind: public, private, granted to devs, and one with content but no settings.
    /// Only bob, as acme's owner, sees acme/hidden.
    /// </summary>
    private async Task SeedVisibilityAsync()
    {
        foreach (var name in new[] { "alice", "bob", "carol" })
        {
            await Identity.CreateUserAsync(new NewUser { Name = name });
        }

        await Identity.CreateOrganizationAsync("acme");
        await Identity.AddOwnerAsync("acme", "bob");
        await Identity.CreateTeamAsync("acme", "devs");
        await Identity.CreateTeamAsync("acme", "other");
        await Identity.AddTeamMemberAsync("acme", "devs", "alice");

        await CreateRepositoryAsync("alice/private");
        await CreateRepositoryAsync("bob/public", RepositoryVisibility.Public);
        await CreateRepositoryAsync("bob/private");
        await CreateRepositoryAsync("acme/public", RepositoryVisibility.Public);
        await CreateRepositoryAsync("acme/hidden");
        var granted = await CreateRepositoryAsync("acme/granted");
        var ownedByTeam = await CreateRepositoryAsync("acme/owned-by-team");
        await Identity.SetTeamAccessAsync(granted, "acme", "devs", AccessLevel.ReadOnly);
        await Identity.SetTeamAccessAsync(ownedByTeam, "acme", "devs", AccessLevel.Admin);
        await Identity.SetTeamAccessAsync(ownedByTeam, "acme", "other", AccessLevel.ReadOnly);
        await LinkBlobAsync(RepositoryName.Parse("alice/pushed"), "content only");
    }

    private async Task<RepositoryName> CreateImmutableRepositoryAsync()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        return await CreateRepositoryAsync("alice/app", immutableTags: true);
    }
}

using Dtr.Identity;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>The repository listing with settings, tag counts and filters, and the tags of one manifest.</summary>
public abstract partial class IdentityStoreContractTests
{
    [Fact]
    public async Task ListSummaries_SameRepositoriesAsVisibleListing()
    {
        await SeedVisibilityAsync();

        foreach (var (user, isAdmin) in new (string?, bool)[] { (null, false), ("alice", false), ("bob", false), ("nobody", false), ("carol", true) })
        {
            var summaries = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = user, IsAdmin = isAdmin, Limit = 100 });
            var visible = await Identity.ListVisibleRepositoriesAsync(user, isAdmin, null, 100);

            Assert.Equal(visible, summaries.Select(summary => summary.Name.Value));
        }
    }

    [Fact]
    public async Task ListSummaries_CarrySettingsAndTags()
    {
        await SeedVisibilityAsync();
        await Identity.UpdateRepositoryAsync(RepositoryName.Parse("bob/public"), new RepositorySettingsUpdate { Description = "Bob's app", ScanOnPush = true });
        var tagged = RepositoryName.Parse("bob/public");
        await PushImageAsync(tagged, "one", "v1", "latest");
        Time.Advance(TimeSpan.FromMinutes(5));
        await PushImageAsync(tagged, "two", "v2");

        var summaries = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { IsAdmin = true, Limit = 100 });

        var bob = summaries.Single(summary => summary.Name == tagged);
        Assert.Equal(await Identity.GetRepositoryAsync(tagged), bob.Settings);
        Assert.Equal("Bob's app", bob.Settings!.Description);
        Assert.Equal(3, bob.TagCount);
        Assert.Equal(Time.GetUtcNow(), bob.LastPushedAt);

        var empty = summaries.Single(summary => summary.Name.Value == "bob/private");
        Assert.Equal(0, empty.TagCount);
        Assert.Null(empty.LastPushedAt);

        // A repository with content but no settings is listed for administrators without settings.
        var contentOnly = summaries.Single(summary => summary.Name.Value == "alice/pushed");
        Assert.Null(contentOnly.Settings);
    }

    [Fact]
    public async Task ListSummaries_FilterByNameIgnoresCase()
    {
        await SeedVisibilityAsync();

        var publicOnes = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", NameContains = "PUB", Limit = 100 });
        var across = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", NameContains = "e/p", Limit = 100 });
        var none = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", NameContains = "hidden", Limit = 100 });

        Assert.Equal(["acme/public", "bob/public"], publicOnes.Select(summary => summary.Name.Value));
        Assert.Equal(["acme/public", "alice/private"], across.Select(summary => summary.Name.Value));
        Assert.Empty(none);
    }

    [Fact]
    public async Task ListSummaries_NamespaceAndPages()
    {
        await SeedVisibilityAsync();
        await Identity.CreateOrganizationAsync("acme-labs");
        await CreateRepositoryAsync("acme-labs/public", RepositoryVisibility.Public);

        var first = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", Namespace = "acme", Limit = 2 });
        var second = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", Namespace = "acme", Last = first[^1].Name.Value, Limit = 2 });
        var filtered = await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", Namespace = "acme", NameContains = "public", Limit = 10 });

        Assert.Equal(["acme/granted", "acme/owned-by-team"], first.Select(summary => summary.Name.Value));
        Assert.Equal(["acme/public"], second.Select(summary => summary.Name.Value));
        Assert.Equal(["acme/public"], filtered.Select(summary => summary.Name.Value));
        Assert.Empty(await Identity.ListRepositorySummariesAsync(new RepositoryListQuery { UserName = "alice", Limit = 0 }));
    }

    [Fact]
    public async Task ListManifestTags_OnlyThatManifest()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        var repository = await CreateRepositoryAsync("alice/app");
        var other = await CreateRepositoryAsync("alice/other");
        var image = await PushImageAsync(repository, "image", "v1", "Latest", "beta");
        await PushImageAsync(repository, "second", "v2");
        await PushImageAsync(other, "image", "elsewhere");

        Assert.Equal(["beta", "Latest", "v1"], await Metadata.ListManifestTagsAsync(repository, image.Digest));
        Assert.Equal(["elsewhere"], await Metadata.ListManifestTagsAsync(other, image.Digest));
        Assert.Empty(await Metadata.ListManifestTagsAsync(RepositoryName.Parse("alice/missing"), image.Digest));
    }
}

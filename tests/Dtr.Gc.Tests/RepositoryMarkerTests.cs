using System.Text;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Gc.Tests;

public sealed class RepositoryMarkerTests
{
    private static readonly DateTimeOffset Cutoff = new(2026, 1, 10, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Old = Cutoff.AddDays(-1);
    private static readonly RepositoryName Repository = RepositoryName.Parse("team/app");

    private static Digest D(string name) => Digest.Compute(Encoding.UTF8.GetBytes(name));

    private static ManifestNode Manifest(
        string name,
        bool tagged = false,
        string? subject = null,
        string[]? children = null,
        string[]? blobs = null,
        DateTimeOffset? createdAt = null) =>
        new(D(name), 100, createdAt ?? Old, tagged, subject is null ? null : D(subject), [.. (children ?? []).Select(D)], [.. (blobs ?? []).Select(D)]);

    private static RepositoryContents Contents(params ManifestNode[] manifests) => new(Repository, manifests, []);

    private static List<Digest> Dead(RepositoryContents contents, bool deleteUntagged = true) =>
        [.. RepositoryMarker.FindDeadManifests(contents, Cutoff, deleteUntagged).Select(manifest => manifest.Digest)];

    [Fact]
    public void Untagged_IsKeptWithoutDeleteUntagged()
    {
        var contents = Contents(Manifest("a"), Manifest("b", tagged: true));

        Assert.Empty(Dead(contents, deleteUntagged: false));
    }

    [Fact]
    public void Untagged_IsDeadWithDeleteUntagged()
    {
        var contents = Contents(Manifest("a"), Manifest("b", tagged: true));

        Assert.Equal([D("a")], Dead(contents));
    }

    [Fact]
    public void IndexChildren_SurviveWhenOnlyIndexTagged()
    {
        var contents = Contents(
            Manifest("index", tagged: true, children: ["amd64", "arm64"]),
            Manifest("amd64", blobs: ["layer1"]),
            Manifest("arm64", blobs: ["layer2"]),
            Manifest("orphan"));

        Assert.Equal([D("orphan")], Dead(contents));
    }

    [Fact]
    public void ReferrerChain_SurvivesWithSubject()
    {
        var contents = Contents(
            Manifest("image", tagged: true),
            Manifest("signature", subject: "image"),
            Manifest("signature-of-signature", subject: "signature"));

        Assert.Empty(Dead(contents));
    }

    [Fact]
    public void ReferrerChain_GoesWithSubjectInOrder()
    {
        var contents = Contents(
            Manifest("signature-of-signature", subject: "signature"),
            Manifest("signature", subject: "image"),
            Manifest("image"),
            Manifest("kept", tagged: true));

        Assert.Equal([D("image"), D("signature"), D("signature-of-signature")], Dead(contents));
    }

    [Fact]
    public void DeadIndex_ComesBeforeItsChildren()
    {
        var contents = Contents(
            Manifest("child-a"),
            Manifest("child-b"),
            Manifest("index", children: ["child-a", "child-b"]),
            Manifest("outer", children: ["index"]));

        var dead = Dead(contents);

        Assert.Equal(4, dead.Count);
        Assert.True(dead.IndexOf(D("outer")) < dead.IndexOf(D("index")));
        Assert.True(dead.IndexOf(D("index")) < dead.IndexOf(D("child-a")));
        Assert.True(dead.IndexOf(D("index")) < dead.IndexOf(D("child-b")));
    }

    [Fact]
    public void ChildOfTwoIndexes_WaitsForBoth()
    {
        var contents = Contents(
            Manifest("shared"),
            Manifest("index-a", children: ["shared"]),
            Manifest("index-b", children: ["shared"]));

        var dead = Dead(contents);

        Assert.Equal(D("shared"), dead[^1]);
    }

    [Fact]
    public void ChildOfLiveAndDeadIndex_Survives()
    {
        var contents = Contents(
            Manifest("shared"),
            Manifest("live", tagged: true, children: ["shared"]),
            Manifest("dead", children: ["shared"]));

        Assert.Equal([D("dead")], Dead(contents));
    }

    [Fact]
    public void NewManifest_SurvivesGracePeriodWithItsChildren()
    {
        var contents = Contents(
            Manifest("new-index", createdAt: Cutoff, children: ["old-child"]),
            Manifest("old-child"),
            Manifest("old"));

        Assert.Equal([D("old")], Dead(contents));
    }

    [Fact]
    public void MissingChild_IsIgnored()
    {
        var contents = Contents(Manifest("index", tagged: true, children: ["elsewhere"]));

        Assert.Empty(Dead(contents));
    }

    [Fact]
    public void Order_IsSameForSameContents()
    {
        var manifests = Enumerable.Range(0, 20).Select(i => Manifest($"m{i}")).ToArray();

        var forward = Dead(Contents(manifests));
        var backward = Dead(Contents([.. manifests.Reverse()]));

        Assert.Equal(forward, backward);
    }

    [Fact]
    public void UnusedLinks_ExcludeBlobsOfRemainingManifests()
    {
        var contents = new RepositoryContents(
            Repository,
            [Manifest("kept", tagged: true, blobs: ["shared", "kept-only"]), Manifest("gone", blobs: ["shared", "gone-only"])],
            [Link("shared"), Link("kept-only"), Link("gone-only"), Link("loose")]);

        var (unused, used) = RepositoryMarker.FindUnusedLinks(contents, new HashSet<Digest> { D("gone") }, Cutoff);

        Assert.Equal(new[] { D("gone-only"), D("loose") }.OrderBy(d => d.Value, StringComparer.Ordinal), unused.Select(link => link.Digest));
        Assert.Contains(D("shared"), used);
        Assert.Contains(D("kept-only"), used);
        Assert.DoesNotContain(D("gone-only"), used);
    }

    [Fact]
    public void UnusedLinks_KeepRecentLinksAndRecentUse()
    {
        var contents = new RepositoryContents(
            Repository,
            [],
            [Link("old"), Link("linked-at-cutoff", linkedAt: Cutoff), Link("used-at-cutoff", lastUsedAt: Cutoff), Link("used-before", lastUsedAt: Cutoff.AddTicks(-1))]);

        var (unused, _) = RepositoryMarker.FindUnusedLinks(contents, new HashSet<Digest>(), Cutoff);

        Assert.Equal(new[] { D("old"), D("used-before") }.OrderBy(d => d.Value, StringComparer.Ordinal), unused.Select(link => link.Digest));
    }

    private static BlobLinkEntry Link(string name, DateTimeOffset? linkedAt = null, DateTimeOffset? lastUsedAt = null) =>
        new(D(name), 10, linkedAt ?? Old, lastUsedAt);
}

using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>Which blobs collection keeps, and the marks that keep a blob from being used while its bytes are deleted.</summary>
public abstract partial class GarbageCollectionStoreContractTests
{
    private static readonly RepositoryName s_blobRepository = RepositoryName.Parse("library/blobs");

    [Fact]
    public async Task FindBlobsToKeep_EachReasonToKeep()
    {
        var linked = await LinkAsync(s_blobRepository, "linked");
        var image = await PushImageAsync(s_blobRepository, "image", ["latest"]);
        var referenced = image.Manifest.Layers[0];
        Assert.True(await Metadata.UnlinkBlobAsync(s_blobRepository, referenced.Digest));
        var garbage = await UnlinkedBlobAsync("garbage");
        var recent = await UnlinkedBlobAsync("recent");
        var pending = await UnlinkedBlobAsync("pending");
        var neverSeen = BlobDigest("never seen");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.True(await Gc.TryUseBlobAsync(recent, Time.GetUtcNow()));
        var cutoff = Time.GetUtcNow();
        Assert.Equal([pending], await Gc.BeginBlobDeletionAsync("other-run", [pending], cutoff));

        var keep = await Gc.FindBlobsToKeepAsync([linked.Digest, referenced.Digest, garbage, recent, pending, neverSeen], cutoff);

        Assert.Contains(linked.Digest, keep);
        Assert.Contains(referenced.Digest, keep);
        Assert.Contains(recent, keep);
        Assert.Contains(pending, keep);
        Assert.DoesNotContain(garbage, keep);
        Assert.DoesNotContain(neverSeen, keep);
        Assert.Equal(4, keep.Count);
        Assert.Empty(await Gc.FindBlobsToKeepAsync([], cutoff));
    }

    [Fact]
    public async Task FindBlobsToKeep_UsedAtCutoffKept()
    {
        var digest = await UnlinkedBlobAsync("used");
        var usedAt = Start.AddHours(1);
        Assert.True(await Gc.TryUseBlobAsync(digest, usedAt));

        Assert.Contains(digest, await Gc.FindBlobsToKeepAsync([digest], usedAt));
        Assert.DoesNotContain(digest, await Gc.FindBlobsToKeepAsync([digest], usedAt.AddMilliseconds(1)));
    }

    [Fact]
    public async Task BeginDeletion_MarksOnlyGarbage()
    {
        var linked = await LinkAsync(s_blobRepository, "linked");
        var image = await PushImageAsync(s_blobRepository, "image", ["latest"]);
        var referenced = image.Manifest.Config!;
        Assert.True(await Metadata.UnlinkBlobAsync(s_blobRepository, referenced.Digest));
        var garbage = await UnlinkedBlobAsync("garbage");
        var recent = await UnlinkedBlobAsync("recent");
        var neverSeen = BlobDigest("never seen");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.True(await Gc.TryUseBlobAsync(recent, Time.GetUtcNow()));
        var cutoff = Time.GetUtcNow();

        var marked = await Gc.BeginBlobDeletionAsync("run-1", [linked.Digest, referenced.Digest, garbage, recent, neverSeen], cutoff);

        Assert.Equal(Sorted([garbage, neverSeen]), Sorted(marked));
        Assert.Empty(await Gc.BeginBlobDeletionAsync("run-2", [garbage, neverSeen], cutoff));
        Assert.Empty(await Gc.BeginBlobDeletionAsync("run-1", [garbage], cutoff));
        Assert.Empty(await Gc.BeginBlobDeletionAsync("run-1", [], cutoff));
    }

    [Fact]
    public async Task BeginDeletion_LinkThrowsWhileMarked()
    {
        var digest = await UnlinkedBlobAsync("marked");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([digest], await Gc.BeginBlobDeletionAsync("run-1", [digest], Time.GetUtcNow()));

        var exception = await Assert.ThrowsAsync<BlobDeletionPendingException>(async () => await Metadata.LinkBlobAsync(s_otherRepository, digest, 6));

        Assert.Equal(digest, exception.Digest);
        Assert.Null(await Metadata.GetBlobLinkAsync(s_otherRepository, digest));
    }

    [Fact]
    public async Task BeginDeletion_TryUseFalseWhileMarked()
    {
        var digest = await UnlinkedBlobAsync("marked");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([digest], await Gc.BeginBlobDeletionAsync("run-1", [digest], Time.GetUtcNow()));

        var rejectedAt = Time.GetUtcNow().AddMinutes(1);
        Assert.False(await Gc.TryUseBlobAsync(digest, rejectedAt));

        // The rejected use was not recorded, so the blob is garbage again once the mark is gone.
        await Gc.EndBlobDeletionAsync([digest], deleted: false);
        Assert.DoesNotContain(digest, await Gc.FindBlobsToKeepAsync([digest], rejectedAt));
    }

    [Fact]
    public async Task EndDeletion_NotDeletedMakesUsable()
    {
        var digest = await UnlinkedBlobAsync("kept");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([digest], await Gc.BeginBlobDeletionAsync("run-1", [digest], Time.GetUtcNow()));

        await Gc.EndBlobDeletionAsync([digest], deleted: false);

        Assert.True(await Gc.TryUseBlobAsync(digest, Time.GetUtcNow()));
        await Metadata.LinkBlobAsync(s_otherRepository, digest, 4);
        Assert.Equal(4, await Metadata.GetBlobLinkAsync(s_otherRepository, digest));
    }

    [Fact]
    public async Task EndDeletion_DeletedForgetsUseAndAnalyses()
    {
        var digest = await UnlinkedBlobAsync("deleted");
        var other = await UnlinkedBlobAsync("other");
        await Scans.PutLayerAnalysisAsync(digest, 1, """{"packages":[]}""");
        await Scans.PutLayerAnalysisAsync(digest, 2, """{"packages":[]}""");
        await Scans.PutLayerAnalysisAsync(other, 1, """{"packages":[]}""");
        Time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([digest], await Gc.BeginBlobDeletionAsync("run-1", [digest], Time.GetUtcNow()));

        await Gc.EndBlobDeletionAsync([digest], deleted: true);

        Assert.Null(await Scans.GetLayerAnalysisAsync(digest, 1));
        Assert.Null(await Scans.GetLayerAnalysisAsync(digest, 2));
        Assert.NotNull(await Scans.GetLayerAnalysisAsync(other, 1));

        // The use recorded at Start is forgotten, so even a cutoff before it does not keep the blob.
        Assert.DoesNotContain(digest, await Gc.FindBlobsToKeepAsync([digest], Start.AddHours(-1)));
        Assert.Contains(other, await Gc.FindBlobsToKeepAsync([other], Start.AddHours(-1)));
        Assert.Empty(await Gc.ListPendingBlobDeletionsAsync(10));

        await Metadata.LinkBlobAsync(s_otherRepository, digest, 7);
        Assert.Equal(7, await Metadata.GetBlobLinkAsync(s_otherRepository, digest));
    }

    [Fact]
    public async Task EndDeletion_EmptyListDoesNothing()
    {
        await Gc.EndBlobDeletionAsync([], deleted: true);
        await Gc.EndBlobDeletionAsync([], deleted: false);

        Assert.Empty(await Gc.ListPendingBlobDeletionsAsync(10));
    }

    [Fact]
    public async Task PendingDeletions_OnlyRunsNotRunning()
    {
        var ofRunning = BlobDigest("of running run");
        var ofInterrupted = BlobDigest("of interrupted run");
        var ofUnknown = BlobDigest("of unknown run");
        await Gc.CreateRunAsync(NewRun("running"));
        await Gc.CreateRunAsync(NewRun("interrupted") with { Status = GarbageCollectionStatus.Interrupted, EndedAt = Start });
        Assert.Single(await Gc.BeginBlobDeletionAsync("running", [ofRunning], Start));
        Assert.Single(await Gc.BeginBlobDeletionAsync("interrupted", [ofInterrupted], Start));
        Assert.Single(await Gc.BeginBlobDeletionAsync("unknown", [ofUnknown], Start));

        var pending = await Gc.ListPendingBlobDeletionsAsync(10);

        Assert.Equal(2, pending.Count);
        Assert.Contains(new PendingBlobDeletion(ofInterrupted, "interrupted"), pending);
        Assert.Contains(new PendingBlobDeletion(ofUnknown, "unknown"), pending);
        Assert.Single(await Gc.ListPendingBlobDeletionsAsync(1));

        await Gc.UpdateRunAsync(NewRun("running") with { Status = GarbageCollectionStatus.Failed, EndedAt = Start });
        Assert.Contains(new PendingBlobDeletion(ofRunning, "running"), await Gc.ListPendingBlobDeletionsAsync(10));
    }

    [Fact]
    public async Task TryUse_RecordsUseForLinks()
    {
        var blob = await LinkAsync(s_blobRepository, "linked");
        var usedAt = Start.AddHours(2);

        Assert.True(await Gc.TryUseBlobAsync(blob.Digest, usedAt));

        var contents = await Gc.GetRepositoryContentsAsync(s_blobRepository);
        Assert.NotNull(contents);
        Assert.Equal(usedAt, Assert.Single(contents.BlobLinks).LastUsedAt);
    }

    /// <summary>Links a made-up blob at the current time and unlinks it again, leaving only its use record.</summary>
    private async Task<Digest> UnlinkedBlobAsync(string name)
    {
        var blob = await LinkAsync(s_blobRepository, name);
        Assert.True(await Metadata.UnlinkBlobAsync(s_blobRepository, blob.Digest));
        return blob.Digest;
    }
}

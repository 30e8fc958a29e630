using System.Text;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IMetadataStore"/> driver must have. A driver's test class derives from this one
/// and supplies a fresh, migrated store per test.
/// </summary>
public abstract class MetadataStoreContractTests : IAsyncLifetime
{
    // The listing order: ASCII letters folded to lowercase, then ordinal order between tags that differ only in case.
    private static readonly Comparer<string> s_tagOrder = Comparer<string>.Create((x, y) =>
    {
        var folded = string.CompareOrdinal(x.ToLowerInvariant(), y.ToLowerInvariant());
        return folded != 0 ? folded : string.CompareOrdinal(x, y);
    });

    private static readonly RepositoryName s_repository = RepositoryName.Parse("library/app");
    private static readonly RepositoryName s_otherRepository = RepositoryName.Parse("library/other");

    // The clock of the lease tests; the store compares only the times it is given.
    private static readonly DateTimeOffset s_leaseNow = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private IMetadataStore? _store;

    /// <summary>The store under test, fresh for each test.</summary>
    protected IMetadataStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>Creates an empty store for one test. The suite calls <see cref="IMetadataStore.MigrateAsync"/> on it before the test runs.</summary>
    protected abstract Task<IMetadataStore> CreateStoreAsync();

    /// <summary>Releases what <see cref="CreateStoreAsync"/> created.</summary>
    protected abstract Task DisposeStoreAsync();

    public async Task InitializeAsync()
    {
        _store = await CreateStoreAsync();
        await _store.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoreAsync();

    [Fact]
    public async Task Migrate_SecondCallChangesNothing()
    {
        await LinkAsync(s_repository, "kept");

        await Store.MigrateAsync();

        Assert.True(await Store.RepositoryExistsAsync(s_repository));
        Assert.NotNull(await Store.GetBlobLinkAsync(s_repository, BlobDigest("kept")));
    }

    [Fact]
    public async Task RepositoryExists_UnknownIsFalse()
    {
        Assert.False(await Store.RepositoryExistsAsync(s_repository));
    }

    [Fact]
    public async Task LinkBlob_CreatesRepository()
    {
        await Store.LinkBlobAsync(s_repository, BlobDigest("a"), 10);

        Assert.True(await Store.RepositoryExistsAsync(s_repository));
        Assert.Equal([s_repository.Value], await Store.ListRepositoriesAsync(null, 100));
    }

    [Fact]
    public async Task LinkBlob_RelinkKeepsFirstSize()
    {
        var digest = BlobDigest("a");
        await Store.LinkBlobAsync(s_repository, digest, 10);

        await Store.LinkBlobAsync(s_repository, digest, 99);

        Assert.Equal(10, await Store.GetBlobLinkAsync(s_repository, digest));
    }

    [Fact]
    public async Task BlobLink_ScopedToRepository()
    {
        var digest = BlobDigest("a");
        await Store.LinkBlobAsync(s_repository, digest, 10);
        await Store.LinkBlobAsync(s_otherRepository, BlobDigest("b"), 5);

        Assert.Null(await Store.GetBlobLinkAsync(s_otherRepository, digest));
        Assert.Null(await Store.GetBlobLinkAsync(RepositoryName.Parse("no/such/repo"), digest));
    }

    [Fact]
    public async Task UnlinkBlob_RemovesLinkOnce()
    {
        var digest = BlobDigest("a");
        await Store.LinkBlobAsync(s_repository, digest, 10);

        Assert.True(await Store.UnlinkBlobAsync(s_repository, digest));
        Assert.False(await Store.UnlinkBlobAsync(s_repository, digest));
        Assert.Null(await Store.GetBlobLinkAsync(s_repository, digest));
        Assert.False(await Store.UnlinkBlobAsync(RepositoryName.Parse("no/such/repo"), digest));
    }

    [Fact]
    public async Task ListRepositories_OrdinalOrder()
    {
        string[] names = ["b", "a/b", "a", "a-b", "a.b", "a0", "a_b", "z/z", "a/a", "ab"];
        foreach (var name in names)
        {
            await LinkAsync(RepositoryName.Parse(name), "blob");
        }

        var listed = await Store.ListRepositoriesAsync(null, 100);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public async Task ListRepositories_Pages()
    {
        string[] names = ["alpha", "bravo", "charlie", "delta", "echo"];
        foreach (var name in names)
        {
            await LinkAsync(RepositoryName.Parse(name), "blob");
        }

        Assert.Equal(["alpha", "bravo"], await Store.ListRepositoriesAsync(null, 2));
        Assert.Equal(["charlie", "delta"], await Store.ListRepositoriesAsync("bravo", 2));
        Assert.Equal(["echo"], await Store.ListRepositoriesAsync("delta", 2));
        Assert.Empty(await Store.ListRepositoriesAsync("echo", 2));
    }

    [Fact]
    public async Task ListRepositories_LastNeedNotExist()
    {
        foreach (var name in new[] { "alpha", "bravo", "charlie" })
        {
            await LinkAsync(RepositoryName.Parse(name), "blob");
        }

        Assert.Equal(["bravo", "charlie"], await Store.ListRepositoriesAsync("b", 10));
        Assert.Equal(["charlie"], await Store.ListRepositoriesAsync("bz", 10));
        Assert.Empty(await Store.ListRepositoriesAsync("zulu", 10));
        Assert.Equal(["alpha", "bravo", "charlie"], await Store.ListRepositoriesAsync("", 10));
    }

    [Fact]
    public async Task UploadSessionAlone_DoesNotListRepository()
    {
        var started = DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000);
        await Store.CreateUploadAsync(new UploadSession("upload-only", s_otherRepository, started, started));
        await LinkAsync(s_repository, "blob");

        Assert.Equal([s_repository.Value], await Store.ListRepositoriesAsync(null, 10));
        Assert.Null(await Store.ListTagsAsync(s_otherRepository, null, 10));
    }

    [Fact]
    public async Task ListRepositories_ZeroLimitIsEmpty()
    {
        await LinkAsync(s_repository, "blob");

        Assert.Empty(await Store.ListRepositoriesAsync(null, 0));
    }

    [Fact]
    public async Task ListTags_UnknownRepositoryIsNull()
    {
        Assert.Null(await Store.ListTagsAsync(s_repository, null, 10));
    }

    [Fact]
    public async Task ListTags_RepositoryWithoutTagsIsEmpty()
    {
        await LinkAsync(s_repository, "blob");

        var tags = await Store.ListTagsAsync(s_repository, null, 10);

        Assert.NotNull(tags);
        Assert.Empty(tags);
    }

    [Fact]
    public async Task ListTags_CaseInsensitiveOrderAndPages()
    {
        string[] tags = ["v1.2", "latest", "V2", "v1.10", "1.0", "_private", "Latest", "v1.2-rc", "LATEST", "Beta", "alpha"];
        var write = await ImageWriteAsync(s_repository, "image", tags);
        Assert.True((await Store.PutManifestAsync(write)).Stored);
        var ordered = tags.Order(s_tagOrder).ToArray();

        Assert.Equal(["1.0", "_private", "alpha", "Beta", "LATEST", "Latest", "latest", "v1.10", "v1.2", "v1.2-rc", "V2"], ordered);
        Assert.Equal(ordered, await Store.ListTagsAsync(s_repository, null, 100));
        Assert.Equal(ordered[..3], await Store.ListTagsAsync(s_repository, null, 3));
        Assert.Equal(ordered[3..6], await Store.ListTagsAsync(s_repository, ordered[2], 3));
        Assert.Equal(ordered[6..], await Store.ListTagsAsync(s_repository, "Latest", 100));
        Assert.Equal(ordered.Where(t => s_tagOrder.Compare(t, "v1.1") > 0), await Store.ListTagsAsync(s_repository, "v1.1", 100));
        Assert.Equal(ordered.Where(t => s_tagOrder.Compare(t, "V1.1") > 0), await Store.ListTagsAsync(s_repository, "V1.1", 100));
        Assert.Empty((await Store.ListTagsAsync(s_repository, "zzz", 100))!);
    }

    [Fact]
    public async Task ListTags_PagesVisitEveryTagOnce()
    {
        string[] tags = ["a", "A", "b", "B", "_", "0", "a-1", "A-1", "a.1", "Z", "z"];
        Assert.True((await Store.PutManifestAsync(await ImageWriteAsync(s_repository, "image", tags))).Stored);

        var seen = new List<string>();
        string? last = null;
        while (true)
        {
            var page = (await Store.ListTagsAsync(s_repository, last, 2))!;
            if (page.Count == 0)
            {
                break;
            }

            seen.AddRange(page);
            last = page[^1];
        }

        Assert.Equal(tags.Order(s_tagOrder), seen);
    }

    [Fact]
    public async Task ListTags_OtherRepositoryTagsHidden()
    {
        Assert.True((await Store.PutManifestAsync(await ImageWriteAsync(s_repository, "image", ["mine"]))).Stored);
        Assert.True((await Store.PutManifestAsync(await ImageWriteAsync(s_otherRepository, "image", ["theirs"]))).Stored);

        Assert.Equal(["mine"], await Store.ListTagsAsync(s_repository, null, 10));
    }

    [Fact]
    public async Task ListTagDetails_UnknownRepositoryIsNull()
    {
        Assert.Null(await Store.ListTagDetailsAsync(s_repository, null, 10));
    }

    [Fact]
    public async Task ListTagDetails_ManifestAndPushTime()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        var image = await ImageWriteAsync(s_repository, "image", ["latest", "1.0"]);
        Assert.True((await Store.PutManifestAsync(image)).Stored);
        var index = IndexWrite(s_repository, [image], ["multi"]);
        Assert.True((await Store.PutManifestAsync(index)).Stored);

        var details = await Store.ListTagDetailsAsync(s_repository, null, 10);

        Assert.NotNull(details);
        Assert.Equal(["1.0", "latest", "multi"], details.Select(d => d.Name));
        Assert.Equal(image.Digest, details[0].Manifest.Digest);
        Assert.Equal(MediaTypes.OciManifest, details[0].Manifest.MediaType);
        Assert.Equal(image.Content.ToArray(), details[0].Manifest.Content.ToArray());
        Assert.Equal(index.Digest, details[2].Manifest.Digest);
        Assert.Equal(MediaTypes.OciIndex, details[2].Manifest.MediaType);
        Assert.All(details, d => Assert.InRange(d.PushedAt, before, DateTimeOffset.UtcNow.AddSeconds(1)));
    }

    [Fact]
    public async Task ListTagDetails_PagesLikeListTags()
    {
        string[] tags = ["b", "A", "a", "C", "_"];
        Assert.True((await Store.PutManifestAsync(await ImageWriteAsync(s_repository, "image", tags))).Stored);

        var all = await Store.ListTagsAsync(s_repository, null, 100);
        var firstPage = await Store.ListTagDetailsAsync(s_repository, null, 2);
        var secondPage = await Store.ListTagDetailsAsync(s_repository, firstPage![^1].Name, 100);

        Assert.Equal(all, firstPage.Concat(secondPage!).Select(d => d.Name));
        Assert.Equal(2, firstPage.Count);
    }

    [Fact]
    public async Task PutManifest_StoresBytesAndTags()
    {
        var write = await ImageWriteAsync(s_repository, "image", ["latest", "1.0"]);

        var result = await Store.PutManifestAsync(write);

        Assert.Same(ManifestWriteResult.Success, result);
        var byDigest = await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(write.Digest));
        Assert.NotNull(byDigest);
        Assert.Equal(write.Digest, byDigest.Digest);
        Assert.Equal(MediaTypes.OciManifest, byDigest.MediaType);
        Assert.Equal(write.Content.ToArray(), byDigest.Content.ToArray());
        var byTag = await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("1.0"));
        Assert.NotNull(byTag);
        Assert.Equal(write.Digest, byTag.Digest);
    }

    [Fact]
    public async Task PutManifest_CreatesRepository()
    {
        var write = ManifestWriteFor(s_repository, new ParsedManifest { MediaType = MediaTypes.OciIndex }, "empty index");

        Assert.True((await Store.PutManifestAsync(write)).Stored);

        Assert.True(await Store.RepositoryExistsAsync(s_repository));
    }

    [Fact]
    public async Task GetManifest_UnknownReturnsNull()
    {
        var write = await ImageWriteAsync(s_repository, "image", ["latest"]);
        await Store.PutManifestAsync(write);

        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("missing")));
        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(BlobDigest("other"))));
        Assert.Null(await Store.GetManifestAsync(s_otherRepository, ManifestReference.ForDigest(write.Digest)));
        Assert.Null(await Store.GetManifestAsync(s_otherRepository, ManifestReference.ForTag("latest")));
    }

    [Fact]
    public async Task PutManifest_MissingBlobsReported()
    {
        var config = Blob("config");
        var linkedLayer = Blob("layer-linked");
        var missingLayer = Blob("layer-missing");
        await Store.LinkBlobAsync(s_repository, config.Digest, config.Size);
        await Store.LinkBlobAsync(s_repository, linkedLayer.Digest, linkedLayer.Size);
        var write = ManifestWriteFor(s_repository, Image(config, [linkedLayer, missingLayer]), "missing layer", ["latest"]);

        var result = await Store.PutManifestAsync(write);

        Assert.False(result.Stored);
        Assert.Equal([missingLayer.Digest], result.MissingBlobs);
        Assert.Empty(result.MissingManifests);
        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(write.Digest)));
        Assert.Empty((await Store.ListTagsAsync(s_repository, null, 10))!);
    }

    [Fact]
    public async Task PutManifest_WrongBlobSizeReported()
    {
        var config = Blob("config");
        var layer = Blob("layer");
        await Store.LinkBlobAsync(s_repository, config.Digest, config.Size);
        await Store.LinkBlobAsync(s_repository, layer.Digest, layer.Size);
        var wrongLayer = layer with { Size = layer.Size + 1 };

        var result = await Store.PutManifestAsync(ManifestWriteFor(s_repository, Image(config, [wrongLayer]), "wrong size", ["latest"]));

        Assert.False(result.Stored);
        Assert.Equal([layer.Digest], result.BlobSizeMismatches);
        Assert.Empty(result.MissingBlobs);
        Assert.Empty((await Store.ListTagsAsync(s_repository, null, 10))!);
    }

    [Fact]
    public async Task PutManifest_MissingConfigReported()
    {
        var config = Blob("config");
        var layer = Blob("layer");
        await Store.LinkBlobAsync(s_repository, layer.Digest, layer.Size);

        var result = await Store.PutManifestAsync(ManifestWriteFor(s_repository, Image(config, [layer]), "missing config"));

        Assert.False(result.Stored);
        Assert.Equal([config.Digest], result.MissingBlobs);
    }

    [Fact]
    public async Task PutManifest_RejectedCreatesNoRepository()
    {
        var write = ManifestWriteFor(s_repository, Image(Blob("config"), [Blob("layer")]), "nothing linked", ["latest"]);

        var result = await Store.PutManifestAsync(write);

        Assert.False(result.Stored);
        Assert.Equal(2, result.MissingBlobs.Count);
        Assert.False(await Store.RepositoryExistsAsync(s_repository));
        Assert.Null(await Store.ListTagsAsync(s_repository, null, 10));
    }

    [Fact]
    public async Task PutManifest_BlobLinkedElsewhereIsMissing()
    {
        var config = Blob("config");
        await Store.LinkBlobAsync(s_otherRepository, config.Digest, config.Size);

        var result = await Store.PutManifestAsync(ManifestWriteFor(s_repository, Image(config, []), "other repository's blob"));

        Assert.False(result.Stored);
        Assert.Equal([config.Digest], result.MissingBlobs);
    }

    [Fact]
    public async Task PutManifest_ManifestAsLayerMustBeLinked()
    {
        // A stored manifest does not count as a blob: a layer that names a manifest digest must be linked.
        var child = await ImageWriteAsync(s_repository, "child", []);
        Assert.True((await Store.PutManifestAsync(child)).Stored);
        var config = Blob("config");
        await Store.LinkBlobAsync(s_repository, config.Digest, config.Size);
        var manifestAsLayer = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = child.Digest, Size = child.Content.Length };

        var result = await Store.PutManifestAsync(ManifestWriteFor(s_repository, Image(config, [manifestAsLayer]), "manifest as layer"));

        Assert.False(result.Stored);
        Assert.Equal([child.Digest], result.MissingBlobs);
    }

    [Fact]
    public async Task PutManifest_IndexMissingChildReported()
    {
        var present = await ImageWriteAsync(s_repository, "present", []);
        Assert.True((await Store.PutManifestAsync(present)).Stored);
        var absent = await ImageWriteAsync(s_repository, "absent", []);
        var index = IndexWrite(s_repository, [present, absent], ["multi"]);

        var rejected = await Store.PutManifestAsync(index);

        Assert.False(rejected.Stored);
        Assert.Empty(rejected.MissingBlobs);
        Assert.Equal([absent.Digest], rejected.MissingManifests);
        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("multi")));

        Assert.True((await Store.PutManifestAsync(absent)).Stored);
        Assert.True((await Store.PutManifestAsync(index)).Stored);
        Assert.Equal(index.Digest, (await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("multi")))!.Digest);
    }

    [Fact]
    public async Task PutManifest_IndexChildInOtherRepositoryIsMissing()
    {
        var child = await ImageWriteAsync(s_otherRepository, "child", []);
        Assert.True((await Store.PutManifestAsync(child)).Stored);

        var result = await Store.PutManifestAsync(IndexWrite(s_repository, [child], []));

        Assert.False(result.Stored);
        Assert.Equal([child.Digest], result.MissingManifests);
    }

    [Fact]
    public async Task PutManifest_SubjectNotChecked()
    {
        var subject = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = BlobDigest("absent subject"), Size = 10 };
        var write = await ReferrerWriteAsync(s_repository, subject.Digest, "application/vnd.example.sbom", "sbom");

        var result = await Store.PutManifestAsync(write);

        Assert.True(result.Stored);
        Assert.Single(await Store.ListReferrersAsync(s_repository, subject.Digest, null));
    }

    [Fact]
    public async Task PutManifest_RepeatOnlyUpdatesTags()
    {
        var write = await ImageWriteAsync(s_repository, "image", ["first"]);
        Assert.True((await Store.PutManifestAsync(write)).Stored);

        // The blobs are gone, yet putting the stored manifest again succeeds and only adds the tag.
        foreach (var blob in write.Manifest.Blobs)
        {
            await Store.UnlinkBlobAsync(s_repository, blob.Digest);
        }

        var again = await Store.PutManifestAsync(write with { Tags = ["second"] });

        Assert.True(again.Stored);
        Assert.Equal(["first", "second"], await Store.ListTagsAsync(s_repository, null, 10));
        var stored = await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("second"));
        Assert.Equal(write.Content.ToArray(), stored!.Content.ToArray());
    }

    [Fact]
    public async Task PutManifest_MovesExistingTag()
    {
        var first = await ImageWriteAsync(s_repository, "first", ["latest", "stable"]);
        var second = await ImageWriteAsync(s_repository, "second", ["latest"]);
        Assert.True((await Store.PutManifestAsync(first)).Stored);

        Assert.True((await Store.PutManifestAsync(second)).Stored);

        Assert.Equal(second.Digest, (await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("latest")))!.Digest);
        Assert.Equal(first.Digest, (await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("stable")))!.Digest);
        Assert.NotNull(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(first.Digest)));
        Assert.Equal(["latest", "stable"], await Store.ListTagsAsync(s_repository, null, 10));
    }

    [Fact]
    public async Task PutManifest_InvalidTagThrows()
    {
        var write = await ImageWriteAsync(s_repository, "image", [".hidden"]);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.PutManifestAsync(write));

        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(write.Digest)));
    }

    [Fact]
    public async Task DeleteTag_KeepsManifest()
    {
        var write = await ImageWriteAsync(s_repository, "image", ["latest"]);
        await Store.PutManifestAsync(write);

        Assert.True(await Store.DeleteTagAsync(s_repository, "latest"));
        Assert.False(await Store.DeleteTagAsync(s_repository, "latest"));
        Assert.False(await Store.DeleteTagAsync(RepositoryName.Parse("no/such/repo"), "latest"));

        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("latest")));
        Assert.NotNull(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(write.Digest)));
    }

    [Fact]
    public async Task DeleteManifest_RemovesItsTagsOnly()
    {
        var doomed = await ImageWriteAsync(s_repository, "doomed", ["a", "b"]);
        var kept = await ImageWriteAsync(s_repository, "kept", ["c"]);
        await Store.PutManifestAsync(doomed);
        await Store.PutManifestAsync(kept);

        Assert.True(await Store.DeleteManifestAsync(s_repository, doomed.Digest));

        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForDigest(doomed.Digest)));
        Assert.Null(await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("a")));
        Assert.Equal(["c"], await Store.ListTagsAsync(s_repository, null, 10));
        Assert.False(await Store.DeleteManifestAsync(s_repository, doomed.Digest));
    }

    [Fact]
    public async Task DeleteManifest_UnknownReturnsFalse()
    {
        Assert.False(await Store.DeleteManifestAsync(RepositoryName.Parse("no/such/repo"), BlobDigest("x")));
        await LinkAsync(s_repository, "blob");
        Assert.False(await Store.DeleteManifestAsync(s_repository, BlobDigest("x")));
    }

    [Fact]
    public async Task DeleteManifest_RemovesReferrerRecord()
    {
        var subject = await ImageWriteAsync(s_repository, "subject", []);
        await Store.PutManifestAsync(subject);
        var referrer = await ReferrerWriteAsync(s_repository, subject.Digest, "application/vnd.example.sig", "signature");
        await Store.PutManifestAsync(referrer);

        Assert.True(await Store.DeleteManifestAsync(s_repository, referrer.Digest));

        Assert.Empty(await Store.ListReferrersAsync(s_repository, subject.Digest, null));
    }

    [Fact]
    public async Task DeleteManifest_CanBeStoredAgain()
    {
        var write = await ImageWriteAsync(s_repository, "image", ["latest"]);
        await Store.PutManifestAsync(write);
        await Store.DeleteManifestAsync(s_repository, write.Digest);

        Assert.True((await Store.PutManifestAsync(write)).Stored);

        Assert.Equal(write.Digest, (await Store.GetManifestAsync(s_repository, ManifestReference.ForTag("latest")))!.Digest);
    }

    [Fact]
    public async Task ListReferrers_OrderedByDigestWithFields()
    {
        var subject = await ImageWriteAsync(s_repository, "subject", []);
        await Store.PutManifestAsync(subject);
        var writes = new List<ManifestWrite>();
        for (var i = 0; i < 5; i++)
        {
            var write = await ReferrerWriteAsync(s_repository, subject.Digest, i % 2 == 0 ? "application/vnd.example.sbom" : "application/vnd.example.sig", $"referrer {i}");
            Assert.True((await Store.PutManifestAsync(write)).Stored);
            writes.Add(write);
        }

        var referrers = await Store.ListReferrersAsync(s_repository, subject.Digest, null);

        Assert.Equal(writes.Select(w => w.Digest.Value).Order(StringComparer.Ordinal), referrers.Select(r => r.Digest.Value));
        foreach (var referrer in referrers)
        {
            var write = writes.Single(w => w.Digest == referrer.Digest);
            Assert.Equal(MediaTypes.OciManifest, referrer.MediaType);
            Assert.Equal(write.Content.Length, referrer.Size);
            Assert.Equal(write.Manifest.ArtifactType, referrer.ArtifactType);
            Assert.NotNull(referrer.Annotations);
            Assert.Equal(write.Manifest.Annotations!.OrderBy(a => a.Key), referrer.Annotations.OrderBy(a => a.Key));
        }
    }

    [Fact]
    public async Task ListReferrers_FiltersByArtifactType()
    {
        var subject = BlobDigest("subject");
        var sbom = await ReferrerWriteAsync(s_repository, subject, "application/vnd.example.sbom", "sbom");
        var signature = await ReferrerWriteAsync(s_repository, subject, "application/vnd.example.sig", "signature");
        await Store.PutManifestAsync(sbom);
        await Store.PutManifestAsync(signature);

        var filtered = await Store.ListReferrersAsync(s_repository, subject, "application/vnd.example.sig");

        Assert.Equal([signature.Digest], filtered.Select(r => r.Digest));
        Assert.Empty(await Store.ListReferrersAsync(s_repository, subject, "application/vnd.example.none"));
    }

    [Fact]
    public async Task ListReferrers_ScopedToRepositoryAndSubject()
    {
        var subject = BlobDigest("subject");
        await Store.PutManifestAsync(await ReferrerWriteAsync(s_otherRepository, subject, "application/vnd.example.sig", "elsewhere"));
        await Store.PutManifestAsync(await ReferrerWriteAsync(s_repository, BlobDigest("another subject"), "application/vnd.example.sig", "other subject"));
        await Store.PutManifestAsync(await ImageWriteAsync(s_repository, "plain image", []));

        Assert.Empty(await Store.ListReferrersAsync(s_repository, subject, null));
        Assert.Empty(await Store.ListReferrersAsync(RepositoryName.Parse("no/such/repo"), subject, null));
    }

    [Fact]
    public async Task ListReferrers_NoAnnotationsIsNull()
    {
        var subject = BlobDigest("subject");
        var write = await ReferrerWriteAsync(s_repository, subject, "application/vnd.example.sig", "bare");
        write = write with { Manifest = write.Manifest with { Annotations = null } };
        await Store.PutManifestAsync(write);

        var referrer = Assert.Single(await Store.ListReferrersAsync(s_repository, subject, null));

        Assert.Null(referrer.Annotations);
    }

    [Fact]
    public async Task Upload_CreateGetTouchDelete()
    {
        var started = new DateTimeOffset(2024, 5, 6, 7, 8, 9, 123, TimeSpan.Zero);
        var session = new UploadSession("upload-1", s_repository, started, started);

        await Store.CreateUploadAsync(session);

        Assert.True(await Store.RepositoryExistsAsync(s_repository));
        Assert.Equal(session, await Store.GetUploadAsync("upload-1"));

        var touched = started.AddMinutes(3);
        await Store.TouchUploadAsync("upload-1", touched);
        Assert.Equal(session with { UpdatedAt = touched }, await Store.GetUploadAsync("upload-1"));

        Assert.True(await Store.DeleteUploadAsync("upload-1"));
        Assert.Null(await Store.GetUploadAsync("upload-1"));
        Assert.False(await Store.DeleteUploadAsync("upload-1"));
    }

    [Fact]
    public async Task Upload_MarkVerifiedRecordsDigest()
    {
        var started = new DateTimeOffset(2024, 5, 6, 7, 8, 9, 0, TimeSpan.Zero);
        var session = new UploadSession("upload-verified", s_repository, started, started);
        var digest = Digest.Compute("verified content"u8);
        await Store.CreateUploadAsync(session);

        var before = await Store.GetUploadAsync("upload-verified");
        await Store.MarkUploadVerifiedAsync("upload-verified", digest);
        var after = await Store.GetUploadAsync("upload-verified");

        Assert.NotNull(before);
        Assert.Null(before.VerifiedDigest);
        Assert.NotNull(after);
        Assert.Equal(digest, after.VerifiedDigest);
        Assert.Equal(session.UpdatedAt, after.UpdatedAt);
    }

    [Fact]
    public async Task Upload_MarkVerifiedUnknownIsIgnored()
    {
        await Store.MarkUploadVerifiedAsync("never-created", Digest.Compute("x"u8));

        Assert.Null(await Store.GetUploadAsync("never-created"));
    }

    [Fact]
    public async Task Upload_MarkVerifiedRejectsDefaultDigest()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await Store.MarkUploadVerifiedAsync("upload-1", default));
    }

    [Fact]
    public async Task Upload_UnknownIsNull()
    {
        Assert.Null(await Store.GetUploadAsync("never-created"));
        await Store.TouchUploadAsync("never-created", DateTimeOffset.UnixEpoch);
        Assert.Null(await Store.GetUploadAsync("never-created"));
    }

    [Fact]
    public async Task UploadLease_FreeLeaseAcquired()
    {
        var session = await CreateLeaseUploadAsync();

        Assert.True(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2)));
    }

    [Fact]
    public async Task UploadLease_SecondHolderRejected()
    {
        var session = await CreateLeaseUploadAsync();
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));

        var acquired = await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", s_leaseNow.AddMinutes(1), s_leaseNow.AddMinutes(3));

        Assert.False(acquired);
    }

    [Fact]
    public async Task UploadLease_ExpiredLeaseTakenOver()
    {
        var session = await CreateLeaseUploadAsync();
        var expiry = s_leaseNow.AddMinutes(2);
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, expiry);

        // A lease counts as expired from its expiry time on, so a holder that comes exactly then takes it.
        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", expiry.AddMilliseconds(-1), expiry.AddMinutes(2)));
        Assert.True(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", expiry, expiry.AddMinutes(2)));
        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", expiry.AddSeconds(1), expiry.AddMinutes(3)));
    }

    [Fact]
    public async Task UploadLease_SameHolderExtends()
    {
        var session = await CreateLeaseUploadAsync();
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));

        Assert.True(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow.AddMinutes(1), s_leaseNow.AddMinutes(3)));

        // After the first expiry but before the extended one, the lease is still held.
        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", s_leaseNow.AddMinutes(2.5), s_leaseNow.AddMinutes(5)));
        Assert.True(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", s_leaseNow.AddMinutes(3), s_leaseNow.AddMinutes(5)));
    }

    [Fact]
    public async Task UploadLease_ReleaseByOtherHolderIgnored()
    {
        var session = await CreateLeaseUploadAsync();
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));

        await Store.ReleaseUploadLeaseAsync(session.Id, "holder-b");

        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", s_leaseNow.AddMinutes(1), s_leaseNow.AddMinutes(3)));
    }

    [Fact]
    public async Task UploadLease_ReleaseFreesLease()
    {
        var session = await CreateLeaseUploadAsync();
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));

        await Store.ReleaseUploadLeaseAsync(session.Id, "holder-a");

        Assert.True(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-b", s_leaseNow.AddSeconds(1), s_leaseNow.AddMinutes(2)));
        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow.AddSeconds(2), s_leaseNow.AddMinutes(2)));
    }

    [Fact]
    public async Task UploadLease_ReleaseUnknownDoesNothing()
    {
        await Store.ReleaseUploadLeaseAsync("never-created", "holder-a");

        Assert.Null(await Store.GetUploadAsync("never-created"));
    }

    [Fact]
    public async Task UploadLease_ConcurrentAcquirersOneWins()
    {
        const int Acquirers = 24;
        var session = await CreateLeaseUploadAsync();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, Acquirers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await Store.TryAcquireUploadLeaseAsync(session.Id, $"holder-{i}", s_leaseNow, s_leaseNow.AddMinutes(2));
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.Equal(1, results.Count(acquired => acquired));
    }

    [Fact]
    public async Task UploadLease_DeletedUploadRejected()
    {
        var session = await CreateLeaseUploadAsync();
        await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));
        await Store.DeleteUploadAsync(session.Id);

        Assert.False(await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2)));
        Assert.False(await Store.TryAcquireUploadLeaseAsync("never-created", "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2)));
    }

    [Fact]
    public async Task UploadLease_InvalidArgumentsThrow()
    {
        var session = await CreateLeaseUploadAsync();

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.TryAcquireUploadLeaseAsync(session.Id, "", s_leaseNow, s_leaseNow.AddMinutes(2)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.TryAcquireUploadLeaseAsync(session.Id, "holder-a", s_leaseNow, s_leaseNow));
    }

    [Fact]
    public async Task UploadLease_KeptApartPerUpload()
    {
        var first = await CreateLeaseUploadAsync("lease-first");
        var second = await CreateLeaseUploadAsync("lease-second");
        await Store.TryAcquireUploadLeaseAsync(first.Id, "holder-a", s_leaseNow, s_leaseNow.AddMinutes(2));

        Assert.True(await Store.TryAcquireUploadLeaseAsync(second.Id, "holder-b", s_leaseNow, s_leaseNow.AddMinutes(2)));
    }

    [Fact]
    public async Task Concurrent_WritesAllSucceed()
    {
        const int Writers = 24;
        var sharedBlob = Blob("shared config");

        var tasks = Enumerable.Range(0, Writers).Select(i => Task.Run(async () =>
        {
            var repository = RepositoryName.Parse($"concurrent/repo{i % 4}");
            await Store.LinkBlobAsync(repository, sharedBlob.Digest, sharedBlob.Size);
            var layer = Blob($"layer {i}");
            await Store.LinkBlobAsync(repository, layer.Digest, layer.Size);
            var write = ManifestWriteFor(repository, Image(sharedBlob, [layer]), $"manifest {i}", [$"t{i}", "latest"]);
            var result = await Store.PutManifestAsync(write);
            Assert.True(result.Stored);
            return write;
        })).ToList();
        var writes = await Task.WhenAll(tasks);

        foreach (var write in writes)
        {
            Assert.NotNull(await Store.GetManifestAsync(write.Repository, ManifestReference.ForDigest(write.Digest)));
        }

        for (var r = 0; r < 4; r++)
        {
            var repository = RepositoryName.Parse($"concurrent/repo{r}");
            var tags = await Store.ListTagsAsync(repository, null, 100);
            Assert.Equal(Writers / 4 + 1, tags!.Count);
            var latest = await Store.GetManifestAsync(repository, ManifestReference.ForTag("latest"));
            Assert.Contains(writes, w => w.Repository == repository && w.Digest == latest!.Digest);
        }

        Assert.Equal(4, (await Store.ListRepositoriesAsync("concurrent", 100)).Count);
    }

    [Fact]
    public async Task Concurrent_SameLinkFromManyTasks()
    {
        var blob = Blob("popular");

        await Task.WhenAll(Enumerable.Range(0, 32).Select(_ => Task.Run(async () => await Store.LinkBlobAsync(s_repository, blob.Digest, blob.Size))));

        Assert.Equal(blob.Size, await Store.GetBlobLinkAsync(s_repository, blob.Digest));
        Assert.Equal([s_repository.Value], await Store.ListRepositoriesAsync(null, 10));
    }

    /// <summary>Returns the digest of a made-up blob named <paramref name="name"/>.</summary>
    protected static Digest BlobDigest(string name) => Digest.Compute(Encoding.UTF8.GetBytes(name));

    /// <summary>Returns a layer descriptor for a made-up blob named <paramref name="name"/>.</summary>
    protected static Descriptor Blob(string name) => new()
    {
        MediaType = MediaTypes.OciLayerGzip,
        Digest = BlobDigest(name),
        Size = name.Length,
    };

    private async Task<UploadSession> CreateLeaseUploadAsync(string id = "lease-upload")
    {
        var session = new UploadSession(id, s_repository, s_leaseNow, s_leaseNow);
        await Store.CreateUploadAsync(session);
        return session;
    }

    private async Task LinkAsync(RepositoryName repository, string blobName)
    {
        var blob = Blob(blobName);
        await Store.LinkBlobAsync(repository, blob.Digest, blob.Size);
    }

    private static ParsedManifest Image(Descriptor config, IReadOnlyList<Descriptor> layers) => new()
    {
        MediaType = MediaTypes.OciManifest,
        Config = config with { MediaType = MediaTypes.OciConfig },
        Layers = layers,
    };

    /// <summary>Builds a manifest write whose content is unique to <paramref name="label"/>.</summary>
    private static ManifestWrite ManifestWriteFor(RepositoryName repository, ParsedManifest manifest, string label, IReadOnlyList<string>? tags = null)
    {
        // The bytes only need to be unique and stable; no parser reads them in these tests.
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{manifest.MediaType}}","label":"{{label}}"}""");
        return new ManifestWrite
        {
            Repository = repository,
            Digest = Digest.Compute(content),
            Content = content,
            Manifest = manifest,
            Tags = tags ?? [],
        };
    }

    /// <summary>Links a config and a layer into the repository and builds an image manifest over them.</summary>
    private async Task<ManifestWrite> ImageWriteAsync(RepositoryName repository, string label, IReadOnlyList<string> tags)
    {
        var config = Blob($"{label} config");
        var layer = Blob($"{label} layer");
        await Store.LinkBlobAsync(repository, config.Digest, config.Size);
        await Store.LinkBlobAsync(repository, layer.Digest, layer.Size);
        return ManifestWriteFor(repository, Image(config, [layer]), label, tags);
    }

    private static ManifestWrite IndexWrite(RepositoryName repository, IReadOnlyList<ManifestWrite> children, IReadOnlyList<string> tags)
    {
        var index = new ParsedManifest
        {
            MediaType = MediaTypes.OciIndex,
            Manifests = children.Select(c => new Descriptor { MediaType = c.Manifest.MediaType, Digest = c.Digest, Size = c.Content.Length }).ToList(),
        };
        return ManifestWriteFor(repository, index, "index of " + string.Join(",", children.Select(c => c.Digest.Encoded[..8])), tags);
    }

    /// <summary>Links an empty config into the repository and builds an artifact manifest whose subject is <paramref name="subject"/>.</summary>
    private async Task<ManifestWrite> ReferrerWriteAsync(RepositoryName repository, Digest subject, string artifactType, string label)
    {
        var config = Blob($"{label} empty config") with { MediaType = MediaTypes.OciEmpty };
        await Store.LinkBlobAsync(repository, config.Digest, config.Size);
        var manifest = new ParsedManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = config,
            Subject = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = subject, Size = 100 },
            ArtifactType = artifactType,
            Annotations = new Dictionary<string, string>
            {
                ["org.opencontainers.image.created"] = "2024-01-02T03:04:05Z",
                ["com.example.label"] = label,
            },
        };
        return ManifestWriteFor(repository, manifest, label);
    }
}

using System.Text;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IGarbageCollectionStore"/> driver must have: marking and the conditional manifest
/// and link deletes here, blob deletion marks in the Blobs part, and upload sessions, run records and a concurrency
/// check in the Runs part. A driver's test class derives from it and supplies a fresh, migrated database per test,
/// seen through every interface.
/// </summary>
public abstract partial class GarbageCollectionStoreContractTests : IAsyncLifetime
{
    /// <summary>The time every test starts at; the stores stamp rows with <see cref="Time"/>.</summary>
    protected static readonly DateTimeOffset Start = new(2025, 3, 4, 5, 6, 7, TimeSpan.Zero);

    private static readonly RepositoryName s_repository = RepositoryName.Parse("library/app");
    private static readonly RepositoryName s_otherRepository = RepositoryName.Parse("library/other");

    private GarbageCollectionStores? _stores;

    /// <summary>The clock the stores read.</summary>
    protected FakeTimeProvider Time { get; } = new(Start);

    /// <summary>The garbage collection store under test.</summary>
    protected IGarbageCollectionStore Gc => Stores.GarbageCollection;

    /// <summary>The metadata store over the same database.</summary>
    protected IMetadataStore Metadata => Stores.Metadata;

    /// <summary>The scan store over the same database, for scan results and layer analyses.</summary>
    protected IScanStore Scans => Stores.Scans;

    private GarbageCollectionStores Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>
    /// Creates an empty database for one test, read through <paramref name="timeProvider"/>. The suite calls
    /// <see cref="IMetadataStore.MigrateAsync"/> before the test runs.
    /// </summary>
    protected abstract Task<GarbageCollectionStores> CreateStoresAsync(TimeProvider timeProvider);

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync(Time);
        await Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    // ----- Marking -----

    [Fact]
    public async Task ListAllRepositories_IncludesUploadOnly()
    {
        await LinkAsync(s_repository, "a");
        await Metadata.CreateUploadAsync(new UploadSession("upload-1", RepositoryName.Parse("library/uploads"), Start, Start));

        Assert.Equal([s_repository, RepositoryName.Parse("library/uploads")], await Gc.ListAllRepositoriesAsync(null, 10));
        Assert.Equal([s_repository], await Gc.ListAllRepositoriesAsync(null, 1));
        Assert.Equal([RepositoryName.Parse("library/uploads")], await Gc.ListAllRepositoriesAsync(s_repository.Value, 10));
        Assert.Empty(await Gc.ListAllRepositoriesAsync("library/uploads", 10));
    }

    [Fact]
    public async Task Contents_UnknownRepositoryIsNull()
    {
        Assert.Null(await Gc.GetRepositoryContentsAsync(s_repository));
    }

    [Fact]
    public async Task Contents_ListsManifestsWithReferences()
    {
        var image = await PushImageAsync(s_repository, "image", ["latest"]);
        Time.Advance(TimeSpan.FromMinutes(1));
        var other = await PushImageAsync(s_repository, "other", []);
        var index = await PushIndexAsync(s_repository, [image, other], []);
        var referrer = await PushReferrerAsync(s_repository, image.Digest, "signature");

        var contents = await Gc.GetRepositoryContentsAsync(s_repository);

        Assert.NotNull(contents);
        Assert.Equal(s_repository, contents.Repository);
        var nodes = contents.Manifests.ToDictionary(node => node.Digest);
        Assert.Equal(4, nodes.Count);

        var imageNode = nodes[image.Digest];
        Assert.True(imageNode.Tagged);
        Assert.Equal(image.Content.Length, imageNode.Size);
        Assert.Equal(Start, imageNode.CreatedAt);
        Assert.Null(imageNode.Subject);
        Assert.Empty(imageNode.Children);
        Assert.Equal(Sorted(image.Manifest.Blobs.Select(blob => blob.Digest)), Sorted(imageNode.Blobs));

        var otherNode = nodes[other.Digest];
        Assert.False(otherNode.Tagged);
        Assert.Equal(Start.AddMinutes(1), otherNode.CreatedAt);

        var indexNode = nodes[index.Digest];
        Assert.False(indexNode.Tagged);
        Assert.Equal(Sorted([image.Digest, other.Digest]), Sorted(indexNode.Children));
        Assert.Empty(indexNode.Blobs);

        var referrerNode = nodes[referrer.Digest];
        Assert.Equal(image.Digest, referrerNode.Subject);
        Assert.Equal(Sorted(referrer.Manifest.Blobs.Select(blob => blob.Digest)), Sorted(referrerNode.Blobs));
    }

    [Fact]
    public async Task Contents_ListsLinksWithLastUse()
    {
        var early = await LinkAsync(s_repository, "early");
        Time.Advance(TimeSpan.FromMinutes(5));
        var used = await LinkAsync(s_repository, "used");
        Time.Advance(TimeSpan.FromMinutes(5));
        await LinkAsync(s_otherRepository, "used");
        var usedAt = Start.AddMinutes(20);
        Assert.True(await Gc.TryUseBlobAsync(early.Digest, usedAt));

        var contents = await Gc.GetRepositoryContentsAsync(s_repository);

        Assert.NotNull(contents);
        Assert.Empty(contents.Manifests);
        var links = contents.BlobLinks.ToDictionary(link => link.Digest);
        Assert.Equal(2, links.Count);
        Assert.Equal(new BlobLinkEntry(early.Digest, early.Size, Start, usedAt), links[early.Digest]);

        // Linking into another repository is a use of the blob everywhere.
        Assert.Equal(new BlobLinkEntry(used.Digest, used.Size, Start.AddMinutes(5), Start.AddMinutes(10)), links[used.Digest]);
    }

    // ----- Deleting manifests -----

    [Fact]
    public async Task DeleteManifests_RemovesUntaggedOld()
    {
        var image = await PushImageAsync(s_repository, "image", []);
        Time.Advance(TimeSpan.FromHours(1));

        var deleted = await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Time.GetUtcNow());

        Assert.Equal([image.Digest], deleted);
        Assert.Null(await Metadata.GetManifestAsync(s_repository, ManifestReference.ForDigest(image.Digest)));
        var contents = await Gc.GetRepositoryContentsAsync(s_repository);
        Assert.NotNull(contents);
        Assert.Empty(contents.Manifests);
        Assert.Equal(2, contents.BlobLinks.Count);
    }

    [Fact]
    public async Task DeleteManifests_SkipsTagged()
    {
        var image = await PushImageAsync(s_repository, "image", ["v1"]);
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Time.GetUtcNow()));
        Assert.NotNull(await Metadata.GetManifestAsync(s_repository, ManifestReference.ForDigest(image.Digest)));

        Assert.True(await Metadata.DeleteTagAsync(s_repository, "v1"));
        Assert.Equal([image.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Time.GetUtcNow()));
    }

    [Fact]
    public async Task DeleteManifests_SkipsCreatedAtCutoff()
    {
        var image = await PushImageAsync(s_repository, "image", []);

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Start));
        Assert.Equal([image.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Start.AddMilliseconds(1)));
    }

    [Fact]
    public async Task DeleteManifests_SkipsMissing()
    {
        var image = await PushImageAsync(s_repository, "image", []);
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [BlobDigest("no such manifest")], Time.GetUtcNow()));
        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(RepositoryName.Parse("library/none"), [image.Digest], Time.GetUtcNow()));
        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [], Time.GetUtcNow()));
    }

    [Fact]
    public async Task DeleteManifests_SkipsChildOfIndex()
    {
        var child = await PushImageAsync(s_repository, "child", []);
        var index = await PushIndexAsync(s_repository, [child], []);
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow();

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [child.Digest], cutoff));

        // The child comes first, while the index still lists it, so only the index goes.
        Assert.Equal([index.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [child.Digest, index.Digest], cutoff));
        Assert.Equal([child.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [child.Digest], cutoff));
    }

    [Fact]
    public async Task DeleteManifests_IndexFirstFreesChildren()
    {
        var first = await PushImageAsync(s_repository, "first", []);
        var second = await PushImageAsync(s_repository, "second", []);
        var index = await PushIndexAsync(s_repository, [first, second], []);
        Time.Advance(TimeSpan.FromHours(1));

        var deleted = await Gc.DeleteUnreferencedManifestsAsync(s_repository, [index.Digest, first.Digest, second.Digest], Time.GetUtcNow());

        Assert.Equal([index.Digest, first.Digest, second.Digest], deleted);
        var contents = await Gc.GetRepositoryContentsAsync(s_repository);
        Assert.NotNull(contents);
        Assert.Empty(contents.Manifests);
    }

    [Fact]
    public async Task DeleteManifests_IndexInOtherRepositoryIgnored()
    {
        var image = await PushImageAsync(s_repository, "shared", []);
        var otherCopy = await PushImageAsync(s_otherRepository, "shared", []);
        await PushIndexAsync(s_otherRepository, [otherCopy], ["latest"]);
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal([image.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Time.GetUtcNow()));
        Assert.NotNull(await Metadata.GetManifestAsync(s_otherRepository, ManifestReference.ForDigest(image.Digest)));
    }

    [Fact]
    public async Task DeleteManifests_SkipsReferrerOfPresentSubject()
    {
        var subject = await PushImageAsync(s_repository, "subject", []);
        var referrer = await PushReferrerAsync(s_repository, subject.Digest, "signature");
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow();

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [referrer.Digest], cutoff));

        // The subject comes first, so its referrer is free by the time it is handled.
        Assert.Equal([subject.Digest, referrer.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [subject.Digest, referrer.Digest], cutoff));
        Assert.Empty(await Metadata.ListReferrersAsync(s_repository, subject.Digest, null));
    }

    [Fact]
    public async Task DeleteManifests_RemovesReferrerOfAbsentSubject()
    {
        var referrer = await PushReferrerAsync(s_repository, BlobDigest("subject never pushed"), "signature");
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Equal([referrer.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [referrer.Digest], Time.GetUtcNow()));
    }

    [Fact]
    public async Task DeleteManifests_ScanRemovedWithLastCopy()
    {
        var image = await PushImageAsync(s_repository, "shared", []);
        await PushImageAsync(s_otherRepository, "shared", []);
        await Scans.PutImageScanAsync(new ImageScan(image.Digest, ScanStatus.Completed, Start, Start, 1, ScanSummary.Empty, "{}", "{}"));
        Assert.True(await Scans.EnqueueScanAsync(new ScanJobRequest(s_repository, image.Digest, ScanReason.Push, Start)));
        Assert.NotNull(await Scans.TryClaimScanJobAsync("worker", Start, Start.AddHours(2)));
        Assert.True(await Scans.EnqueueScanAsync(new ScanJobRequest(s_repository, image.Digest, ScanReason.Request, Start)));
        Assert.Equal(2, await Scans.CountScanJobsAsync());
        Time.Advance(TimeSpan.FromHours(1));
        var cutoff = Time.GetUtcNow();

        Assert.Equal([image.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], cutoff));
        Assert.NotNull(await Scans.GetImageScanAsync(image.Digest));
        Assert.Equal(2, await Scans.CountScanJobsAsync());

        Assert.Equal([image.Digest], await Gc.DeleteUnreferencedManifestsAsync(s_otherRepository, [image.Digest], cutoff));
        Assert.Null(await Scans.GetImageScanAsync(image.Digest));

        // The claimed job belongs to a worker that is scanning now; it completes or fails on its own.
        Assert.Equal(1, await Scans.CountScanJobsAsync());
    }

    [Fact]
    public async Task DeleteManifests_ScanKeptWhenSkipped()
    {
        var image = await PushImageAsync(s_repository, "image", ["latest"]);
        await Scans.PutImageScanAsync(new ImageScan(image.Digest, ScanStatus.Completed, Start, Start, 1, ScanSummary.Empty, "{}", "{}"));
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty(await Gc.DeleteUnreferencedManifestsAsync(s_repository, [image.Digest], Time.GetUtcNow()));
        Assert.NotNull(await Scans.GetImageScanAsync(image.Digest));
    }

    // ----- Deleting blob links -----

    [Fact]
    public async Task DeleteLinks_RemovesUnusedOld()
    {
        var blob = await LinkAsync(s_repository, "unused");
        var kept = await LinkAsync(s_repository, "not requested");
        Time.Advance(TimeSpan.FromHours(1));

        var deleted = await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], Time.GetUtcNow());

        Assert.Equal([new BlobLinkEntry(blob.Digest, blob.Size, Start)], deleted);
        Assert.Null(await Metadata.GetBlobLinkAsync(s_repository, blob.Digest));
        Assert.Equal(kept.Size, await Metadata.GetBlobLinkAsync(s_repository, kept.Digest));
    }

    [Fact]
    public async Task DeleteLinks_SkipsMissing()
    {
        var blob = await LinkAsync(s_repository, "linked");
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_otherRepository, [blob.Digest], Time.GetUtcNow()));
        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [BlobDigest("never linked")], Time.GetUtcNow()));
        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [], Time.GetUtcNow()));
    }

    [Fact]
    public async Task DeleteLinks_SkipsReferencedByManifest()
    {
        var image = await PushImageAsync(s_repository, "image", []);
        var config = image.Manifest.Config!;
        Time.Advance(TimeSpan.FromHours(1));

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [config.Digest], Time.GetUtcNow()));
        Assert.Equal(config.Size, await Metadata.GetBlobLinkAsync(s_repository, config.Digest));
    }

    [Fact]
    public async Task DeleteLinks_ReferenceInOtherRepositoryIgnored()
    {
        var image = await PushImageAsync(s_otherRepository, "image", ["latest"]);
        var layer = image.Manifest.Layers[0];
        await Metadata.LinkBlobAsync(s_repository, layer.Digest, layer.Size);
        Time.Advance(TimeSpan.FromHours(1));

        var deleted = await Gc.DeleteUnusedBlobLinksAsync(s_repository, [layer.Digest], Time.GetUtcNow());

        Assert.Equal([layer.Digest], deleted.Select(link => link.Digest));
        Assert.Equal(layer.Size, await Metadata.GetBlobLinkAsync(s_otherRepository, layer.Digest));
    }

    [Fact]
    public async Task DeleteLinks_SkipsLinkedAtCutoff()
    {
        var blob = await LinkAsync(s_repository, "fresh");

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], Start));
        Assert.Single(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], Start.AddMilliseconds(1)));
    }

    [Fact]
    public async Task DeleteLinks_SkipsUsedAfterCutoff()
    {
        var blob = await LinkAsync(s_repository, "used");
        Time.Advance(TimeSpan.FromHours(1));
        var usedAt = Time.GetUtcNow();
        Assert.True(await Gc.TryUseBlobAsync(blob.Digest, usedAt));

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], usedAt));
        Assert.Single(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], usedAt.AddMilliseconds(1)));
    }

    [Fact]
    public async Task DeleteLinks_SkipsLinkedElsewhereAfterCutoff()
    {
        var blob = await LinkAsync(s_repository, "mounted");
        Time.Advance(TimeSpan.FromHours(1));
        await Metadata.LinkBlobAsync(s_otherRepository, blob.Digest, blob.Size);
        var cutoff = Start.AddMinutes(30);

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], cutoff));
        Assert.Equal(blob.Size, await Metadata.GetBlobLinkAsync(s_repository, blob.Digest));
    }

    [Fact]
    public async Task DeleteLinks_RelinkCountsAsUse()
    {
        var blob = await LinkAsync(s_repository, "relinked");
        Time.Advance(TimeSpan.FromHours(1));
        await Metadata.LinkBlobAsync(s_repository, blob.Digest, blob.Size);

        Assert.Empty(await Gc.DeleteUnusedBlobLinksAsync(s_repository, [blob.Digest], Start.AddMinutes(30)));
    }

    // ----- Helpers -----

    /// <summary>Returns the digest of a made-up blob named <paramref name="name"/>.</summary>
    protected static Digest BlobDigest(string name) => Digest.Compute(Encoding.UTF8.GetBytes(name));

    /// <summary>Returns a layer descriptor for a made-up blob named <paramref name="name"/>.</summary>
    protected static Descriptor Blob(string name) => new()
    {
        MediaType = MediaTypes.OciLayerGzip,
        Digest = BlobDigest(name),
        Size = name.Length,
    };

    /// <summary>Links a made-up blob named <paramref name="name"/> into the repository at the current time.</summary>
    protected async Task<Descriptor> LinkAsync(RepositoryName repository, string name)
    {
        var blob = Blob(name);
        await Metadata.LinkBlobAsync(repository, blob.Digest, blob.Size);
        return blob;
    }

    /// <summary>Links a config and a layer unique to <paramref name="label"/> and stores an image manifest over them.</summary>
    protected async Task<ManifestWrite> PushImageAsync(RepositoryName repository, string label, IReadOnlyList<string> tags)
    {
        var config = await LinkAsync(repository, $"{label} config") with { MediaType = MediaTypes.OciConfig };
        var layer = await LinkAsync(repository, $"{label} layer");
        var manifest = new ParsedManifest { MediaType = MediaTypes.OciManifest, Config = config, Layers = [layer] };
        var write = ManifestWriteFor(repository, manifest, label, tags);
        await PutAsync(write);
        return write;
    }

    /// <summary>Stores an index manifest that lists <paramref name="children"/>.</summary>
    protected async Task<ManifestWrite> PushIndexAsync(RepositoryName repository, IReadOnlyList<ManifestWrite> children, IReadOnlyList<string> tags)
    {
        var index = new ParsedManifest
        {
            MediaType = MediaTypes.OciIndex,
            Manifests = children.Select(c => new Descriptor { MediaType = c.Manifest.MediaType, Digest = c.Digest, Size = c.Content.Length }).ToList(),
        };
        var write = ManifestWriteFor(repository, index, "index of " + string.Join(",", children.Select(c => c.Digest.Encoded[..8])), tags);
        await PutAsync(write);
        return write;
    }

    /// <summary>Links an empty config and stores an artifact manifest whose subject is <paramref name="subject"/>.</summary>
    protected async Task<ManifestWrite> PushReferrerAsync(RepositoryName repository, Digest subject, string label)
    {
        var config = await LinkAsync(repository, $"{label} empty config") with { MediaType = MediaTypes.OciEmpty };
        var manifest = new ParsedManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = config,
            Subject = new Descriptor { MediaType = MediaTypes.OciManifest, Digest = subject, Size = 100 },
            ArtifactType = "application/example." + label,
        };
        var write = ManifestWriteFor(repository, manifest, label, []);
        await PutAsync(write);
        return write;
    }

    /// <summary>Builds a manifest write whose content is unique to <paramref name="label"/> and the media type.</summary>
    protected static ManifestWrite ManifestWriteFor(RepositoryName repository, ParsedManifest manifest, string label, IReadOnlyList<string> tags)
    {
        // The bytes only need to be unique and stable; no parser reads them in these tests.
        var content = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"{{manifest.MediaType}}","label":"{{label}}"}""");
        return new ManifestWrite
        {
            Repository = repository,
            Digest = Digest.Compute(content),
            Content = content,
            Manifest = manifest,
            Tags = tags,
        };
    }

    private static List<string> Sorted(IEnumerable<Digest> digests) =>
        digests.Select(digest => digest.Value).Order(StringComparer.Ordinal).ToList();

    private async Task PutAsync(ManifestWrite write)
    {
        var result = await Metadata.PutManifestAsync(write);
        Assert.True(result.Stored, $"Storing manifest {write.Digest} in {write.Repository} failed: {result.MissingBlobs.Count} blobs and {result.MissingManifests.Count} manifests missing.");
    }
}

/// <summary>The stores of one test database, each interface of the same driver.</summary>
public sealed record GarbageCollectionStores(IGarbageCollectionStore GarbageCollection, IMetadataStore Metadata, IScanStore Scans);

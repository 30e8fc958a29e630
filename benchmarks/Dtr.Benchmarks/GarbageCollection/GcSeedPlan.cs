using System.Globalization;
using System.Text;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Names;

namespace Dtr.Benchmarks.GarbageCollection;

/// <summary>The size of the registry that <see cref="GcSeedPlan"/> lays out.</summary>
/// <param name="Repositories">Repositories, each with the same number of manifests.</param>
/// <param name="ManifestsPerRepository">Image manifests pushed to each repository, one per version.</param>
/// <param name="Blobs">Blobs written to the blob store in all, referenced or not; at least the referenced ones.</param>
/// <param name="UntaggedPercent">Share of each repository's manifests, its oldest versions, that no tag points to.</param>
/// <param name="StaleUploadsPerRepository">Upload sessions per repository that stopped receiving data two days ago.</param>
internal sealed record GcSeedShape(int Repositories, int ManifestsPerRepository, int Blobs, int UntaggedPercent, int StaleUploadsPerRepository)
{
    /// <summary>10,000 manifests in 100 repositories over 100,000 blobs, 30 % of the manifests untagged.</summary>
    public static GcSeedShape Default { get; } = new(100, 100, 100_000, 30, 1);
}

/// <summary>One image manifest of the plan.</summary>
/// <param name="Repository">Index of the repository.</param>
/// <param name="Version">The image version in its repository, from 0 (oldest).</param>
/// <param name="Blobs">Blob indices: the config first, then the layers.</param>
/// <param name="Fate">Whether a tag points to it at the end of seeding.</param>
internal sealed record PlannedManifest(int Repository, int Version, int[] Blobs, ManifestFate Fate);

/// <summary>How a planned manifest is pushed.</summary>
internal enum ManifestFate
{
    /// <summary>Pushed with the tag <c>v{version}</c>, which stays.</summary>
    Tagged,

    /// <summary>Pushed by digest, without a tag.</summary>
    PushedUntagged,

    /// <summary>Pushed with a tag, which is then deleted.</summary>
    TagDeleted,
}

/// <summary>What one garbage collection run that removes untagged manifests must remove from a seeded registry.</summary>
/// <param name="Manifests">Manifests removed.</param>
/// <param name="BlobLinks">Repository blob links removed.</param>
/// <param name="Blobs">Blobs removed from the blob store.</param>
/// <param name="BytesFreed">Sum of the removed blobs' sizes.</param>
/// <param name="Uploads">Upload sessions removed.</param>
/// <param name="BlobsLeft">Blobs still in the blob store after the run.</param>
internal sealed record GcExpectation(long Manifests, long BlobLinks, long Blobs, long BytesFreed, long Uploads, long BlobsLeft);

/// <summary>
/// A deterministic registry to collect: repositories of versioned images with shared layers, old versions that no tag
/// reaches, blobs that no manifest references, and stale uploads, with the counts that a run must remove.
/// </summary>
/// <remarks>
/// Every image manifest has a config of its own and 10 layers. The first 2 are base layers, shared by every
/// repository on the same base image (one of 10, chosen by repository index). The next 2 are dependency layers,
/// shared by each pair of consecutive versions in a repository, and the last 6 belong to the manifest alone. The oldest <see cref="GcSeedShape.UntaggedPercent"/>
/// percent of each repository's versions end up without a tag: the even ones are pushed by digest, the odd ones are
/// tagged and the tag is deleted. No manifest references the blobs left over. The
/// first half of them are linked into a repository, like an upload that was never followed by its manifest. The rest
/// are in the blob store only. Blobs are 256 to 1,024 bytes of text, so seeding costs requests and not bandwidth.
/// </remarks>
internal sealed class GcSeedPlan
{
    /// <summary>Layers of each image manifest, beside its config.</summary>
    public const int LayersPerManifest = 10;

    private const int BaseImages = 10;
    private const int BaseLayers = 2;
    private const int DependencyLayers = 2;
    private const int OwnLayers = LayersPerManifest - BaseLayers - DependencyLayers;
    private const int MinBlobBytes = 256;
    private const int BlobSizeSpread = 769;

    private readonly Digest[] _digests;

    public GcSeedPlan(GcSeedShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.Repositories, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(shape.ManifestsPerRepository, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(shape.UntaggedPercent);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(shape.UntaggedPercent, 100);
        ArgumentOutOfRangeException.ThrowIfNegative(shape.StaleUploadsPerRepository);
        Shape = shape;

        var next = 0;
        var baseImages = Math.Min(BaseImages, shape.Repositories);
        next += baseImages * BaseLayers;

        var manifests = new List<PlannedManifest>(shape.Repositories * shape.ManifestsPerRepository);
        var untaggedVersions = (int)Math.Round(shape.ManifestsPerRepository * shape.UntaggedPercent / 100.0, MidpointRounding.AwayFromZero);
        for (var repository = 0; repository < shape.Repositories; repository++)
        {
            var baseImage = repository % BaseImages;
            var dependencies = Array.Empty<int>();
            for (var version = 0; version < shape.ManifestsPerRepository; version++)
            {
                if (version % 2 == 0)
                {
                    dependencies = Enumerable.Range(next, DependencyLayers).ToArray();
                    next += DependencyLayers;
                }

                var blobs = new int[1 + LayersPerManifest];
                blobs[0] = next++;
                for (var layer = 0; layer < BaseLayers; layer++)
                {
                    blobs[1 + layer] = baseImage * BaseLayers + layer;
                }

                dependencies.CopyTo(blobs, 1 + BaseLayers);
                for (var layer = 0; layer < OwnLayers; layer++)
                {
                    blobs[1 + BaseLayers + DependencyLayers + layer] = next++;
                }

                var fate = version >= untaggedVersions ? ManifestFate.Tagged
                    : version % 2 == 0 ? ManifestFate.PushedUntagged
                    : ManifestFate.TagDeleted;
                manifests.Add(new PlannedManifest(repository, version, blobs, fate));
            }
        }

        ReferencedBlobs = next;
        if (shape.Blobs < ReferencedBlobs)
        {
            throw new ArgumentException(
                $"The shape needs at least {ReferencedBlobs} blobs for its manifests, but sets {shape.Blobs}. Raise the blob count or lower the manifest count.",
                nameof(shape));
        }

        var unreferenced = shape.Blobs - ReferencedBlobs;
        var linkedOnly = unreferenced / 2;
        ExtraLinks = Enumerable.Range(0, linkedOnly).Select(i => (Repository: i % shape.Repositories, Blob: ReferencedBlobs + i)).ToArray();
        Manifests = manifests;
        _digests = new Digest[shape.Blobs];
        for (var blob = 0; blob < shape.Blobs; blob++)
        {
            _digests[blob] = Digest.Compute(BlobContent(blob));
        }

        Expected = ComputeExpectation();
    }

    /// <summary>The shape the plan was made from.</summary>
    public GcSeedShape Shape { get; }

    /// <summary>Every image manifest, repository by repository, oldest version first.</summary>
    public IReadOnlyList<PlannedManifest> Manifests { get; }

    /// <summary>Blobs with indices below this number are referenced by at least one manifest.</summary>
    public int ReferencedBlobs { get; }

    /// <summary>Links of blobs that no manifest references, each into one repository.</summary>
    public IReadOnlyList<(int Repository, int Blob)> ExtraLinks { get; }

    /// <summary>What a run that removes untagged manifests must remove.</summary>
    public GcExpectation Expected { get; }

    /// <summary>Returns the name of repository <paramref name="index"/>.</summary>
    public static RepositoryName RepositoryName(int index) =>
        Names.RepositoryName.Parse(string.Create(CultureInfo.InvariantCulture, $"bench/app-{index:D4}"));

    /// <summary>Returns the tag that version <paramref name="version"/> is pushed with.</summary>
    public static string Tag(int version) => string.Create(CultureInfo.InvariantCulture, $"v{version}");

    /// <summary>Returns the length of blob <paramref name="index"/> in bytes, 256 to 1,024.</summary>
    public static int BlobSize(int index) => MinBlobBytes + (int)((uint)index * 7919u % BlobSizeSpread);

    /// <summary>Returns the bytes of blob <paramref name="index"/>: a numbered line repeated up to its size.</summary>
    public static byte[] BlobContent(int index)
    {
        var line = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"dtr garbage collection benchmark blob {index}\n"));
        var content = new byte[BlobSize(index)];
        for (var offset = 0; offset < content.Length; offset += line.Length)
        {
            line.AsSpan(0, Math.Min(line.Length, content.Length - offset)).CopyTo(content.AsSpan(offset));
        }

        return content;
    }

    /// <summary>Returns the sha256 digest of blob <paramref name="index"/>.</summary>
    public Digest BlobDigest(int index) => _digests[index];

    /// <summary>Returns the OCI image manifest of <paramref name="manifest"/> as bytes and parsed.</summary>
    public (byte[] Content, ParsedManifest Parsed) ManifestContent(PlannedManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}",""");
        json.Append(CultureInfo.InvariantCulture, $$"""
            "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{BlobDigest(manifest.Blobs[0])}}","size":{{BlobSize(manifest.Blobs[0])}}},"layers":[
            """);
        for (var i = 1; i < manifest.Blobs.Length; i++)
        {
            var blob = manifest.Blobs[i];
            json.Append(i > 1 ? "," : "");
            json.Append(CultureInfo.InvariantCulture, $$"""
                {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{{BlobDigest(blob)}}","size":{{BlobSize(blob)}}}
                """);
        }

        json.Append("]}");
        var content = Encoding.UTF8.GetBytes(json.ToString());
        return (content, ManifestParser.Parse(content, MediaTypes.OciManifest));
    }

    /// <summary>
    /// Computes what a run must remove, with the collector's rules in their simplest form. Manifests without a tag go.
    /// A repository keeps the links of blobs that its remaining manifests reference, and the blob store keeps the blobs
    /// that some repository still links.
    /// </summary>
    private GcExpectation ComputeExpectation()
    {
        var links = new HashSet<(int Repository, int Blob)>();
        var linksKept = new HashSet<(int Repository, int Blob)>();
        foreach (var manifest in Manifests)
        {
            foreach (var blob in manifest.Blobs)
            {
                links.Add((manifest.Repository, blob));
                if (manifest.Fate == ManifestFate.Tagged)
                {
                    linksKept.Add((manifest.Repository, blob));
                }
            }
        }

        links.UnionWith(ExtraLinks);
        var blobsKept = linksKept.Select(link => link.Blob).ToHashSet();
        long bytesFreed = 0;
        for (var blob = 0; blob < Shape.Blobs; blob++)
        {
            if (!blobsKept.Contains(blob))
            {
                bytesFreed += BlobSize(blob);
            }
        }

        return new GcExpectation(
            Manifests: Manifests.Count(manifest => manifest.Fate != ManifestFate.Tagged),
            BlobLinks: links.Count - linksKept.Count,
            Blobs: Shape.Blobs - blobsKept.Count,
            BytesFreed: bytesFreed,
            Uploads: (long)Shape.Repositories * Shape.StaleUploadsPerRepository,
            BlobsLeft: blobsKept.Count);
    }
}

using System.Text.Json;
using Dtr.AspNetCore.Scanning;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Storage;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Builds the tag listing of the management API: each tag's digest, media type, size, platforms, push time and scan
/// summary.
/// </summary>
internal sealed class TagDetailsReader
{
    // Image configs are a few KiB; a larger blob behind a config descriptor is not read for its platform.
    internal const long MaxConfigBytes = 1024 * 1024;

    private readonly IMetadataStore _metadata;
    private readonly IBlobStore _blobs;
    private readonly IScanStore _scans;

    public TagDetailsReader(IMetadataStore metadata, IBlobStore blobs, IScanStore scans)
    {
        _metadata = metadata;
        _blobs = blobs;
        _scans = scans;
    }

    /// <summary>
    /// Lists up to <paramref name="limit"/> tags after <paramref name="last"/>, in the order of the <c>/v2</c> tag
    /// listing; a repository without content has none.
    /// </summary>
    public async Task<IReadOnlyList<TagResponse>> ReadAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken)
    {
        var details = await _metadata.ListTagDetailsAsync(repository, last, limit, cancellationToken);
        if (details is null)
        {
            return [];
        }

        // Tags often share a manifest or a config, so each is read once per listing.
        var platformsByConfig = new Dictionary<Digest, string?>();
        var described = new List<(TagDetails Tag, long Size, IReadOnlyList<string> Platforms, IReadOnlyList<Digest> Images)>(details.Count);
        foreach (var tag in details)
        {
            var (size, platforms, images) = await DescribeAsync(tag.Manifest, platformsByConfig, cancellationToken);
            described.Add((tag, size, platforms, images));
        }

        // One query for the scan summaries of every image on the page.
        var digests = described.SelectMany(entry => entry.Images).Distinct().ToList();
        var summaries = digests.Count == 0
            ? new Dictionary<Digest, ImageScanSummary>()
            : await _scans.GetImageScanSummariesAsync(digests, cancellationToken);

        var queued = await FindQueuedAsync(described.SelectMany(entry => entry.Images.Append(entry.Tag.Manifest.Digest)), cancellationToken);

        var tags = new List<TagResponse>(details.Count);
        foreach (var (tag, size, platforms, images) in described)
        {
            var manifest = tag.Manifest;
            var scan = SummarizeScans(images, summaries);

            // A scan on push is queued after the manifest is stored, before any result exists. The scan endpoint
            // reports such a manifest as queued, and so does the listing, so clients know to read it again.
            if (queued.Contains(manifest.Digest) || images.Any(queued.Contains))
            {
                scan = new TagScanResponse(ScanReports.Queued, scan?.Summary);
            }

            tags.Add(new TagResponse(tag.Name, manifest.Digest.Value, manifest.MediaType, size, platforms, tag.PushedAt, scan));
        }

        return tags;
    }

    /// <summary>Returns the manifests among <paramref name="digests"/> that have a queued or running scan job.</summary>
    private async Task<HashSet<Digest>> FindQueuedAsync(IEnumerable<Digest> digests, CancellationToken cancellationToken)
    {
        var queued = new HashSet<Digest>();

        // The queue is empty most of the time, and then one count replaces a lookup per manifest.
        if (await _scans.CountScanJobsAsync(cancellationToken) == 0)
        {
            return queued;
        }

        foreach (var digest in digests.Distinct())
        {
            if (await _scans.FindScanJobAsync(digest, cancellationToken) is not null)
            {
                queued.Add(digest);
            }
        }

        return queued;
    }

    /// <summary>
    /// Returns the scan of a tag's images: the worst status and the per-severity maximum, or null when none of them
    /// was scanned.
    /// </summary>
    private static TagScanResponse? SummarizeScans(IReadOnlyList<Digest> images, IReadOnlyDictionary<Digest, ImageScanSummary> summaries)
    {
        string? status = null;
        ScanSummary? summary = null;
        foreach (var image in images)
        {
            summaries.TryGetValue(image, out var scan);
            var imageStatus = ScanReports.StatusOf(scan);
            status = status is null ? imageStatus : ScanReports.Worst(status, imageStatus);
            if (scan is not null && scan.Status != ScanStatus.Failed)
            {
                summary = ScanReports.Max(summary, scan.Summary);
            }
        }

        if (status is null || images.All(image => !summaries.ContainsKey(image)))
        {
            return null;
        }

        return new TagScanResponse(status, summary is null ? null : ScanSummaryResponse.From(summary));
    }

    /// <summary>Returns the size and platforms of a tag's manifest, and the image manifests whose scans describe it.</summary>
    private async Task<(long Size, IReadOnlyList<string> Platforms, IReadOnlyList<Digest> Images)> DescribeAsync(
        StoredManifest manifest,
        Dictionary<Digest, string?> platformsByConfig,
        CancellationToken cancellationToken)
    {
        ParsedManifest parsed;
        try
        {
            parsed = ManifestParser.Parse(manifest.Content.Span, manifest.MediaType);
        }
        catch (RegistryException)
        {
            // Stored manifests were parsed when pushed, so this only happens if the parser became stricter since.
            return (manifest.Content.Length, [], []);
        }

        if (MediaTypes.IsIndex(parsed.MediaType))
        {
            var indexSize = manifest.Content.Length + parsed.Manifests.Sum(child => child.Size);
            var childPlatforms = parsed.Manifests
                .Select(child => child.Platform)
                .Where(platform => platform is not null && !IsAttestationPlatform(platform))
                .Select(platform => FormatPlatform(platform!.Os, platform.Architecture, platform.Variant))
                .Distinct(StringComparer.Ordinal)
                .ToList();
            var childImages = parsed.Manifests
                .Where(child => MediaTypes.IsImageManifest(child.MediaType) && (child.Platform is null || !IsAttestationPlatform(child.Platform)))
                .Select(child => child.Digest)
                .ToList();
            return (indexSize, childPlatforms, childImages);
        }

        var imageSize = manifest.Content.Length + parsed.Blobs.Sum(blob => blob.Size);
        if (parsed.Config is not { } config || config.MediaType is not (MediaTypes.OciConfig or MediaTypes.DockerConfig))
        {
            return (imageSize, [], []);
        }

        if (!platformsByConfig.TryGetValue(config.Digest, out var platform))
        {
            platform = await ReadConfigPlatformAsync(config, cancellationToken);
            platformsByConfig[config.Digest] = platform;
        }

        return (imageSize, platform is null ? [] : [platform], [manifest.Digest]);
    }

    /// <summary>Reads os, architecture and variant from an image config, or returns null when they are absent or unreadable.</summary>
    private async Task<string?> ReadConfigPlatformAsync(Descriptor config, CancellationToken cancellationToken)
    {
        if (config.Size > MaxConfigBytes)
        {
            return null;
        }

        await using var stream = await _blobs.OpenReadAsync(config.Digest, 0, cancellationToken);
        if (stream is null)
        {
            return null;
        }

        try
        {
            using var document = await JsonDocument.ParseAsync(stream, default, cancellationToken);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            var os = ReadString(root, "os");
            var architecture = ReadString(root, "architecture");
            return os is null || architecture is null ? null : FormatPlatform(os, architecture, ReadString(root, "variant"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string? ReadString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    // BuildKit lists provenance and SBOM attestation manifests in an index with the platform unknown/unknown.
    private static bool IsAttestationPlatform(Platform platform) => platform.Os == "unknown" && platform.Architecture == "unknown";

    private static string FormatPlatform(string os, string architecture, string? variant) =>
        string.IsNullOrEmpty(variant) ? $"{os}/{architecture}" : $"{os}/{architecture}/{variant}";
}

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Scanning.Service;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// Builds the scan documents of the management API from stored results: an image's stored document as it is, with
/// the status of a queued rescan and an optional severity filter, and an index's aggregate of its images.
/// </summary>
internal sealed class ScanReports
{
    /// <summary>The API status of a manifest that was never scanned and has no queued scan.</summary>
    public const string NotScanned = "notScanned";

    /// <summary>The API status of a manifest whose scan is queued or running.</summary>
    public const string Queued = "queued";

    // Aggregation picks the worst child status: a failure outranks a missing scan, which outranks a queued one.
    private static readonly string[] StatusOrder = ["completed", "partial", Queued, NotScanned, "failed"];

    private readonly IScanStore _store;
    private readonly IMetadataStore _metadata;

    public ScanReports(IScanStore store, IMetadataStore metadata)
    {
        _store = store;
        _metadata = metadata;
    }

    /// <summary>
    /// Writes the scan document of a stored manifest. For an image index, the top-level status and summary aggregate
    /// its images and <c>platforms</c> lists each.
    /// </summary>
    /// <param name="minimum">When set, only vulnerabilities at or above it are listed; summaries stay whole.</param>
    public async Task<string> WriteAsync(RepositoryName repository, StoredManifest manifest, Severity? minimum, CancellationToken cancellationToken)
    {
        if (!MediaTypes.IsIndex(manifest.MediaType))
        {
            var image = await ReadImageAsync(manifest.Digest, manifest.MediaType, minimum, cancellationToken);
            return image.Document.ToJsonString();
        }

        var children = await ListImagesAsync(repository, manifest, cancellationToken);
        var platforms = new JsonArray();
        var statuses = new List<string>();
        ScanSummary? summary = null;
        foreach (var (descriptor, mediaType) in children)
        {
            var image = await ReadImageAsync(descriptor.Digest, mediaType, minimum, cancellationToken);
            statuses.Add(image.Status);
            summary = Max(summary, image.Summary);

            var entry = new JsonObject { ["platform"] = PlatformOf(image.Document, descriptor.Platform) };
            foreach (var (name, value) in image.Document)
            {
                if (name != "platform")
                {
                    entry[name] = value?.DeepClone();
                }
            }

            platforms.Add(entry);
        }

        var status = statuses.Count == 0 ? NotScanned : statuses.Aggregate(Worst);
        if (await _store.FindScanJobAsync(manifest.Digest, cancellationToken) is not null)
        {
            status = Queued;
        }

        var document = new JsonObject
        {
            ["digest"] = manifest.Digest.Value,
            ["mediaType"] = manifest.MediaType,
            ["status"] = status,
            ["summary"] = summary is null ? null : SummaryNode(summary),
            ["platforms"] = platforms,
            ["error"] = null,
        };
        return document.ToJsonString();
    }

    /// <summary>
    /// Lists the image manifests of an index that the scanner scans: no attestations (platform unknown/unknown) and
    /// no artifacts. Children missing from the repository are listed too, as never scanned.
    /// </summary>
    public async Task<List<(Descriptor Descriptor, string MediaType)>> ListImagesAsync(
        RepositoryName repository,
        StoredManifest index,
        CancellationToken cancellationToken)
    {
        var parsed = ManifestParser.Parse(index.Content.Span, index.MediaType);
        var images = new List<(Descriptor, string)>();
        foreach (var child in parsed.Manifests)
        {
            if (child.Platform is { Os: "unknown", Architecture: "unknown" } || !MediaTypes.IsImageManifest(child.MediaType))
            {
                continue;
            }

            var stored = await _metadata.GetManifestAsync(repository, ManifestReference.ForDigest(child.Digest), cancellationToken);
            if (stored is not null && !IsImage(stored))
            {
                continue;
            }

            images.Add((child, stored?.MediaType ?? child.MediaType));
        }

        return images;
    }

    /// <summary>Returns whether a stored manifest is a container image: an image manifest with an image config.</summary>
    public static bool IsImage(StoredManifest manifest)
    {
        if (!MediaTypes.IsImageManifest(manifest.MediaType))
        {
            return false;
        }

        try
        {
            return ImageScanner.IsImage(ManifestParser.Parse(manifest.Content.Span, manifest.MediaType));
        }
        catch (RegistryException)
        {
            return false;
        }
    }

    /// <summary>Writes a summary as the API's summary object.</summary>
    public static JsonNode SummaryNode(ScanSummary summary)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            ScanDocument.WriteSummary(writer, summary);
        }

        return JsonNode.Parse(Encoding.UTF8.GetString(buffer.ToArray()))!;
    }

    /// <summary>Returns the per-severity maximum of two summaries, which is how an index sums up its images.</summary>
    public static ScanSummary? Max(ScanSummary? left, ScanSummary? right)
    {
        if (left is null || right is null)
        {
            return left ?? right;
        }

        return new ScanSummary(
            Math.Max(left.Critical, right.Critical),
            Math.Max(left.High, right.High),
            Math.Max(left.Medium, right.Medium),
            Math.Max(left.Low, right.Low),
            Math.Max(left.Unknown, right.Unknown));
    }

    /// <summary>Returns the API status of a stored scan summary, or of its absence.</summary>
    public static string StatusOf(ImageScanSummary? summary) =>
        summary is null ? NotScanned : ScanDocument.StatusName(summary.Status);

    /// <summary>Returns the worse of two API statuses.</summary>
    public static string Worst(string left, string right) =>
        Array.IndexOf(StatusOrder, left) >= Array.IndexOf(StatusOrder, right) ? left : right;

    private async Task<(JsonObject Document, string Status, ScanSummary? Summary)> ReadImageAsync(
        Digest digest,
        string mediaType,
        Severity? minimum,
        CancellationToken cancellationToken)
    {
        var scan = await _store.GetImageScanAsync(digest, cancellationToken);
        var queued = await _store.FindScanJobAsync(digest, cancellationToken) is not null;
        if (scan is null)
        {
            var status = queued ? Queued : NotScanned;
            var empty = new JsonObject
            {
                ["digest"] = digest.Value,
                ["mediaType"] = mediaType,
                ["status"] = status,
                ["scannedAt"] = null,
                ["matchedAt"] = null,
                ["databaseVersion"] = null,
                ["platform"] = null,
                ["os"] = null,
                ["summary"] = null,
                ["layers"] = new JsonArray(),
                ["packages"] = new JsonArray(),
                ["vulnerabilities"] = new JsonArray(),
                ["error"] = null,
            };
            return (empty, status, null);
        }

        var document = JsonNode.Parse(scan.ResultJson) as JsonObject
            ?? throw new InvalidOperationException($"The stored scan result of {digest} is not a JSON object.");
        if (string.IsNullOrEmpty(document["mediaType"]?.GetValue<string>()))
        {
            document["mediaType"] = mediaType;
        }

        var stored = ScanDocument.StatusName(scan.Status);
        if (queued)
        {
            document["status"] = Queued;
        }

        if (minimum is { } severity && document["vulnerabilities"] is JsonArray vulnerabilities)
        {
            var kept = new JsonArray();
            foreach (var vulnerability in vulnerabilities)
            {
                if (SeverityNames.TryParse(vulnerability?["severity"]?.GetValue<string>(), out var level) && level >= severity)
                {
                    kept.Add(vulnerability!.DeepClone());
                }
            }

            document["vulnerabilities"] = kept;
        }

        return (document, queued ? Queued : stored, scan.Status == ScanStatus.Failed ? null : scan.Summary);
    }

    private static JsonNode? PlatformOf(JsonObject image, Platform? indexPlatform)
    {
        if (image["platform"] is JsonObject platform)
        {
            return platform.DeepClone();
        }

        return indexPlatform is null
            ? null
            : new JsonObject
            {
                ["os"] = indexPlatform.Os,
                ["architecture"] = indexPlatform.Architecture,
                ["variant"] = indexPlatform.Variant,
            };
    }
}

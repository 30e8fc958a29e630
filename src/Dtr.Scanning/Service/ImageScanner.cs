using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Vulnerabilities;
using Dtr.Storage;
using Microsoft.Extensions.Logging;

namespace Dtr.Scanning.Service;

/// <summary>
/// Scans one manifest: an image, or each image of an index. Layers are analysed once and the analyses shared by every
/// image that contains them; the result is stored as an <see cref="ImageScan"/> per image manifest.
/// </summary>
internal sealed class ImageScanner
{
    // Image configs are a few KiB; a larger blob behind a config descriptor is not read for its platform.
    private const long MaxConfigBytes = 1024 * 1024;

    private readonly IMetadataStore _metadata;
    private readonly IBlobStore _blobs;
    private readonly IScanStore _store;
    private readonly ILayerAnalyzer _analyzer;
    private readonly IVulnerabilityDatabase _database;
    private readonly TimeProvider _time;
    private readonly ILogger<ImageScanner> _logger;

    // Analyses running in this process, so that concurrent scans of images that share a layer read it once.
    private readonly ConcurrentDictionary<Digest, Lazy<Task<string>>> _analysesInProgress = new();

    public ImageScanner(
        IMetadataStore metadata,
        IBlobStore blobs,
        IScanStore store,
        ILayerAnalyzer analyzer,
        IVulnerabilityDatabase database,
        TimeProvider time,
        ILogger<ImageScanner> logger)
    {
        _metadata = metadata;
        _blobs = blobs;
        _store = store;
        _analyzer = analyzer;
        _database = database;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Scans a manifest of <paramref name="repository"/> and stores the result of each image. A failure is stored as
    /// a <see cref="ScanStatus.Failed"/> scan of the manifest instead of thrown; only cancellation propagates.
    /// </summary>
    /// <returns>The number of image scans stored.</returns>
    public async Task<int> ScanAsync(RepositoryName repository, Digest manifest, CancellationToken cancellationToken)
    {
        var stored = await _metadata.GetManifestAsync(repository, ManifestReference.ForDigest(manifest), cancellationToken);
        if (stored is null)
        {
            await StoreFailureAsync(repository, manifest, "", $"The manifest {manifest} is not in the repository '{repository}'.", null, cancellationToken);
            return 1;
        }

        ParsedManifest parsed;
        try
        {
            parsed = ManifestParser.Parse(stored.Content.Span, stored.MediaType);
        }
        catch (RegistryException exception)
        {
            await StoreFailureAsync(repository, manifest, stored.MediaType, $"The manifest cannot be parsed: {exception.Message}", exception, cancellationToken);
            return 1;
        }

        if (!MediaTypes.IsIndex(parsed.MediaType))
        {
            if (!IsImage(parsed))
            {
                var configType = parsed.Config?.MediaType ?? "none";
                await StoreFailureAsync(
                    repository,
                    manifest,
                    stored.MediaType,
                    $"The manifest is an artifact whose config media type is {configType}, not an image; only images are scanned.",
                    null,
                    cancellationToken);
                return 1;
            }

            await ScanImageAsync(repository, manifest, stored.MediaType, parsed, null, cancellationToken);
            return 1;
        }

        return await ScanIndexAsync(repository, manifest, parsed, cancellationToken);
    }

    /// <summary>Returns whether an image manifest describes a container image rather than an artifact.</summary>
    public static bool IsImage(ParsedManifest manifest) =>
        manifest.Config is { MediaType: MediaTypes.OciConfig or MediaTypes.DockerConfig };

    private async Task<int> ScanIndexAsync(RepositoryName repository, Digest index, ParsedManifest parsed, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var child in parsed.Manifests)
        {
            if (child.Platform is { Os: "unknown", Architecture: "unknown" })
            {
                // BuildKit lists provenance and SBOM attestations with the platform unknown/unknown.
                ScanningLog.ChildSkipped(_logger, index.Value, child.Digest.Value, "attestation or unknown platform");
                continue;
            }

            if (!MediaTypes.IsImageManifest(child.MediaType))
            {
                ScanningLog.ChildSkipped(_logger, index.Value, child.Digest.Value, $"media type {child.MediaType} is not an image manifest");
                continue;
            }

            var stored = await _metadata.GetManifestAsync(repository, ManifestReference.ForDigest(child.Digest), cancellationToken);
            if (stored is null)
            {
                await StoreFailureAsync(repository, child.Digest, child.MediaType, $"The manifest {child.Digest} of index {index} is not in the repository '{repository}'.", null, cancellationToken);
                count++;
                continue;
            }

            ParsedManifest childManifest;
            try
            {
                childManifest = ManifestParser.Parse(stored.Content.Span, stored.MediaType);
            }
            catch (RegistryException exception)
            {
                await StoreFailureAsync(repository, child.Digest, stored.MediaType, $"The manifest cannot be parsed: {exception.Message}", exception, cancellationToken);
                count++;
                continue;
            }

            if (!IsImage(childManifest))
            {
                ScanningLog.ChildSkipped(_logger, index.Value, child.Digest.Value, "its config is not an image config");
                continue;
            }

            var platform = child.Platform is { } p ? new ImagePlatform(p.Os, p.Architecture, p.Variant) : null;
            await ScanImageAsync(repository, child.Digest, stored.MediaType, childManifest, platform, cancellationToken);
            count++;
        }

        return count;
    }

    private async Task ScanImageAsync(
        RepositoryName repository,
        Digest manifest,
        string mediaType,
        ParsedManifest parsed,
        ImagePlatform? indexPlatform,
        CancellationToken cancellationToken)
    {
        var scannedAt = _time.GetUtcNow();
        try
        {
            // 1. The platform, from the config blob, or from the index when the config has none.
            var platform = await ReadPlatformAsync(parsed.Config!, cancellationToken) ?? indexPlatform;

            // 2. Each layer's analysis: stored, or read from the blob and stored.
            var analyses = new List<(Digest Layer, string AnalysisJson)>(parsed.Layers.Count);
            foreach (var layer in parsed.Layers)
            {
                analyses.Add((layer.Digest, await GetAnalysisAsync(layer, cancellationToken)));
            }

            // 3. The inventory of the resulting filesystem, matched against the database.
            var inventory = _analyzer.BuildInventory(analyses);
            var match = await _database.MatchAsync(inventory, cancellationToken);

            // 4. The result, whose status records whether every layer was read to its end.
            var partial = inventory.Layers.Any(layer => layer.Status is LayerReadStatus.LimitExceeded or LayerReadStatus.Unreadable);
            var status = partial ? ScanStatus.Partial : ScanStatus.Completed;
            var matchedAt = _time.GetUtcNow();
            var facts = new ImageScanFacts(manifest, mediaType, platform, status, scannedAt, matchedAt, match.DatabaseVersion, null);
            var scan = new ImageScan(
                manifest,
                status,
                scannedAt,
                matchedAt,
                match.DatabaseVersion,
                match.Summary,
                InventoryJson.Serialize(inventory),
                ScanDocument.WriteImage(facts, inventory, match));
            await _store.PutImageScanAsync(scan, cancellationToken);
            ScanningLog.ImageScanned(_logger, repository.Value, manifest.Value, ScanDocument.StatusName(status), inventory.Packages.Count, match.Findings.Count, match.DatabaseVersion);
        }
        catch (MissingBlobException missing)
        {
            await StoreFailureAsync(repository, manifest, mediaType, missing.Message, null, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await StoreFailureAsync(repository, manifest, mediaType, $"The scan failed: {exception.Message}", exception, cancellationToken);
        }
    }

    /// <summary>Returns the stored analysis of a layer, or analyses the blob once per process and stores the result.</summary>
    private async Task<string> GetAnalysisAsync(Descriptor layer, CancellationToken cancellationToken)
    {
        var stored = await _store.GetLayerAnalysisAsync(layer.Digest, _analyzer.Version, cancellationToken);
        if (stored is not null)
        {
            return stored;
        }

        var analysis = _analysesInProgress.GetOrAdd(
            layer.Digest,
            _ => new Lazy<Task<string>>(() => AnalyzeAndStoreAsync(layer, cancellationToken)));
        try
        {
            return await analysis.Value.WaitAsync(cancellationToken);
        }
        finally
        {
            if (analysis.Value.IsCompleted)
            {
                _analysesInProgress.TryRemove(new KeyValuePair<Digest, Lazy<Task<string>>>(layer.Digest, analysis));
            }
        }
    }

    private async Task<string> AnalyzeAndStoreAsync(Descriptor layer, CancellationToken cancellationToken)
    {
        // Another scan may have stored the analysis between the first read and this one.
        var stored = await _store.GetLayerAnalysisAsync(layer.Digest, _analyzer.Version, cancellationToken);
        if (stored is not null)
        {
            return stored;
        }

        var started = Stopwatch.GetTimestamp();
        await using var content = await _blobs.OpenReadAsync(layer.Digest, 0, cancellationToken)
            ?? throw new MissingBlobException($"The layer blob {layer.Digest} is missing from the blob store.");
        var analysis = await _analyzer.AnalyzeAsync(layer.Digest, layer.MediaType, content, cancellationToken);
        await _store.PutLayerAnalysisAsync(layer.Digest, _analyzer.Version, analysis, cancellationToken);
        ScanningLog.LayerAnalyzed(_logger, layer.Digest.Value, Stopwatch.GetElapsedTime(started).TotalSeconds);
        return analysis;
    }

    /// <summary>Reads os, architecture and variant from an image config, or returns null when they are absent or unreadable.</summary>
    private async Task<ImagePlatform?> ReadPlatformAsync(Descriptor config, CancellationToken cancellationToken)
    {
        if (config.Size > MaxConfigBytes)
        {
            return null;
        }

        await using var stream = await _blobs.OpenReadAsync(config.Digest, 0, cancellationToken)
            ?? throw new MissingBlobException($"The config blob {config.Digest} is missing from the blob store.");
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
            return os is null || architecture is null ? null : new ImagePlatform(os, architecture, ReadString(root, "variant"));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Stores a failed scan of a manifest and logs why.</summary>
    internal async Task StoreFailureAsync(
        RepositoryName repository,
        Digest manifest,
        string mediaType,
        string error,
        Exception? exception,
        CancellationToken cancellationToken)
    {
        ScanningLog.ScanFailed(_logger, repository.Value, manifest.Value, error, exception);
        var now = _time.GetUtcNow();
        var database = await _store.GetVulnerabilityDatabaseAsync(cancellationToken);
        var facts = new ImageScanFacts(manifest, mediaType, null, ScanStatus.Failed, now, now, database.Version, error);
        var scan = new ImageScan(manifest, ScanStatus.Failed, now, now, database.Version, ScanSummary.Empty, null, ScanDocument.WriteImage(facts, null, null));
        await _store.PutImageScanAsync(scan, cancellationToken);
    }

    private static string? ReadString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    /// <summary>A blob that a stored manifest references is missing from the blob store.</summary>
    private sealed class MissingBlobException(string message) : Exception(message);
}

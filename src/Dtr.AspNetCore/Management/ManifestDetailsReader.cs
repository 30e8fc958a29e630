using System.Globalization;
using System.Text.Json;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Builds the details of one stored manifest: its tags and size, and its child manifests for an index. For an image
/// manifest it adds the platform, creation time and layers, with the build step that made each layer read from the
/// config blob.
/// </summary>
internal sealed class ManifestDetailsReader
{
    private readonly IMetadataStore _metadata;
    private readonly IBlobStore _blobs;

    public ManifestDetailsReader(IMetadataStore metadata, IBlobStore blobs)
    {
        _metadata = metadata;
        _blobs = blobs;
    }

    /// <summary>Describes a stored manifest of the repository.</summary>
    public async Task<ManifestDetailsResponse> ReadAsync(RepositoryName repository, StoredManifest manifest, CancellationToken cancellationToken)
    {
        var tags = await _metadata.ListManifestTagsAsync(repository, manifest.Digest, cancellationToken);
        var details = new ManifestDetailsResponse(manifest.Digest.Value, manifest.MediaType, manifest.Content.Length, tags, null, null, null, [], []);

        ParsedManifest parsed;
        try
        {
            parsed = ManifestParser.Parse(manifest.Content.Span, manifest.MediaType);
        }
        catch (RegistryException)
        {
            // Stored manifests were parsed when pushed, so this only happens if the parser became stricter since.
            return details;
        }

        if (MediaTypes.IsIndex(parsed.MediaType))
        {
            var children = parsed.Manifests
                .Select(child => new ManifestEntryResponse(child.Digest.Value, child.MediaType, child.Size, PlatformResponse.From(child.Platform)))
                .ToList();
            return details with { Size = manifest.Content.Length + parsed.Manifests.Sum(child => child.Size), Manifests = children };
        }

        var config = parsed.Config is { MediaType: MediaTypes.OciConfig or MediaTypes.DockerConfig } descriptor
            ? await ReadConfigAsync(descriptor, cancellationToken)
            : null;
        var steps = config is null ? null : MatchLayerSteps(config.History, parsed.Layers.Count);
        var layers = parsed.Layers
            .Select((layer, index) => new LayerResponse(layer.Digest.Value, layer.MediaType, layer.Size, steps?[index]))
            .ToList();
        return details with
        {
            Size = manifest.Content.Length + parsed.Blobs.Sum(blob => blob.Size),
            ConfigDigest = parsed.Config?.Digest.Value,
            Platform = config?.Platform,
            Created = config?.Created,
            Layers = layers,
        };
    }

    /// <summary>
    /// Returns the <c>created_by</c> of each layer: the config's history entries without <c>empty_layer</c>, in order,
    /// belong to the layers in order. Returns null when their number differs from the layer count, because then no
    /// entry can be tied to a layer with certainty.
    /// </summary>
    private static string?[]? MatchLayerSteps(IReadOnlyList<HistoryEntry> history, int layerCount)
    {
        var layerSteps = history.Where(entry => !entry.EmptyLayer).Select(entry => entry.CreatedBy).ToArray();
        return layerSteps.Length == layerCount ? layerSteps : null;
    }

    /// <summary>Reads platform, creation time and history from an image config, or returns null when it is unreadable.</summary>
    private async Task<ImageConfig?> ReadConfigAsync(Descriptor config, CancellationToken cancellationToken)
    {
        if (config.Size > TagDetailsReader.MaxConfigBytes)
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
            var platform = os is null || architecture is null ? null : new PlatformResponse(os, architecture, ReadString(root, "variant"));
            return new ImageConfig(platform, ReadTime(root, "created"), ReadHistory(root));
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static List<HistoryEntry> ReadHistory(JsonElement root)
    {
        var history = new List<HistoryEntry>();
        if (!root.TryGetProperty("history", out var entries) || entries.ValueKind != JsonValueKind.Array)
        {
            return history;
        }

        foreach (var entry in entries.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            var emptyLayer = entry.TryGetProperty("empty_layer", out var empty) && empty.ValueKind == JsonValueKind.True;
            history.Add(new HistoryEntry(ReadString(entry, "created_by"), emptyLayer));
        }

        return history;
    }

    private static DateTimeOffset? ReadTime(JsonElement element, string property) =>
        ReadString(element, property) is { } text
        && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : null;

    private static string? ReadString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text
            ? text
            : null;

    private sealed record HistoryEntry(string? CreatedBy, bool EmptyLayer);

    private sealed record ImageConfig(PlatformResponse? Platform, DateTimeOffset? Created, IReadOnlyList<HistoryEntry> History);
}

using System.Text.Json;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Builds the tag listing of the management API: each tag's digest, media type, size, platforms and push time.
/// </summary>
internal sealed class TagDetailsReader
{
    // Image configs are a few KiB; a larger blob behind a config descriptor is not read for its platform.
    private const long MaxConfigBytes = 1024 * 1024;

    private readonly IMetadataStore _metadata;
    private readonly IBlobStore _blobs;

    public TagDetailsReader(IMetadataStore metadata, IBlobStore blobs)
    {
        _metadata = metadata;
        _blobs = blobs;
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
        var tags = new List<TagResponse>(details.Count);
        foreach (var tag in details)
        {
            var manifest = tag.Manifest;
            var (size, platforms) = await DescribeAsync(manifest, platformsByConfig, cancellationToken);
            tags.Add(new TagResponse(tag.Name, manifest.Digest.Value, manifest.MediaType, size, platforms, tag.PushedAt));
        }

        return tags;
    }

    private async Task<(long Size, IReadOnlyList<string> Platforms)> DescribeAsync(
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
            return (manifest.Content.Length, []);
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
            return (indexSize, childPlatforms);
        }

        var imageSize = manifest.Content.Length + parsed.Blobs.Sum(blob => blob.Size);
        if (parsed.Config is not { } config || config.MediaType is not (MediaTypes.OciConfig or MediaTypes.DockerConfig))
        {
            return (imageSize, []);
        }

        if (!platformsByConfig.TryGetValue(config.Digest, out var platform))
        {
            platform = await ReadConfigPlatformAsync(config, cancellationToken);
            platformsByConfig[config.Digest] = platform;
        }

        return (imageSize, platform is null ? [] : [platform]);
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

using System.Text;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Scanning.Service;

/// <summary>The platform an image was built for, from its config blob.</summary>
/// <param name="Os">The <c>os</c>, such as <c>linux</c>.</param>
/// <param name="Architecture">The <c>architecture</c>, such as <c>amd64</c>.</param>
/// <param name="Variant">The <c>variant</c>, such as <c>v8</c>, or null.</param>
internal sealed record ImagePlatform(string Os, string Architecture, string? Variant);

/// <summary>The facts a scan result records about the scan itself, besides the inventory and the findings.</summary>
internal sealed record ImageScanFacts(
    Digest Manifest,
    string MediaType,
    ImagePlatform? Platform,
    ScanStatus Status,
    DateTimeOffset ScannedAt,
    DateTimeOffset MatchedAt,
    long DatabaseVersion,
    string? Error);

/// <summary>
/// Writes the image document of the scanning API (<c>GET …/manifests/{digest}/scan</c>), which is stored as
/// <see cref="ImageScan.ResultJson"/> so that a GET only reads it.
/// </summary>
internal static class ScanDocument
{
    /// <summary>Returns the API name of a stored status: completed, partial or failed.</summary>
    public static string StatusName(ScanStatus status) => status switch
    {
        ScanStatus.Completed => "completed",
        ScanStatus.Partial => "partial",
        _ => "failed",
    };

    /// <summary>Writes the image document of a scan; the inventory and match are null for a failed scan.</summary>
    public static string WriteImage(ImageScanFacts facts, ImageInventory? inventory, MatchResult? match)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("digest", facts.Manifest.Value);
            writer.WriteString("mediaType", facts.MediaType);
            writer.WriteString("status", StatusName(facts.Status));
            writer.WriteString("scannedAt", facts.ScannedAt);
            writer.WriteString("matchedAt", facts.MatchedAt);
            writer.WriteNumber("databaseVersion", facts.DatabaseVersion);
            WritePlatform(writer, facts.Platform);
            WriteOperatingSystem(writer, inventory?.OperatingSystem);
            writer.WritePropertyName("summary");
            WriteSummary(writer, match?.Summary ?? ScanSummary.Empty);
            WriteLayers(writer, inventory?.Layers ?? []);
            WritePackages(writer, inventory?.Packages ?? []);
            WriteVulnerabilities(writer, match?.Findings ?? []);
            writer.WriteString("error", facts.Error);
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes a summary object: counts by severity, the total and Docker Trusted Registry's three classes.</summary>
    public static void WriteSummary(Utf8JsonWriter writer, ScanSummary summary)
    {
        writer.WriteStartObject();
        writer.WriteNumber("critical", summary.Critical);
        writer.WriteNumber("high", summary.High);
        writer.WriteNumber("medium", summary.Medium);
        writer.WriteNumber("low", summary.Low);
        writer.WriteNumber("unknown", summary.Unknown);
        writer.WriteNumber("total", summary.Total);
        writer.WriteStartObject("dtr");
        writer.WriteNumber("critical", summary.DtrCritical);
        writer.WriteNumber("major", summary.DtrMajor);
        writer.WriteNumber("minor", summary.DtrMinor);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    /// <summary>Reads the media type and platform back from a stored image document, for a re-match.</summary>
    /// <exception cref="JsonException">The text is not JSON.</exception>
    public static (string? MediaType, ImagePlatform? Platform, DateTimeOffset? ScannedAt) ReadFacts(string resultJson)
    {
        using var document = JsonDocument.Parse(resultJson);
        var root = document.RootElement;
        var mediaType = root.TryGetProperty("mediaType", out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
        DateTimeOffset? scannedAt = root.TryGetProperty("scannedAt", out var scanned) && scanned.TryGetDateTimeOffset(out var value) ? value : null;
        ImagePlatform? platform = null;
        if (root.TryGetProperty("platform", out var element) && element.ValueKind == JsonValueKind.Object)
        {
            var os = element.TryGetProperty("os", out var o) ? o.GetString() : null;
            var architecture = element.TryGetProperty("architecture", out var a) ? a.GetString() : null;
            var variant = element.TryGetProperty("variant", out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            if (os is not null && architecture is not null)
            {
                platform = new ImagePlatform(os, architecture, variant);
            }
        }

        return (mediaType, platform, scannedAt);
    }

    private static void WritePlatform(Utf8JsonWriter writer, ImagePlatform? platform)
    {
        if (platform is null)
        {
            writer.WriteNull("platform");
            return;
        }

        writer.WriteStartObject("platform");
        writer.WriteString("os", platform.Os);
        writer.WriteString("architecture", platform.Architecture);
        writer.WriteString("variant", platform.Variant);
        writer.WriteEndObject();
    }

    private static void WriteOperatingSystem(Utf8JsonWriter writer, OperatingSystemInfo? os)
    {
        if (os is null)
        {
            writer.WriteNull("os");
            return;
        }

        writer.WriteStartObject("os");
        writer.WriteString("id", os.Id);
        writer.WriteString("versionId", os.VersionId);
        writer.WriteString("prettyName", os.PrettyName);
        writer.WriteEndObject();
    }

    private static void WriteLayers(Utf8JsonWriter writer, IReadOnlyList<LayerReadResult> layers)
    {
        writer.WriteStartArray("layers");
        foreach (var layer in layers)
        {
            writer.WriteStartObject();
            writer.WriteString("digest", layer.Digest.Value);
            writer.WriteString("status", LayerStatusName(layer.Status));
            writer.WriteString("message", layer.Message);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WritePackages(Utf8JsonWriter writer, IReadOnlyList<InstalledPackage> packages)
    {
        writer.WriteStartArray("packages");
        foreach (var package in packages)
        {
            writer.WriteStartObject();
            writer.WriteString("type", PackageTypeName(package.Type));
            writer.WriteString("name", package.Name);
            writer.WriteString("version", package.Version);
            writer.WriteString("sourceName", package.SourceName);
            writer.WriteString("sourceVersion", package.SourceVersion);
            writer.WriteString("architecture", package.Architecture);
            writer.WriteString("layer", package.Layer.Value);
            writer.WriteString("path", package.Path);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteVulnerabilities(Utf8JsonWriter writer, IReadOnlyList<VulnerabilityFinding> findings)
    {
        writer.WriteStartArray("vulnerabilities");
        foreach (var finding in findings)
        {
            writer.WriteStartObject();
            writer.WriteString("id", finding.Id);
            writer.WriteStartArray("aliases");
            foreach (var alias in finding.Aliases)
            {
                writer.WriteStringValue(alias);
            }

            writer.WriteEndArray();
            writer.WriteString("summary", finding.Summary);
            writer.WriteString("severity", SeverityNames.Format(finding.Severity));
            if (finding.Score is { } score)
            {
                writer.WriteNumber("score", score);
            }
            else
            {
                writer.WriteNull("score");
            }

            writer.WriteString("cvssVector", finding.CvssVector);
            writer.WriteString("package", finding.Package.Name);
            writer.WriteString("packageType", PackageTypeName(finding.Package.Type));
            writer.WriteString("installedVersion", finding.Package.Version);
            writer.WriteString("fixedVersion", finding.FixedVersion);
            writer.WriteString("ecosystem", finding.Ecosystem);
            writer.WriteString("layer", finding.Layer.Value);
            writer.WriteStartArray("references");
            foreach (var reference in finding.References)
            {
                writer.WriteStringValue(reference);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    /// <summary>Returns the API name of a package type: deb, apk, rpm or nuget.</summary>
    public static string PackageTypeName(PackageType type) => type switch
    {
        PackageType.Deb => "deb",
        PackageType.Apk => "apk",
        PackageType.Rpm => "rpm",
        _ => "nuget",
    };

    private static string LayerStatusName(LayerReadStatus status) => status switch
    {
        LayerReadStatus.Complete => "complete",
        LayerReadStatus.LimitExceeded => "limitExceeded",
        LayerReadStatus.Unreadable => "unreadable",
        _ => "skipped",
    };
}

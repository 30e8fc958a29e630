using System.Globalization;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Scanning.Reports;

/// <summary>
/// Writes an image's inventory and vulnerabilities as a CycloneDX 1.6 JSON bill of materials. The image is the
/// metadata component, and its operating system and packages are components with package URLs. Each vulnerability
/// is listed once, with its rating and the components it affects.
/// </summary>
public static class CycloneDxSbom
{
    /// <summary>The CycloneDX specification version written.</summary>
    public const string SpecVersion = "1.6";

    private const string ImageReference = "image";
    private const string OperatingSystemReference = "operating-system";

    /// <summary>Writes the BOM as one JSON object.</summary>
    /// <param name="writer">The writer; it is not flushed.</param>
    /// <param name="repository">The repository name, which becomes the image component's name.</param>
    /// <param name="manifest">The image manifest's digest, which becomes the image component's version.</param>
    /// <param name="inventory">The packages found in the image.</param>
    /// <param name="findings">The vulnerabilities found, as <see cref="IVulnerabilityDatabase.MatchAsync"/> returns them.</param>
    /// <param name="timestamp">When the BOM was made.</param>
    public static void Write(
        Utf8JsonWriter writer,
        string repository,
        Digest manifest,
        ImageInventory inventory,
        IReadOnlyList<VulnerabilityFinding> findings,
        DateTimeOffset timestamp)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentException.ThrowIfNullOrEmpty(repository);
        ArgumentNullException.ThrowIfNull(inventory);
        ArgumentNullException.ThrowIfNull(findings);

        var references = AssignReferences(inventory);

        writer.WriteStartObject();
        writer.WriteString("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
        writer.WriteString("bomFormat", "CycloneDX");
        writer.WriteString("specVersion", SpecVersion);
        writer.WriteString("serialNumber", $"urn:uuid:{Guid.NewGuid()}");
        writer.WriteNumber("version", 1);

        WriteMetadata(writer, repository, manifest, timestamp);
        WriteComponents(writer, inventory, references);
        WriteVulnerabilities(writer, findings, references);

        writer.WriteEndObject();
    }

    private static void WriteMetadata(Utf8JsonWriter writer, string repository, Digest manifest, DateTimeOffset timestamp)
    {
        writer.WriteStartObject("metadata");
        writer.WriteString("timestamp", timestamp.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));

        writer.WriteStartObject("tools");
        writer.WriteStartArray("components");
        writer.WriteStartObject();
        writer.WriteString("type", "application");
        writer.WriteString("name", "Dtr.Scanning");
        if (typeof(CycloneDxSbom).Assembly.GetName().Version is { } version)
        {
            writer.WriteString("version", version.ToString(3));
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();

        writer.WriteStartObject("component");
        writer.WriteString("type", "container");
        writer.WriteString("bom-ref", ImageReference);
        writer.WriteString("name", repository);
        writer.WriteString("version", manifest.ToString());
        writer.WriteStartArray("hashes");
        writer.WriteStartObject();
        writer.WriteString("alg", manifest.Algorithm == DigestAlgorithm.Sha512 ? "SHA-512" : "SHA-256");
        writer.WriteString("content", manifest.Encoded);
        writer.WriteEndObject();
        writer.WriteEndArray();
        writer.WriteEndObject();

        writer.WriteEndObject();
    }

    private static void WriteComponents(Utf8JsonWriter writer, ImageInventory inventory, Dictionary<InstalledPackage, (string Reference, string Purl)> references)
    {
        writer.WriteStartArray("components");

        if (inventory.OperatingSystem is { } operatingSystem)
        {
            writer.WriteStartObject();
            writer.WriteString("type", "operating-system");
            writer.WriteString("bom-ref", OperatingSystemReference);
            writer.WriteString("name", operatingSystem.Id);
            if (operatingSystem.VersionId is { } versionId)
            {
                writer.WriteString("version", versionId);
            }

            if (operatingSystem.PrettyName is { } prettyName)
            {
                writer.WriteString("description", prettyName);
            }

            writer.WriteEndObject();
        }

        foreach (var package in inventory.Packages)
        {
            var (reference, purl) = references[package];
            writer.WriteStartObject();
            writer.WriteString("type", "library");
            writer.WriteString("bom-ref", reference);
            writer.WriteString("name", package.Name);
            writer.WriteString("version", package.Version);
            writer.WriteString("purl", purl);
            if (package.License is { Length: > 0 } license)
            {
                writer.WriteStartArray("licenses");
                writer.WriteStartObject();
                writer.WriteStartObject("license");
                writer.WriteString("name", license);
                writer.WriteEndObject();
                writer.WriteEndObject();
                writer.WriteEndArray();
            }

            writer.WriteStartArray("properties");
            WriteProperty(writer, "dtr:package:type", package.Type.ToString());
            if (!string.Equals(package.SourceName, package.Name, StringComparison.Ordinal) || package.SourceVersion is not null)
            {
                WriteProperty(writer, "dtr:package:source", package.SourceVersion is null ? package.SourceName : $"{package.SourceName} {package.SourceVersion}");
            }

            WriteProperty(writer, "dtr:layer", package.Layer.ToString());
            WriteProperty(writer, "dtr:path", package.Path);
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteVulnerabilities(
        Utf8JsonWriter writer, IReadOnlyList<VulnerabilityFinding> findings, Dictionary<InstalledPackage, (string Reference, string Purl)> references)
    {
        writer.WriteStartArray("vulnerabilities");

        // Findings come one per vulnerability and package; the BOM lists each vulnerability once with every
        // component it affects. The first finding of an id is its worst, because findings are ordered worst first.
        foreach (var group in findings.GroupBy(finding => finding.Id, StringComparer.Ordinal))
        {
            var first = group.First();
            writer.WriteStartObject();
            writer.WriteString("id", first.Id);
            WriteSource(writer, "source", first.Id);

            if (first.Aliases.Count > 0)
            {
                writer.WriteStartArray("references");
                foreach (var alias in first.Aliases)
                {
                    writer.WriteStartObject();
                    writer.WriteString("id", alias);
                    WriteSource(writer, "source", alias);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            WriteRating(writer, first);

            if (first.Summary is { } summary)
            {
                writer.WriteString("description", summary);
            }

            var fixes = group.Select(finding => finding.FixedVersion).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
            if (fixes.Count > 0)
            {
                writer.WriteString("recommendation", $"Upgrade to {string.Join(" or ", fixes)} or later.");
            }

            if (first.References.Count > 0)
            {
                writer.WriteStartArray("advisories");
                foreach (var url in first.References)
                {
                    writer.WriteStartObject();
                    writer.WriteString("url", url);
                    writer.WriteEndObject();
                }

                writer.WriteEndArray();
            }

            writer.WriteStartArray("affects");
            foreach (var finding in group)
            {
                writer.WriteStartObject();
                writer.WriteString("ref", references.TryGetValue(finding.Package, out var reference) ? reference.Reference : ImageReference);
                writer.WriteStartArray("versions");
                writer.WriteStartObject();
                writer.WriteString("version", finding.Package.Version);
                writer.WriteString("status", "affected");
                writer.WriteEndObject();
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static void WriteRating(Utf8JsonWriter writer, VulnerabilityFinding finding)
    {
        writer.WriteStartArray("ratings");
        writer.WriteStartObject();
        WriteSource(writer, "source", finding.Id);
        if (finding.Score is { } score)
        {
            writer.WriteNumber("score", score);
        }

        writer.WriteString("severity", finding.Severity switch
        {
            Severity.Critical => "critical",
            Severity.High => "high",
            Severity.Medium => "medium",
            Severity.Low => "low",
            _ => "unknown",
        });

        if (finding.CvssVector is { } vector)
        {
            writer.WriteString("method", MethodOf(vector));
            writer.WriteString("vector", vector);
        }

        writer.WriteEndObject();
        writer.WriteEndArray();
    }

    /// <summary>Returns the CycloneDX scoring method of a CVSS vector from its version prefix. CVSS v2 vectors have no prefix.</summary>
    private static string MethodOf(string vector) => vector switch
    {
        _ when vector.StartsWith("CVSS:3.1/", StringComparison.Ordinal) => "CVSSv31",
        _ when vector.StartsWith("CVSS:3.0/", StringComparison.Ordinal) => "CVSSv3",
        _ when vector.StartsWith("CVSS:4.0/", StringComparison.Ordinal) => "CVSSv4",
        _ => "CVSSv2",
    };

    private static void WriteSource(Utf8JsonWriter writer, string property, string id)
    {
        writer.WriteStartObject(property);
        writer.WriteString("name", "OSV");
        writer.WriteString("url", $"https://osv.dev/vulnerability/{Uri.EscapeDataString(id)}");
        writer.WriteEndObject();
    }

    private static void WriteProperty(Utf8JsonWriter writer, string name, string value)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("value", value);
        writer.WriteEndObject();
    }

    /// <summary>
    /// Gives every package a unique <c>bom-ref</c>: its purl, with <c>#2</c>, <c>#3</c> and so on added when the same
    /// package is installed at several paths (for example one NuGet library in two applications).
    /// </summary>
    private static Dictionary<InstalledPackage, (string Reference, string Purl)> AssignReferences(ImageInventory inventory)
    {
        var result = new Dictionary<InstalledPackage, (string, string)>();
        var used = new HashSet<string>(StringComparer.Ordinal) { ImageReference, OperatingSystemReference };
        foreach (var package in inventory.Packages)
        {
            if (result.ContainsKey(package))
            {
                continue;
            }

            var purl = PackageUrl.For(package, inventory.OperatingSystem);
            var reference = purl;
            for (var suffix = 2; !used.Add(reference); suffix++)
            {
                reference = $"{purl}#{suffix}";
            }

            result[package] = (reference, purl);
        }

        return result;
    }
}

using System.Text.Json;
using Dtr.Scanning;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Service;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// Reads the findings back from a stored image document, so an SBOM lists what the stored result lists instead of
/// matching the inventory again.
/// </summary>
internal static class StoredFindings
{
    /// <summary>
    /// Returns the document's vulnerabilities as findings, each tied to the inventory package with the same type,
    /// name, version and layer. A vulnerability whose package is not in the inventory is left out.
    /// </summary>
    public static IReadOnlyList<VulnerabilityFinding> Read(string resultJson, ImageInventory inventory)
    {
        var packages = inventory.Packages.ToLookup(package => (package.Name, package.Version, package.Layer.Value));
        using var document = JsonDocument.Parse(resultJson);
        if (!document.RootElement.TryGetProperty("vulnerabilities", out var vulnerabilities) || vulnerabilities.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        var findings = new List<VulnerabilityFinding>();
        foreach (var item in vulnerabilities.EnumerateArray())
        {
            var key = (String(item, "package") ?? "", String(item, "installedVersion") ?? "", String(item, "layer") ?? "");
            var type = String(item, "packageType");
            var package = packages[key].FirstOrDefault(candidate => string.Equals(ScanDocument.PackageTypeName(candidate.Type), type, StringComparison.Ordinal));
            if (package is null)
            {
                continue;
            }

            SeverityNames.TryParse(String(item, "severity"), out var severity);
            findings.Add(new VulnerabilityFinding(
                String(item, "id") ?? "",
                Strings(item, "aliases"),
                String(item, "summary"),
                severity,
                package,
                String(item, "ecosystem") ?? "",
                String(item, "fixedVersion"))
            {
                Score = item.TryGetProperty("score", out var score) && score.ValueKind == JsonValueKind.Number ? score.GetDouble() : null,
                CvssVector = String(item, "cvssVector"),
                References = Strings(item, "references"),
            });
        }

        return findings;
    }

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string> Strings(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Array
            ? value.EnumerateArray().Where(item => item.ValueKind == JsonValueKind.String).Select(item => item.GetString()!).ToList()
            : [];

}

using System.Text.Json;

namespace Dtr.Scanning.Vulnerabilities;

/// <summary>A derived severity with the CVSS score and vector it came from, when it came from one.</summary>
internal readonly record struct SeverityRating(Severity Severity, double? Score, string? Vector);

/// <summary>
/// Derives a record's severity. A CVSS vector wins, v3.1 or v3.0 first, then v4.0, then v2, and the score is
/// computed from the vector. Without a usable vector, the severity the database names is used: the record's
/// <c>database_specific.severity</c> (GitHub's CRITICAL, HIGH, MODERATE, LOW), an <c>Ubuntu</c> severity entry, or an
/// affected package's <c>ecosystem_specific</c> or <c>database_specific</c> severity or urgency.
/// </summary>
internal static class OsvSeverity
{
    public static SeverityRating Derive(JsonElement root)
    {
        var vectors = new List<(string Type, string Score)>();
        CollectSeverityEntries(root, vectors);
        if (root.TryGetProperty("affected", out var affected) && affected.ValueKind == JsonValueKind.Array)
        {
            foreach (var package in affected.EnumerateArray())
            {
                CollectSeverityEntries(package, vectors);
            }
        }

        foreach (var (type, score) in vectors)
        {
            if (type == "CVSS_V3" && Cvss.TryComputeV3(score, out var v3))
            {
                return new SeverityRating(Cvss.SeverityOf(v3), v3, score);
            }
        }

        foreach (var (type, score) in vectors)
        {
            if (type == "CVSS_V4" && CvssV4.TryCompute(score, out var v4))
            {
                return new SeverityRating(Cvss.SeverityOf(v4), v4, score);
            }
        }

        foreach (var (type, score) in vectors)
        {
            if (type == "CVSS_V2" && Cvss.TryComputeV2(score, out var v2))
            {
                return new SeverityRating(Cvss.SeverityOf(v2), v2, score);
            }
        }

        return new SeverityRating(NamedSeverity(root, vectors) ?? Severity.Unknown, null, null);
    }

    /// <summary>Maps a severity word of GitHub, Debian, Ubuntu or Red Hat to a level, or null for an unknown word.</summary>
    public static Severity? FromWord(string? word) => word?.Trim().ToUpperInvariant() switch
    {
        "CRITICAL" => Severity.Critical,
        "HIGH" or "IMPORTANT" => Severity.High,
        "MEDIUM" or "MODERATE" => Severity.Medium,
        "LOW" or "NEGLIGIBLE" or "UNIMPORTANT" => Severity.Low,
        _ => null,
    };

    private static Severity? NamedSeverity(JsonElement root, List<(string Type, string Score)> entries)
    {
        if (FromWord(SpecificSeverity(root, "database_specific")) is { } recordSeverity)
        {
            return recordSeverity;
        }

        foreach (var (type, score) in entries)
        {
            if (type == "Ubuntu" && FromWord(score) is { } ubuntu)
            {
                return ubuntu;
            }
        }

        if (root.TryGetProperty("affected", out var affected) && affected.ValueKind == JsonValueKind.Array)
        {
            foreach (var package in affected.EnumerateArray())
            {
                if (FromWord(SpecificSeverity(package, "ecosystem_specific")) is { } ecosystemSeverity)
                {
                    return ecosystemSeverity;
                }

                if (FromWord(SpecificSeverity(package, "database_specific")) is { } databaseSeverity)
                {
                    return databaseSeverity;
                }
            }
        }

        return null;
    }

    private static string? SpecificSeverity(JsonElement element, string property)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty(property, out var specific)
            || specific.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return OsvRecordParser.GetString(specific, "severity") ?? OsvRecordParser.GetString(specific, "urgency");
    }

    private static void CollectSeverityEntries(JsonElement element, List<(string Type, string Score)> entries)
    {
        if (element.ValueKind != JsonValueKind.Object
            || !element.TryGetProperty("severity", out var severity)
            || severity.ValueKind != JsonValueKind.Array)
        {
            return;
        }

        foreach (var item in severity.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Object
                && OsvRecordParser.GetString(item, "type") is { } type
                && OsvRecordParser.GetString(item, "score") is { } score)
            {
                entries.Add((type, score));
            }
        }
    }
}

using System.Text.Json;

namespace Dtr.Scanning.Vulnerabilities;

/// <summary>What reading one file of an archive produced.</summary>
internal enum OsvParseOutcome
{
    /// <summary>A record with at least one affected package.</summary>
    Record,

    /// <summary>Not JSON, or JSON without an OSV <c>id</c>.</summary>
    Invalid,

    /// <summary>A record that its database withdrew.</summary>
    Withdrawn,

    /// <summary>A record that names no affected package, so nothing can match it.</summary>
    NoPackages,
}

/// <summary>Reads OSV JSON records (OSV schema 1.x) into <see cref="VulnerabilityEntry"/> values.</summary>
internal static class OsvRecordParser
{
    /// <summary>References kept per record: enough for the advisory and a few links, not the whole list.</summary>
    public const int MaxReferences = 5;

    /// <summary>Summaries taken from the details are cut to this many characters.</summary>
    public const int MaxSummaryLength = 200;

    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64 };

    /// <summary>Parses one file of an archive.</summary>
    /// <param name="reason">Why the file was not a usable record, for any outcome but <see cref="OsvParseOutcome.Record"/>.</param>
    public static OsvParseOutcome Parse(ReadOnlyMemory<byte> json, out VulnerabilityEntry? entry, out string? reason)
    {
        entry = null;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException exception)
        {
            reason = $"invalid JSON: {exception.Message}";
            return OsvParseOutcome.Invalid;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || GetString(root, "id") is not { Length: > 0 } id)
            {
                reason = "the document has no OSV id";
                return OsvParseOutcome.Invalid;
            }

            if (GetString(root, "withdrawn") is { Length: > 0 })
            {
                reason = $"record {id} is withdrawn";
                return OsvParseOutcome.Withdrawn;
            }

            var affected = ReadAffected(root);
            if (affected.Count == 0)
            {
                reason = $"record {id} names no affected package";
                return OsvParseOutcome.NoPackages;
            }

            var rating = OsvSeverity.Derive(root);
            var record = new StoredVulnerability(
                id,
                GetStrings(root, "aliases"),
                ReadSummary(root),
                GetString(root, "modified"),
                rating.Severity,
                rating.Score,
                rating.Vector,
                ReadReferences(root),
                affected);

            var keys = affected
                .Select(package => new VulnerabilityPackageKey(package.Ecosystem, package.Name))
                .Distinct()
                .ToList();
            entry = new VulnerabilityEntry(id, rating.Severity, keys, record.Serialize());
            reason = null;
            return OsvParseOutcome.Record;
        }
    }

    private static List<StoredAffected> ReadAffected(JsonElement root)
    {
        var result = new List<StoredAffected>();
        if (!root.TryGetProperty("affected", out var affected) || affected.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var item in affected.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("package", out var package)
                || package.ValueKind != JsonValueKind.Object
                || GetString(package, "ecosystem") is not { Length: > 0 } ecosystem
                || GetString(package, "name") is not { Length: > 0 } name)
            {
                continue;
            }

            var indexEcosystem = OsvEcosystems.NormalizeEcosystem(ecosystem);
            result.Add(new StoredAffected(
                indexEcosystem,
                OsvEcosystems.NormalizePackage(indexEcosystem, name),
                ReadRanges(item),
                GetStrings(item, "versions")));
        }

        return result;
    }

    private static List<StoredRange> ReadRanges(JsonElement affected)
    {
        var result = new List<StoredRange>();
        if (!affected.TryGetProperty("ranges", out var ranges) || ranges.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var range in ranges.EnumerateArray())
        {
            if (range.ValueKind != JsonValueKind.Object
                || GetString(range, "type") is not { } type
                || type is not ("ECOSYSTEM" or "SEMVER")
                || !range.TryGetProperty("events", out var events)
                || events.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            var stored = new List<StoredEvent>();
            foreach (var item in events.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                var storedEvent = new StoredEvent(
                    GetString(item, "introduced"),
                    GetString(item, "fixed"),
                    GetString(item, "last_affected"),
                    GetString(item, "limit"));
                if (storedEvent is not { Introduced: null, Fixed: null, LastAffected: null, Limit: null })
                {
                    stored.Add(storedEvent);
                }
            }

            if (stored.Count > 0)
            {
                result.Add(new StoredRange(type, stored));
            }
        }

        return result;
    }

    private static string? ReadSummary(JsonElement root)
    {
        if (GetString(root, "summary") is { } summary && !string.IsNullOrWhiteSpace(summary))
        {
            return summary.Trim();
        }

        if (GetString(root, "details") is not { } details)
        {
            return null;
        }

        var firstLine = details
            .Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault();
        if (firstLine is null)
        {
            return null;
        }

        return firstLine.Length <= MaxSummaryLength ? firstLine : string.Concat(firstLine.AsSpan(0, MaxSummaryLength - 1), "…");
    }

    private static List<string> ReadReferences(JsonElement root)
    {
        var result = new List<string>();
        if (!root.TryGetProperty("references", out var references) || references.ValueKind != JsonValueKind.Array)
        {
            return result;
        }

        foreach (var reference in references.EnumerateArray())
        {
            if (result.Count == MaxReferences)
            {
                break;
            }

            if (reference.ValueKind == JsonValueKind.Object && GetString(reference, "url") is { Length: > 0 } url)
            {
                result.Add(url);
            }
        }

        return result;
    }

    internal static string? GetString(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static List<string> GetStrings(JsonElement element, string property)
    {
        var result = new List<string>();
        if (element.TryGetProperty(property, out var array) && array.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in array.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.String && item.GetString() is { Length: > 0 } text)
                {
                    result.Add(text);
                }
            }
        }

        return result;
    }
}

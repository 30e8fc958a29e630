using System.Text.Json;
using System.Text.Json.Serialization;
using Dtr.Scanning;

namespace Dtr.Storage.Scanning;

/// <summary>
/// Converts the small structured values that the scan store keeps in text columns: the package keys of a
/// vulnerability record and the allowlist of a scan policy.
/// </summary>
internal static class ScanStoreJson
{
    public static string SerializePackages(IReadOnlyList<VulnerabilityPackageKey> packages)
    {
        var pairs = new string[packages.Count][];
        for (var i = 0; i < packages.Count; i++)
        {
            pairs[i] = [packages[i].Ecosystem, packages[i].Package];
        }

        return JsonSerializer.Serialize(pairs, ScanStoreJsonContext.Default.StringArrayArray);
    }

    public static IReadOnlyList<VulnerabilityPackageKey> DeserializePackages(string json)
    {
        var pairs = JsonSerializer.Deserialize(json, ScanStoreJsonContext.Default.StringArrayArray) ?? [];
        return pairs.Select(pair => new VulnerabilityPackageKey(pair[0], pair[1])).ToArray();
    }

    public static string SerializeAllowlist(IReadOnlyList<AllowlistEntry> allowlist)
    {
        var rows = allowlist.Select(entry => new AllowlistRow(entry.Id, entry.ExpiresAt?.ToUnixTimeMilliseconds(), entry.Reason)).ToArray();
        return JsonSerializer.Serialize(rows, ScanStoreJsonContext.Default.AllowlistRowArray);
    }

    public static IReadOnlyList<AllowlistEntry> DeserializeAllowlist(string json)
    {
        var rows = JsonSerializer.Deserialize(json, ScanStoreJsonContext.Default.AllowlistRowArray) ?? [];
        return rows
            .Select(row => new AllowlistEntry(row.Id, row.ExpiresAt is { } expiresAt ? DateTimeOffset.FromUnixTimeMilliseconds(expiresAt) : null, row.Reason))
            .ToArray();
    }

    /// <summary>One allowlist entry as stored, with the expiry as Unix time in milliseconds like every timestamp column.</summary>
    internal sealed record AllowlistRow(string Id, long? ExpiresAt, string? Reason);
}

[JsonSerializable(typeof(string[][]))]
[JsonSerializable(typeof(ScanStoreJson.AllowlistRow[]))]
internal sealed partial class ScanStoreJsonContext : JsonSerializerContext;

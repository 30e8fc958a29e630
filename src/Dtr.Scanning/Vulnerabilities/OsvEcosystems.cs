using Dtr.Scanning.Inventory;
using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Vulnerabilities;

/// <summary>
/// Maps OSV ecosystem strings to the index keys the database stores, and an image's operating system to the keys its
/// packages are looked up under. Both sides use the same form, so a lookup matches ordinally.
/// </summary>
/// <remarks>
/// The forms follow the OSV schema's ecosystem list (ossf/osv-schema, ecosystems.json): <c>Debian:12</c>,
/// <c>Alpine:v3.18</c>, <c>Ubuntu:22.04</c> (records name LTS releases <c>Ubuntu:22.04:LTS</c>),
/// <c>Rocky Linux:9</c>, <c>AlmaLinux:9</c> and <c>NuGet</c>. Red Hat records name a product stream by CPE, such as
/// <c>Red Hat:enterprise_linux:9::baseos</c>; the main RHEL streams are indexed as <c>Red Hat:9</c>.
/// </remarks>
internal static class OsvEcosystems
{
    public const string NuGet = "NuGet";

    /// <summary>Returns the index form of an OSV ecosystem string.</summary>
    public static string NormalizeEcosystem(string ecosystem)
    {
        var separator = ecosystem.IndexOf(':', StringComparison.Ordinal);
        var name = separator < 0 ? ecosystem : ecosystem[..separator];
        var release = separator < 0 ? null : ecosystem[(separator + 1)..];

        if (name.Equals(NuGet, StringComparison.OrdinalIgnoreCase))
        {
            return NuGet;
        }

        if (release is null)
        {
            return ecosystem;
        }

        switch (name)
        {
            case "Debian":
            case "Rocky Linux":
            case "AlmaLinux":
                return $"{name}:{MajorOf(release)}";

            case "Alpine":
                return $"Alpine:v{MajorMinorOf(release.TrimStart('v'))}";

            case "Ubuntu":
                return release.EndsWith(":LTS", StringComparison.Ordinal) ? $"Ubuntu:{release[..^":LTS".Length]}" : ecosystem;

            case "Red Hat":
                // "enterprise_linux:9::baseos" and "enterprise_linux:9::appstream" are the current RHEL 9 streams;
                // the extended-support streams (rhel_eus, rhel_aus, ...) keep their names and so never match.
                const string rhelPrefix = "enterprise_linux:";
                if (release.StartsWith(rhelPrefix, StringComparison.Ordinal))
                {
                    var rest = release[rhelPrefix.Length..];
                    var end = rest.IndexOf(':', StringComparison.Ordinal);
                    return $"Red Hat:{MajorOf(end < 0 ? rest : rest[..end])}";
                }

                return ecosystem;

            default:
                return ecosystem;
        }
    }

    /// <summary>Returns the index form of a package name: NuGet ids are case-insensitive, so they are lowercased.</summary>
    public static string NormalizePackage(string ecosystem, string name) =>
        ecosystem == NuGet ? name.ToLowerInvariant() : name;

    /// <summary>Returns the version rules of an index ecosystem, or null for ecosystems the scanner does not match.</summary>
    public static PackageEcosystem? VersionRulesOf(string ecosystem)
    {
        if (ecosystem == NuGet)
        {
            return PackageEcosystem.NuGet;
        }

        var separator = ecosystem.IndexOf(':', StringComparison.Ordinal);
        var name = separator < 0 ? ecosystem : ecosystem[..separator];
        return name switch
        {
            "Debian" or "Ubuntu" => PackageEcosystem.Dpkg,
            "Alpine" => PackageEcosystem.Apk,
            "Rocky Linux" or "AlmaLinux" or "Red Hat" => PackageEcosystem.Rpm,
            _ => null,
        };
    }

    /// <summary>
    /// Returns the index ecosystems that packages of <paramref name="type"/> are looked up in, for an image built on
    /// <paramref name="operatingSystem"/>. Empty when the operating system is unknown or does not use that package type.
    /// </summary>
    public static IReadOnlyList<string> ForPackages(OperatingSystemInfo? operatingSystem, PackageType type)
    {
        if (type == PackageType.NuGet)
        {
            return [NuGet];
        }

        // NOTE: an image without VERSION_ID (Debian testing or sid, Alpine edge) gets no OS ecosystem, so its
        // operating system packages are not matched.
        if (operatingSystem?.VersionId is not { Length: > 0 } version)
        {
            return [];
        }

        return (operatingSystem.Id, type) switch
        {
            ("debian", PackageType.Deb) => [$"Debian:{MajorOf(version)}", "Debian"],
            ("ubuntu", PackageType.Deb) => [$"Ubuntu:{version}"],
            ("alpine", PackageType.Apk) => [$"Alpine:v{MajorMinorOf(version)}"],
            ("rocky", PackageType.Rpm) => [$"Rocky Linux:{MajorOf(version)}"],
            ("almalinux", PackageType.Rpm) => [$"AlmaLinux:{MajorOf(version)}"],
            ("rhel", PackageType.Rpm) => [$"Red Hat:{MajorOf(version)}"],
            _ => [],
        };
    }

    private static string MajorOf(string release)
    {
        var dot = release.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? release : release[..dot];
    }

    private static string MajorMinorOf(string release)
    {
        var first = release.IndexOf('.', StringComparison.Ordinal);
        if (first < 0)
        {
            return release;
        }

        var second = release.IndexOf('.', first + 1);
        return second < 0 ? release : release[..second];
    }
}

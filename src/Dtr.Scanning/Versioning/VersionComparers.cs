namespace Dtr.Scanning.Versioning;

/// <summary>
/// Lookup of the version comparer for each <see cref="PackageEcosystem"/>.
/// </summary>
public static class VersionComparers
{
    /// <summary>
    /// Returns the comparer that applies <paramref name="ecosystem"/>'s ordering rules.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ecosystem"/> is not a defined <see cref="PackageEcosystem"/> value.</exception>
    public static IVersionComparer For(PackageEcosystem ecosystem) => ecosystem switch
    {
        PackageEcosystem.Dpkg => DpkgVersionComparer.Instance,
        PackageEcosystem.Apk => ApkVersionComparer.Instance,
        PackageEcosystem.Rpm => RpmVersionComparer.Instance,
        PackageEcosystem.NuGet => NuGetVersionComparer.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(ecosystem), ecosystem, $"No version comparer exists for package ecosystem {ecosystem}."),
    };
}

namespace Dtr.Scanning.Versioning;

/// <summary>
/// Package ecosystem whose version syntax and ordering rules apply to a version string.
/// </summary>
public enum PackageEcosystem
{
    /// <summary>Debian and Ubuntu packages, ordered by dpkg's rules.</summary>
    Dpkg,

    /// <summary>Alpine Linux packages, ordered by apk-tools' rules.</summary>
    Apk,

    /// <summary>RPM packages (Fedora, RHEL, SUSE and their derivatives), ordered by rpmvercmp.</summary>
    Rpm,

    /// <summary>NuGet packages, ordered by NuGet's Semantic Versioning 2.0 rules.</summary>
    NuGet,
}

using System.Text.Json.Serialization;
using Dtr.Digests;

namespace Dtr.Scanning.Inventory;

/// <summary>The package manager a package was installed with.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<PackageType>))]
public enum PackageType
{
    /// <summary>A Debian package, from <c>var/lib/dpkg/status</c> or <c>var/lib/dpkg/status.d</c>.</summary>
    Deb,

    /// <summary>An Alpine package, from <c>lib/apk/db/installed</c>.</summary>
    Apk,

    /// <summary>An RPM package, from <c>rpmdb.sqlite</c>.</summary>
    Rpm,

    /// <summary>A .NET library, from a <c>*.deps.json</c> file.</summary>
    NuGet,
}

/// <summary>The operating system an image is built on, as its release files describe it.</summary>
/// <param name="Id">The lowercase <c>ID</c> of <c>os-release</c>, such as <c>debian</c>, <c>alpine</c> or <c>rocky</c>.</param>
/// <param name="VersionId">The <c>VERSION_ID</c>, such as <c>12</c> or <c>3.18.4</c>, or null when no file gives one.</param>
/// <param name="PrettyName">The <c>PRETTY_NAME</c>, or null.</param>
public sealed record OperatingSystemInfo(string Id, string? VersionId, string? PrettyName)
{
    /// <summary>The <c>VERSION_CODENAME</c>, such as <c>bookworm</c>, or null.</summary>
    public string? VersionCodename { get; init; }

    /// <summary>The <c>ID_LIKE</c> values, such as <c>rhel fedora</c> for Rocky Linux; empty when absent.</summary>
    public IReadOnlyList<string> IdLike { get; init; } = [];
}

/// <summary>A package installed in an image.</summary>
/// <param name="Type">The package manager.</param>
/// <param name="Name">The binary package name, such as <c>libc6</c>.</param>
/// <param name="Version">The installed version, in the package manager's syntax (with epoch for dpkg and RPM).</param>
/// <param name="SourceName">
/// The source package it was built from, such as <c>glibc</c> for <c>libc6</c>, which is what Debian, Alpine and RPM
/// advisories name; the binary name when the database gives no source.
/// </param>
/// <param name="SourceVersion">The source package's version when it differs from <paramref name="Version"/>, else null.</param>
/// <param name="Layer">The digest of the layer that brought the package in its installed version.</param>
/// <param name="Path">The path of the file that lists the package, without a leading slash.</param>
public sealed record InstalledPackage(
    PackageType Type,
    string Name,
    string Version,
    string SourceName,
    string? SourceVersion,
    Digest Layer,
    string Path)
{
    /// <summary>The architecture, such as <c>amd64</c> or <c>x86_64</c>, or null.</summary>
    public string? Architecture { get; init; }

    /// <summary>The package's licence as its database gives it, or null.</summary>
    public string? License { get; init; }
}

/// <summary>How far reading a layer got.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LayerReadStatus>))]
public enum LayerReadStatus
{
    /// <summary>Every entry was read.</summary>
    Complete,

    /// <summary>Reading stopped at the limit on decompressed bytes or on entries; later entries were not seen.</summary>
    LimitExceeded,

    /// <summary>
    /// The layer is not a tar archive in a supported compression, or it is truncated or corrupt. A layer also has this
    /// status when it wrote a recognised path of the final filesystem that could not be read, such as a link that
    /// leads to no recognised file.
    /// </summary>
    Unreadable,

    /// <summary>The layer's media type is not a filesystem layer (for example a foreign or encrypted layer), so it was skipped.</summary>
    Skipped,
}

/// <summary>A layer of an image, with how its reading went.</summary>
/// <param name="Digest">The layer blob's digest.</param>
/// <param name="Status">How far reading got.</param>
/// <param name="Message">Why reading stopped or which recognised path could not be read, for any status but <see cref="LayerReadStatus.Complete"/>; otherwise null.</param>
public sealed record LayerReadResult(Digest Digest, LayerReadStatus Status, string? Message);

/// <summary>What an image contains, as the scanner found it: the input to vulnerability matching.</summary>
/// <param name="OperatingSystem">The operating system, or null when the image has no release file (for example a scratch image).</param>
/// <param name="Packages">The installed packages, ordered by type, name and path.</param>
/// <param name="Layers">The image's layers in order, bottom first.</param>
public sealed record ImageInventory(
    OperatingSystemInfo? OperatingSystem,
    IReadOnlyList<InstalledPackage> Packages,
    IReadOnlyList<LayerReadResult> Layers);

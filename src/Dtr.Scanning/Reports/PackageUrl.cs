using System.Text;
using Dtr.Scanning.Inventory;

namespace Dtr.Scanning.Reports;

/// <summary>
/// Builds package URLs (purl, github.com/package-url/purl-spec) for installed packages, such as
/// <c>pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&amp;distro=debian-12</c>.
/// </summary>
public static class PackageUrl
{
    /// <summary>Returns the purl of an installed package in an image built on <paramref name="operatingSystem"/>.</summary>
    /// <remarks>
    /// Deb versions keep their epoch (<c>1:2.4</c>), as the purl deb type does. RPM versions move the epoch into the
    /// <c>epoch</c> qualifier, as the purl rpm type does. Qualifiers are sorted by key, as the specification's
    /// canonical form requires.
    /// </remarks>
    public static string For(InstalledPackage package, OperatingSystemInfo? operatingSystem)
    {
        ArgumentNullException.ThrowIfNull(package);

        var qualifiers = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (package.Architecture is { Length: > 0 } architecture)
        {
            qualifiers["arch"] = architecture;
        }

        string type;
        string? vendor;
        var version = package.Version;
        switch (package.Type)
        {
            case PackageType.Deb:
                type = "deb";
                vendor = operatingSystem?.Id ?? "debian";
                AddDistro(qualifiers, operatingSystem, withId: true);
                break;

            case PackageType.Apk:
                type = "apk";
                vendor = operatingSystem?.Id ?? "alpine";
                AddDistro(qualifiers, operatingSystem, withId: false);
                break;

            case PackageType.Rpm:
                type = "rpm";
                vendor = operatingSystem?.Id;
                AddDistro(qualifiers, operatingSystem, withId: true);
                var colon = version.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && version[..colon].All(char.IsAsciiDigit))
                {
                    qualifiers["epoch"] = version[..colon];
                    version = version[(colon + 1)..];
                }

                break;

            default:
                type = "nuget";
                vendor = null;
                break;
        }

        var builder = new StringBuilder("pkg:").Append(type).Append('/');
        if (vendor is { Length: > 0 })
        {
            builder.Append(Encode(vendor)).Append('/');
        }

        builder.Append(Encode(package.Name)).Append('@').Append(Encode(version));
        var separator = '?';
        foreach (var (key, value) in qualifiers)
        {
            builder.Append(separator).Append(key).Append('=').Append(Encode(value));
            separator = '&';
        }

        return builder.ToString();
    }

    private static void AddDistro(SortedDictionary<string, string> qualifiers, OperatingSystemInfo? operatingSystem, bool withId)
    {
        if (operatingSystem?.VersionId is { Length: > 0 } versionId)
        {
            qualifiers["distro"] = withId ? $"{operatingSystem.Id}-{versionId}" : versionId;
        }
    }

    /// <summary>
    /// Percent-encodes everything but letters, digits, <c>. - _ ~</c> and <c>:</c>, which the purl specification
    /// leaves unencoded. A <c>+</c> becomes <c>%2B</c>, so that no reader can take it for a space.
    /// </summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '~' or ':')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

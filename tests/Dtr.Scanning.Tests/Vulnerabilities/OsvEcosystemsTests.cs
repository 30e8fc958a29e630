using Dtr.Scanning.Inventory;
using Dtr.Scanning.Vulnerabilities;
using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Vulnerabilities;

public class OsvEcosystemsTests
{
    [Theory]
    [InlineData("Debian:12", "Debian:12")]
    [InlineData("Debian:12.4", "Debian:12")]
    [InlineData("Debian", "Debian")]
    [InlineData("Alpine:v3.18", "Alpine:v3.18")]
    [InlineData("Alpine:3.18", "Alpine:v3.18")]
    [InlineData("Alpine:v3.18.4", "Alpine:v3.18")]
    [InlineData("Ubuntu:22.04:LTS", "Ubuntu:22.04")]
    [InlineData("Ubuntu:23.10", "Ubuntu:23.10")]
    [InlineData("Ubuntu:Pro:18.04:LTS", "Ubuntu:Pro:18.04")]
    [InlineData("Rocky Linux:9", "Rocky Linux:9")]
    [InlineData("AlmaLinux:8", "AlmaLinux:8")]
    [InlineData("Red Hat:enterprise_linux:9::baseos", "Red Hat:9")]
    [InlineData("Red Hat:enterprise_linux:9::appstream", "Red Hat:9")]
    [InlineData("Red Hat:rhel_eus:9.2::baseos", "Red Hat:rhel_eus:9.2::baseos")]
    [InlineData("NuGet", "NuGet")]
    [InlineData("npm", "npm")]
    public void NormalizeEcosystem_RecordString_GivesIndexForm(string ecosystem, string expected)
    {
        Assert.Equal(expected, OsvEcosystems.NormalizeEcosystem(ecosystem));
    }

    [Theory]
    [InlineData("debian", "12", PackageType.Deb, new[] { "Debian:12", "Debian" })]
    [InlineData("debian", "11.8", PackageType.Deb, new[] { "Debian:11", "Debian" })]
    [InlineData("ubuntu", "22.04", PackageType.Deb, new[] { "Ubuntu:22.04" })]
    [InlineData("alpine", "3.18.4", PackageType.Apk, new[] { "Alpine:v3.18" })]
    [InlineData("rocky", "9.3", PackageType.Rpm, new[] { "Rocky Linux:9" })]
    [InlineData("almalinux", "8.9", PackageType.Rpm, new[] { "AlmaLinux:8" })]
    [InlineData("rhel", "9.3", PackageType.Rpm, new[] { "Red Hat:9" })]
    [InlineData("alpine", "3.18.4", PackageType.Deb, new string[0])]
    [InlineData("fedora", "39", PackageType.Rpm, new string[0])]
    [InlineData("alpine", "3.18.4", PackageType.NuGet, new[] { "NuGet" })]
    public void ForPackages_OperatingSystem_GivesLookupEcosystems(string id, string versionId, PackageType type, string[] expected)
    {
        Assert.Equal(expected, OsvEcosystems.ForPackages(new OperatingSystemInfo(id, versionId, null), type));
    }

    [Fact]
    public void ForPackages_NoVersionId_GivesNone()
    {
        Assert.Empty(OsvEcosystems.ForPackages(new OperatingSystemInfo("debian", null, "Debian GNU/Linux trixie/sid"), PackageType.Deb));
        Assert.Empty(OsvEcosystems.ForPackages(null, PackageType.Apk));
    }

    [Theory]
    [InlineData("Debian:12", PackageEcosystem.Dpkg)]
    [InlineData("Ubuntu:22.04", PackageEcosystem.Dpkg)]
    [InlineData("Alpine:v3.18", PackageEcosystem.Apk)]
    [InlineData("Rocky Linux:9", PackageEcosystem.Rpm)]
    [InlineData("AlmaLinux:9", PackageEcosystem.Rpm)]
    [InlineData("Red Hat:9", PackageEcosystem.Rpm)]
    [InlineData("NuGet", PackageEcosystem.NuGet)]
    [InlineData("npm", null)]
    public void VersionRulesOf_Ecosystem_GivesComparer(string ecosystem, PackageEcosystem? expected)
    {
        Assert.Equal(expected, OsvEcosystems.VersionRulesOf(ecosystem));
    }

    [Fact]
    public void NormalizePackage_NuGet_Lowercases()
    {
        Assert.Equal("newtonsoft.json", OsvEcosystems.NormalizePackage("NuGet", "Newtonsoft.Json"));
        Assert.Equal("Glibc", OsvEcosystems.NormalizePackage("Debian:12", "Glibc"));
    }
}

using Dtr.Digests;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Reports;

namespace Dtr.Scanning.Tests.Reports;

public class PackageUrlTests
{
    private static readonly Digest Layer = Digest.Compute("layer"u8);

    [Fact]
    public void For_Deb_EncodesPlusAndAddsDistro()
    {
        var package = new InstalledPackage(PackageType.Deb, "libc6", "2.36-9+deb12u1", "glibc", null, Layer, "var/lib/dpkg/status") { Architecture = "amd64" };

        Assert.Equal("pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12", PackageUrl.For(package, new OperatingSystemInfo("debian", "12", null)));
    }

    [Fact]
    public void For_DebWithEpoch_KeepsEpochInVersion()
    {
        var package = new InstalledPackage(PackageType.Deb, "login", "1:4.13+dfsg1-1", "shadow", null, Layer, "var/lib/dpkg/status");

        Assert.Equal("pkg:deb/ubuntu/login@1:4.13%2Bdfsg1-1?distro=ubuntu-22.04", PackageUrl.For(package, new OperatingSystemInfo("ubuntu", "22.04", null)));
    }

    [Fact]
    public void For_Apk_UsesAlpineVersionAsDistro()
    {
        var package = new InstalledPackage(PackageType.Apk, "busybox", "1.36.1-r0", "busybox", null, Layer, "lib/apk/db/installed") { Architecture = "x86_64" };

        Assert.Equal("pkg:apk/alpine/busybox@1.36.1-r0?arch=x86_64&distro=3.18.4", PackageUrl.For(package, new OperatingSystemInfo("alpine", "3.18.4", null)));
    }

    [Fact]
    public void For_RpmWithEpoch_MovesEpochToQualifier()
    {
        var package = new InstalledPackage(PackageType.Rpm, "openssl-libs", "1:3.0.7-25.el9_3", "openssl", null, Layer, "var/lib/rpm/rpmdb.sqlite") { Architecture = "x86_64" };

        Assert.Equal("pkg:rpm/rocky/openssl-libs@3.0.7-25.el9_3?arch=x86_64&distro=rocky-9.3&epoch=1", PackageUrl.For(package, new OperatingSystemInfo("rocky", "9.3", null)));
    }

    [Fact]
    public void For_NuGet_KeepsIdCase()
    {
        var package = new InstalledPackage(PackageType.NuGet, "Newtonsoft.Json", "13.0.3", "Newtonsoft.Json", null, Layer, "app/app.deps.json");

        Assert.Equal("pkg:nuget/Newtonsoft.Json@13.0.3", PackageUrl.For(package, new OperatingSystemInfo("debian", "12", null)));
    }
}

using System.Text;
using static Dtr.EndToEnd.Tests.OciLayoutWriter;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Builds images for the scanning tests from real package databases: this machine's Debian 12 dpkg status file with
/// a few versions rewritten, and an Alpine 3.18 apk database with the field values of real Alpine packages.
/// </summary>
internal static class ScanTestImages
{
    /// <summary>The dpkg status file of the machine running the tests, which is Debian 12.</summary>
    public const string HostDpkgStatusPath = "/var/lib/dpkg/status";

    /// <summary>The glibc version of Debian 12 before the fix for CVE-2023-4911.</summary>
    public const string VulnerableGlibcVersion = "2.36-9+deb12u1";

    /// <summary>The first Debian 12 glibc version with the fix for CVE-2023-4911.</summary>
    public const string FixedGlibcVersion = "2.36-9+deb12u3";

    /// <summary>The OpenSSL version of Debian 12 before the fix for CVE-2023-5363.</summary>
    public const string VulnerableOpenSslVersion = "3.0.11-1~deb12u1";

    /// <summary>The first Debian 12 OpenSSL version with the fix for CVE-2023-5363.</summary>
    public const string FixedOpenSslVersion = "3.0.11-1~deb12u2";

    /// <summary>The <c>/usr/lib/os-release</c> of Debian 12, to which Debian's <c>/etc/os-release</c> is a symbolic link.</summary>
    private const string DebianOsRelease =
        """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian
        HOME_URL="https://www.debian.org/"
        SUPPORT_URL="https://www.debian.org/support"
        BUG_REPORT_URL="https://bugs.debian.org/"

        """;

    /// <summary>The <c>/etc/os-release</c> of Alpine Linux 3.18.4.</summary>
    private const string AlpineOsRelease =
        """
        NAME="Alpine Linux"
        ID=alpine
        VERSION_ID=3.18.4
        PRETTY_NAME="Alpine Linux v3.18"
        HOME_URL="https://alpinelinux.org/"
        BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"

        """;

    /// <summary>
    /// An Alpine 3.18 <c>/lib/apk/db/installed</c> with five packages. The busybox, ssl_client and zlib entries carry
    /// the versions and origins of Alpine 3.18's packages; the checksums, sizes and install timestamps are placeholders.
    /// </summary>
    private const string AlpineInstalled =
        """
        C:Q1aXnJcB7M8+tR4Mg0xU1mW6kL2YQ=
        P:musl
        V:1.2.4-r2
        A:x86_64
        S:383304
        I:622592
        T:the musl c library (libc) implementation
        U:https://musl.libc.org/
        L:MIT
        o:musl
        m:Timo Teräs <timo.teras@iki.fi>
        t:1695313000
        p:so:libc.musl-x86_64.so.1=1
        F:lib
        R:ld-musl-x86_64.so.1
        a:0:0:755
        R:libc.musl-x86_64.so.1

        C:Q1Hq3LrNq4rT0a9Yk2vPZ5cW8dE1o=
        P:busybox
        V:1.36.1-r0
        A:x86_64
        S:509338
        I:946176
        T:Size optimized toolbox of many common UNIX utilities
        U:https://busybox.net/
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        t:1685540536
        D:so:libc.musl-x86_64.so.1
        p:/bin/sh cmd:busybox=1.36.1-r0 cmd:sh=1.36.1-r0
        r:busybox-initscripts
        F:bin
        R:busybox
        a:0:0:755
        R:sh

        C:Q1vB2N0T8m3Yw7pKc1aXf9uJ6rL4s=
        P:zlib
        V:1.2.13-r1
        A:x86_64
        S:54006
        I:110592
        T:A compression/decompression Library
        U:https://zlib.net/
        L:Zlib
        o:zlib
        m:Natanael Copa <ncopa@alpinelinux.org>
        t:1681228881
        D:so:libc.musl-x86_64.so.1
        p:so:libz.so.1=1.2.13
        F:lib
        R:libz.so.1
        a:0:0:777
        R:libz.so.1.2.13

        C:Q1pR8kD2wZ5nYc6hL0tF3sV9aE7m=
        P:apk-tools
        V:2.14.0-r2
        A:x86_64
        S:122126
        I:307200
        T:Alpine Package Keeper - package manager for alpine
        U:https://gitlab.alpinelinux.org/alpine/apk-tools
        L:GPL-2.0-only
        o:apk-tools
        m:Natanael Copa <ncopa@alpinelinux.org>
        t:1681228881
        D:musl>=1.2 ca-certificates-bundle so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3 so:libz.so.1
        p:so:libapk.so.2.14.0=2.14.0 cmd:apk=2.14.0-r2
        F:sbin
        R:apk
        a:0:0:755

        C:Q1sT4hW9cM2xE6nJ8bG1kY3pR5dA=
        P:ssl_client
        V:1.36.1-r0
        A:x86_64
        S:4985
        I:20480
        T:EXternal ssl_client for busybox wget
        U:https://busybox.net/
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        t:1685540536
        D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3
        p:cmd:ssl_client=1.36.1-r0
        i:busybox=1.36.1-r0 libssl3
        F:usr
        F:usr/bin
        R:ssl_client
        a:0:0:755


        """;

    /// <summary>
    /// Writes a two-layer Debian 12 image to a new layout, as <see cref="DebianLayers"/> describes, named
    /// <paramref name="referenceName"/> in index.json.
    /// </summary>
    public static ImageManifest WriteDebianLayout(string layoutDirectory, string referenceName, string glibcVersion, string openSslVersion)
    {
        var layout = new OciLayoutWriter(layoutDirectory);
        var image = layout.WriteImage(Platform.LinuxAmd64, DebianLayers(glibcVersion, openSslVersion));
        layout.WriteEntryPoint((image.Manifest, referenceName));
        return image;
    }

    /// <summary>
    /// Returns the two layers of a Debian 12 image. The first holds <c>os-release</c> and this machine's dpkg status
    /// file as it is, and the second a copy of the status file in which <c>libc6</c> (source glibc) is at
    /// <paramref name="glibcVersion"/> and <c>openssl</c> and <c>libssl3</c> are at <paramref name="openSslVersion"/>.
    /// The second layer's digest is the layer a scanner must report for those packages.
    /// </summary>
    public static (LayerContent Content, LayerCompression Compression)[] DebianLayers(string glibcVersion, string openSslVersion)
    {
        var original = ReadHostDpkgStatus();
        var rewritten = RewriteDpkgVersions(original, new Dictionary<string, string>
        {
            ["libc6"] = glibcVersion,
            ["openssl"] = openSslVersion,
            ["libssl3"] = openSslVersion,
        });

        var baseLayer = new LayerContent()
            .AddDirectory("etc")
            .AddDirectory("usr")
            .AddDirectory("usr/lib")
            .AddFile("usr/lib/os-release", Encoding.UTF8.GetBytes(DebianOsRelease))
            .AddSymbolicLink("etc/os-release", "../usr/lib/os-release")
            .AddDirectory("var")
            .AddDirectory("var/lib")
            .AddDirectory("var/lib/dpkg")
            .AddFile("var/lib/dpkg/status", Encoding.UTF8.GetBytes(original));
        var updateLayer = new LayerContent()
            .AddDirectory("var")
            .AddDirectory("var/lib")
            .AddDirectory("var/lib/dpkg")
            .AddFile("var/lib/dpkg/status", Encoding.UTF8.GetBytes(rewritten));
        return [(baseLayer, LayerCompression.Gzip), (updateLayer, LayerCompression.Gzip)];
    }

    /// <summary>
    /// Writes a one-layer Alpine 3.18 image to a new layout, as <see cref="AlpineLayer"/> describes, named
    /// <paramref name="referenceName"/> in index.json.
    /// </summary>
    public static ImageManifest WriteAlpineLayout(string layoutDirectory, string referenceName, long paddingBytes = 0, int paddingSeed = 0)
    {
        var layout = new OciLayoutWriter(layoutDirectory);
        var image = layout.WriteImage(Platform.LinuxAmd64, [AlpineLayer(paddingBytes, paddingSeed)]);
        layout.WriteEntryPoint((image.Manifest, referenceName));
        return image;
    }

    /// <summary>
    /// Returns the layer of an Alpine 3.18 image: <c>os-release</c>, <c>alpine-release</c> and the apk database, plus
    /// <paramref name="paddingBytes"/> of incompressible data in <c>/opt/padding</c> when it is above zero, which makes
    /// the layer distinct per <paramref name="paddingSeed"/> and slower to read.
    /// </summary>
    public static (LayerContent Content, LayerCompression Compression) AlpineLayer(long paddingBytes = 0, int paddingSeed = 0)
    {
        var layer = new LayerContent()
            .AddDirectory("etc")
            .AddFile("etc/os-release", Encoding.UTF8.GetBytes(AlpineOsRelease))
            .AddFile("etc/alpine-release", Encoding.UTF8.GetBytes("3.18.4\n"))
            .AddDirectory("lib")
            .AddDirectory("lib/apk")
            .AddDirectory("lib/apk/db")
            .AddFile("lib/apk/db/installed", Encoding.UTF8.GetBytes(AlpineInstalled));
        if (paddingBytes <= 0)
        {
            return (layer, LayerCompression.Gzip);
        }

        // The tar writer needs the file's length up front, so the padding is made in memory; it is a few MiB at most.
        var padding = new byte[paddingBytes];
        new Random(paddingSeed).NextBytes(padding);
        layer.AddDirectory("opt").AddFile("opt/padding", padding);
        return (layer, LayerCompression.GzipFastest);
    }

    /// <summary>Reads this machine's dpkg status file, failing the test with the reason when it is missing.</summary>
    private static string ReadHostDpkgStatus()
    {
        Assert.True(File.Exists(HostDpkgStatusPath),
            $"{HostDpkgStatusPath} is missing. The scanning tests build their Debian image from the dpkg database of the Debian 12 machine that runs them.");
        var status = File.ReadAllText(HostDpkgStatusPath);
        foreach (var package in new[] { "libc6", "openssl", "libssl3" })
        {
            Assert.True(status.Contains($"\nPackage: {package}\n", StringComparison.Ordinal),
                $"{HostDpkgStatusPath} has no '{package}' entry; install it with apt-get, or run the tests on a Debian 12 machine that has it.");
        }

        return status;
    }

    /// <summary>
    /// Returns the dpkg status file with the <c>Version</c> of each named package replaced, and the version in its
    /// <c>Source: name (version)</c> field too when the field gives one.
    /// </summary>
    internal static string RewriteDpkgVersions(string status, IReadOnlyDictionary<string, string> versions)
    {
        var stanzas = status.Replace("\r\n", "\n", StringComparison.Ordinal).Split("\n\n");
        var rewritten = new List<string>(stanzas.Length);
        var found = new HashSet<string>(StringComparer.Ordinal);
        foreach (var stanza in stanzas)
        {
            var lines = stanza.Split('\n');
            var package = lines.FirstOrDefault(l => l.StartsWith("Package: ", StringComparison.Ordinal))?["Package: ".Length..];
            if (package is null || !versions.TryGetValue(package, out var version))
            {
                rewritten.Add(stanza);
                continue;
            }

            found.Add(package);
            for (var i = 0; i < lines.Length; i++)
            {
                if (lines[i].StartsWith("Version: ", StringComparison.Ordinal))
                {
                    lines[i] = "Version: " + version;
                }
                else if (lines[i].StartsWith("Source: ", StringComparison.Ordinal) && lines[i].EndsWith(')'))
                {
                    var sourceName = lines[i]["Source: ".Length..].Split(' ', 2)[0];
                    lines[i] = $"Source: {sourceName} ({version})";
                }
            }

            rewritten.Add(string.Join('\n', lines));
        }

        var missing = versions.Keys.Where(name => !found.Contains(name)).ToList();
        Assert.True(missing.Count == 0, $"The dpkg status file has no entry for [{string.Join(", ", missing)}], so their versions could not be rewritten.");
        return string.Join("\n\n", rewritten);
    }
}

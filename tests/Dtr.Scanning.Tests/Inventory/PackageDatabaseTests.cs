using System.Runtime.InteropServices;
using System.Text;
using Dtr.Scanning.Inventory;

namespace Dtr.Scanning.Tests.Inventory;

public class PackageDatabaseTests
{
    private const string DebianOsRelease = """
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

    private const string AlpineOsRelease = """
        NAME="Alpine Linux"
        ID=alpine
        VERSION_ID=3.18.4
        PRETTY_NAME="Alpine Linux v3.18"
        HOME_URL="https://alpinelinux.org/"
        BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"

        """;

    // Entries as apk-tools 2.14 writes them in Alpine 3.18, shortened to a few file lines each.
    private const string AlpineInstalled = """
        C:Q1e3jFmYQnX9pd0W3Wvbj5VkI2tmU=
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
        t:1696340806
        c:1b6d9b1a1ad4ffd48a6be28d10b5d8cdb7ea7cd9
        p:so:libc.musl-x86_64.so.1=1
        F:lib
        R:ld-musl-x86_64.so.1
        a:0:0:755
        Z:Q1oJWrpv1Rl6tGmeXbvjv8ZcFpcBA=
        R:libc.musl-x86_64.so.1
        a:0:0:777
        Z:Q17yJ3JFNypA4mxhJJr0ou6CzsJVI=

        C:Q1X4sZ5q0IuLF+DYLH5/mXIUUDtr8=
        P:busybox
        V:1.36.1-r0
        A:x86_64
        S:505960
        I:959488
        T:Size optimized toolbox of many common UNIX utilities
        U:https://busybox.net/
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        t:1684937540
        c:fc9d0a1c1ba6b54ae4e89f43d4d6bdb1b9d09d6c
        D:so:libc.musl-x86_64.so.1
        p:/bin/sh cmd:busybox=1.36.1-r0 cmd:sh=1.36.1-r0
        r:busybox-initscripts
        F:bin
        R:busybox
        a:0:0:755
        Z:Q1WUwBY0eOGgzhVxTZxu/XrXgX7hk=

        C:Q1kMdQ3ZXdtyVq3Af9G7dU+3nWRqw=
        P:zlib
        V:1.2.13-r1
        A:x86_64
        S:53434
        I:110592
        T:A compression/decompression Library
        U:https://zlib.net/
        L:Zlib
        o:zlib
        m:Natanael Copa <ncopa@alpinelinux.org>
        t:1683131785
        c:7b08ba6a3b5ddeb3a2f3d5dcd3ca6a1bdc4d2b81
        D:so:libc.musl-x86_64.so.1
        p:so:libz.so.1=1.2.13
        F:lib
        R:libz.so.1
        a:0:0:777
        Z:Q1+aBjyJ7dmLatVkyqCNnAChlDZh8=

        C:Q1PpD0IZcFSgmpPUQqJqnRzxeq/mY=
        P:apk-tools
        V:2.14.0-r2
        A:x86_64
        S:121101
        I:307200
        T:Alpine Package Keeper - package manager for alpine
        U:https://gitlab.alpinelinux.org/alpine/apk-tools
        L:GPL-2.0-only
        o:apk-tools
        m:Natanael Copa <ncopa@alpinelinux.org>
        t:1684329934
        c:d4f1d6b4e4fda5b8fa18d5ba0f1c36b6e3e7b6a1
        D:musl>=1.2.3_git20230424 ca-certificates-bundle so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3 so:libz.so.1
        p:so:libapk.so.2.14.0=2.14.0 cmd:apk=2.14.0-r2
        F:sbin
        R:apk
        a:0:0:755
        Z:Q1MzYtkGo6cGjWQXemDhVEtQ/fbJI=

        C:Q1AVNNzHNZJ0jtGzL3DXZDo2Sp63g=
        P:ssl_client
        V:1.36.1-r0
        A:x86_64
        S:4969
        I:28672
        T:EXternal ssl_client for busybox wget
        U:https://busybox.net/
        L:GPL-2.0-only
        o:busybox
        m:Sören Tempel <soeren+alpine@soeren-tempel.net>
        t:1684937540
        c:fc9d0a1c1ba6b54ae4e89f43d4d6bdb1b9d09d6c
        D:so:libc.musl-x86_64.so.1 so:libcrypto.so.3 so:libssl.so.3
        i:busybox=1.36.1-r0 libssl3
        F:usr
        F:usr/bin
        R:ssl_client
        a:0:0:755
        Z:Q1nbK4cWn+9mJ5XbgdaibCJYprSCY=

        """;

    [Fact]
    public async Task DpkgStatus_OfThisMachine()
    {
        var status = await File.ReadAllTextAsync("/var/lib/dpkg/status");
        var layer = new TestLayer().File("etc/os-release", DebianOsRelease).File("var/lib/dpkg/status", status).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        var libc = Analysis.Single(inventory, PackageType.Deb, "libc6");
        Assert.Equal("glibc", libc.SourceName);
        Assert.Null(libc.SourceVersion);
        Assert.Equal(FieldOf(status, "libc6", "Version"), libc.Version);
        Assert.Equal(FieldOf(status, "libc6", "Architecture"), libc.Architecture);
        Assert.Equal("var/lib/dpkg/status", libc.Path);
        var installedCount = status.Split('\n').Count(line => line == "Status: install ok installed");
        Assert.Equal(installedCount, inventory.Packages.Count);
    }

    [Fact]
    public async Task DpkgStatus_DropsRemovedPackages()
    {
        var status = await File.ReadAllTextAsync("/var/lib/dpkg/status");
        var removed = """
            Package: dtr-removed-tool
            Status: deinstall ok config-files
            Priority: optional
            Section: utils
            Installed-Size: 120
            Maintainer: Nobody <nobody@example.org>
            Architecture: amd64
            Version: 1.0-1
            Conffiles:
             /etc/dtr-removed-tool.conf 0123456789abcdef0123456789abcdef
            Description: a package removed with its configuration kept
             It stays in the status file until it is purged.

            """;
        var layer = new TestLayer().File("var/lib/dpkg/status", removed + "\n" + status).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.DoesNotContain(inventory.Packages, package => package.Name == "dtr-removed-tool");
        Analysis.Single(inventory, PackageType.Deb, "libc6");
    }

    [Fact]
    public async Task DpkgStatus_ParsesHardParagraphs()
    {
        var status = """
            Package: libssl3
            Status: hold ok installed
            Architecture: amd64
            Source: openssl (3.0.11-1~deb12u2)
            Version: 3.0.11-1~deb12u2+b1
            Description: Secure Sockets Layer toolkit - shared libraries
             This package is part of the OpenSSL project's implementation.
             Package: not-a-package
             .
             Version: 9.9
            Homepage: https://www.openssl.org/

            Package: half
            Status: install ok half-configured
            Version: 1.0


            Package: bash
            Status: install ok installed
            Version: 5.2.15-2+b2
            Source: bash (5.2.15-2)
            Architecture: amd64
            """.Replace("\n", "\r\n", StringComparison.Ordinal);
        var layer = new TestLayer().File("var/lib/dpkg/status", status).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(["bash", "libssl3"], inventory.Packages.Select(package => package.Name));
        var ssl = Analysis.Single(inventory, PackageType.Deb, "libssl3");
        Assert.Equal("openssl", ssl.SourceName);
        Assert.Equal("3.0.11-1~deb12u2", ssl.SourceVersion);
        Assert.Equal("3.0.11-1~deb12u2+b1", ssl.Version);
        Assert.Equal("5.2.15-2", Analysis.Single(inventory, PackageType.Deb, "bash").SourceVersion);
    }

    [Fact]
    public async Task DpkgStatusD_Distroless()
    {
        var layer = new TestLayer()
            .File("var/lib/dpkg/status.d/base", """
                Package: base-files
                Version: 12.4+deb12u5
                Architecture: amd64
                Maintainer: Santiago Vila <sanvila@debian.org>
                Installed-Size: 341

                """)
            .File("var/lib/dpkg/status.d/libc6", """
                Package: libc6
                Version: 2.36-9+deb12u4
                Architecture: amd64
                Source: glibc
                Installed-Size: 12987

                """)
            .File("var/lib/dpkg/status.d/libc6.md5sums", "0123456789abcdef0123456789abcdef  lib/x86_64-linux-gnu/libc.so.6\n")
            .File("etc/debian_version", "12.5\n")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(["base-files", "libc6"], inventory.Packages.Select(package => package.Name));
        var libc = Analysis.Single(inventory, PackageType.Deb, "libc6");
        Assert.Equal("glibc", libc.SourceName);
        Assert.Equal("var/lib/dpkg/status.d/libc6", libc.Path);
        Assert.Equal("base-files", Analysis.Single(inventory, PackageType.Deb, "base-files").SourceName);
        AssertOperatingSystem(inventory.OperatingSystem, "debian", "12.5", null);
    }

    [Fact]
    public async Task DebianOsRelease_Parsed()
    {
        var inventory = await Analysis.InventoryAsync(new TestLayer().File("etc/os-release", DebianOsRelease).Build());

        var os = inventory.OperatingSystem;
        Assert.NotNull(os);
        Assert.Equal("debian", os.Id);
        Assert.Equal("12", os.VersionId);
        Assert.Equal("Debian GNU/Linux 12 (bookworm)", os.PrettyName);
        Assert.Equal("bookworm", os.VersionCodename);
        Assert.Empty(os.IdLike);
    }

    [Fact]
    public async Task RockyOsRelease_IdLike()
    {
        var osRelease = """
            NAME="Rocky Linux"
            VERSION="9.3 (Blue Onyx)"
            ID="rocky"
            ID_LIKE="rhel centos fedora"
            VERSION_ID="9.3"
            PLATFORM_ID="platform:el9"
            PRETTY_NAME="Rocky Linux 9.3 (Blue Onyx)"
            """;

        var inventory = await Analysis.InventoryAsync(new TestLayer().File("usr/lib/os-release", osRelease).Build());

        Assert.NotNull(inventory.OperatingSystem);
        Assert.Equal("rocky", inventory.OperatingSystem.Id);
        Assert.Equal(["rhel", "centos", "fedora"], inventory.OperatingSystem.IdLike);
    }

    [Fact]
    public async Task Alpine_PackagesAndRelease()
    {
        var layer = new TestLayer()
            .File("etc/alpine-release", "3.18.4\n")
            .File("etc/os-release", AlpineOsRelease)
            .File("lib/apk/db/installed", AlpineInstalled)
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        AssertOperatingSystem(inventory.OperatingSystem, "alpine", "3.18.4", "Alpine Linux v3.18");
        Assert.Equal(["apk-tools", "busybox", "musl", "ssl_client", "zlib"], inventory.Packages.Select(package => package.Name));
        var busybox = Analysis.Single(inventory, PackageType.Apk, "busybox");
        Assert.Equal("1.36.1-r0", busybox.Version);
        Assert.Equal("busybox", busybox.SourceName);
        Assert.Equal("x86_64", busybox.Architecture);
        Assert.Equal("GPL-2.0-only", busybox.License);
        Assert.Equal("lib/apk/db/installed", busybox.Path);
        Assert.Equal("busybox", Analysis.Single(inventory, PackageType.Apk, "ssl_client").SourceName);
        Assert.Equal("1.2.13-r1", Analysis.Single(inventory, PackageType.Apk, "zlib").Version);
        Assert.Equal("Zlib", Analysis.Single(inventory, PackageType.Apk, "zlib").License);
    }

    [Fact]
    public async Task AlpineRelease_WithoutOsRelease()
    {
        var inventory = await Analysis.InventoryAsync(new TestLayer().File("etc/alpine-release", "3.18.4\n").Build());

        AssertOperatingSystem(inventory.OperatingSystem, "alpine", "3.18.4", null);
    }

    [Theory]
    [InlineData("var/lib/rpm/rpmdb.sqlite")]
    [InlineData("usr/lib/sysimage/rpm/rpmdb.sqlite")]
    public async Task RpmDatabase_BuiltByRpm(string path)
    {
        // Written by rpm 4.18 (Debian 12's rpm package) with --initdb and --justdb installs of two packages built by
        // rpmbuild: dtr-hello (epoch 2) and dtr-plain (no epoch). The file is in WAL mode, as rpm leaves it.
        var database = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "rpmdb.sqlite"));
        var layer = new TestLayer().File(path, database).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(["dtr-hello", "dtr-plain"], inventory.Packages.Select(package => package.Name));
        var hello = Analysis.Single(inventory, PackageType.Rpm, "dtr-hello");
        Assert.Equal("2:1.2.3-4.el9", hello.Version);
        Assert.Equal("dtr-hello", hello.SourceName);
        Assert.Null(hello.SourceVersion);
        Assert.Equal("noarch", hello.Architecture);
        Assert.Equal("MIT AND Apache-2.0", hello.License);
        Assert.Equal(path, hello.Path);
        var plain = Analysis.Single(inventory, PackageType.Rpm, "dtr-plain");
        Assert.Equal("0.9-1", plain.Version);
        Assert.Equal("GPL-2.0-only", plain.License);
    }

    [Fact]
    public async Task RpmDatabase_NotSqlite()
    {
        var layer = new TestLayer().File("var/lib/rpm/rpmdb.sqlite", "not a database").Build();

        var json = await Analysis.AnalyzeAsync(layer);
        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Contains("could not be parsed", json, StringComparison.Ordinal);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.StartsWith("'var/lib/rpm/rpmdb.sqlite': The file could not be parsed", result.Message, StringComparison.Ordinal);
        Assert.Empty(inventory.Packages);
    }

    [Fact]
    public void RpmHeader_BuiltByHand()
    {
        var blob = RpmHeader(
            (1000, 6, "glibc-common"),
            (1001, 6, "2.34"),
            (1002, 6, "100.el9_4.2"),
            (1003, 4, 1),
            (1014, 6, "LGPLv2+ and GPLv2+"),
            (1022, 6, "x86_64"),
            (1044, 6, "glibc-2.34-100.el9_4.2.src.rpm"));

        var package = RpmHeaderParser.Parse(blob);

        Assert.NotNull(package);
        Assert.Equal("glibc-common", package.Name);
        Assert.Equal("1:2.34-100.el9_4.2", package.Version);
        Assert.Equal("glibc", package.SourceName);
        Assert.Null(package.SourceVersion);
        Assert.Equal("x86_64", package.Architecture);
        Assert.Equal("LGPLv2+ and GPLv2+", package.License);
    }

    [Fact]
    public void RpmHeader_SourceNameFromFileName()
    {
        var blob = RpmHeader(
            (1000, 6, "python3-libs"),
            (1001, 6, "3.9.18"),
            (1002, 6, "3.el9"),
            (1044, 6, "python3.9-3.9.18-3.el9.src.rpm"));

        var package = RpmHeaderParser.Parse(blob);

        Assert.NotNull(package);
        Assert.Equal("python3.9", package.SourceName);
        Assert.Null(package.SourceVersion);
        Assert.Equal("3.9.18-3.el9", package.Version);
        Assert.Equal(("kernel", "5.14.0-362.el9"), RpmHeaderParser.ParseSourceRpm("kernel-5.14.0-362.el9.src.rpm", 0));
        Assert.Equal(("shadow-utils", "2:4.9-8.el9"), RpmHeaderParser.ParseSourceRpm("shadow-utils-4.9-8.el9.src.rpm", 2));
    }

    [Fact]
    public void RpmHeader_Malformed()
    {
        Assert.Throws<FormatException>(() => RpmHeaderParser.Parse([0, 0, 0]));
        Assert.Throws<FormatException>(() => RpmHeaderParser.Parse([0, 0, 0, 100, 0, 0, 0, 0]));
        Assert.Throws<FormatException>(() => RpmHeaderParser.Parse([0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff]));
    }

    [Fact]
    public async Task DepsJson_AppPackages()
    {
        var depsJson = """
            {
              "runtimeTarget": { "name": ".NETCoreApp,Version=v8.0/linux-x64", "signature": "" },
              "targets": {},
              "libraries": {
                "MyApp/1.0.0": { "type": "project", "serviceable": false, "sha512": "" },
                "Newtonsoft.Json/13.0.1": { "type": "package", "serviceable": true, "sha512": "sha512-x", "path": "newtonsoft.json/13.0.1" },
                "System.Text.Encodings.Web/4.7.1": { "type": "package", "serviceable": true, "sha512": "sha512-y" },
                "runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1": { "type": "runtimepack", "serviceable": false, "sha512": "" },
                "Local.Reference/1.0.0.0": { "type": "reference", "serviceable": false, "sha512": "" }
              }
            }
            """;
        var layer = new TestLayer().File("app/MyApp.deps.json", depsJson).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(
            ["Microsoft.NETCore.App.Runtime.linux-x64", "Newtonsoft.Json", "System.Text.Encodings.Web"],
            inventory.Packages.Select(package => package.Name));
        Assert.All(inventory.Packages, package => Assert.Equal(PackageType.NuGet, package.Type));
        Assert.All(inventory.Packages, package => Assert.Equal("app/MyApp.deps.json", package.Path));
        Assert.Equal("13.0.1", Analysis.Single(inventory, PackageType.NuGet, "Newtonsoft.Json").Version);
        Assert.Equal("8.0.1", Analysis.Single(inventory, PackageType.NuGet, "Microsoft.NETCore.App.Runtime.linux-x64").Version);
    }

    [Fact]
    public async Task DepsJson_SharedFrameworkOfThisMachine()
    {
        // The running runtime's folder is shared/Microsoft.NETCore.App/<version>/, with the framework's deps.json.
        var runtimeDirectory = RuntimeEnvironment.GetRuntimeDirectory().TrimEnd('/');
        var version = Path.GetFileName(runtimeDirectory);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(runtimeDirectory, "Microsoft.NETCore.App.deps.json"));
        var path = $"usr/share/dotnet/shared/Microsoft.NETCore.App/{version}/Microsoft.NETCore.App.deps.json";
        var layer = new TestLayer().File(path, bytes).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        var framework = Analysis.Single(inventory, PackageType.NuGet, "Microsoft.NETCore.App");
        Assert.Equal(version, framework.Version);
        Assert.Equal(path, framework.Path);
        var runtimePack = Assert.Single(inventory.Packages, package => package.Name.StartsWith("Microsoft.NETCore.App.Runtime.", StringComparison.Ordinal));
        Assert.Equal(version, runtimePack.Version);
    }

    [Fact]
    public async Task DepsJson_Invalid()
    {
        var layer = new TestLayer().File("app/Broken.deps.json", "{ \"libraries\": ").Build();

        var json = await Analysis.AnalyzeAsync(layer);

        Assert.Contains("could not be parsed", json, StringComparison.Ordinal);
        Assert.Empty((await Analysis.InventoryAsync(layer)).Packages);
    }

    // OperatingSystemInfo is a record, but its IdLike list compares by reference, so the fields are compared one by one.
    internal static void AssertOperatingSystem(OperatingSystemInfo? actual, string id, string? versionId, string? prettyName)
    {
        Assert.NotNull(actual);
        Assert.Equal(id, actual.Id);
        Assert.Equal(versionId, actual.VersionId);
        Assert.Equal(prettyName, actual.PrettyName);
    }

    private static string? FieldOf(string status, string package, string field)
    {
        var paragraph = status.Split("\n\n").Single(text => text.StartsWith($"Package: {package}\n", StringComparison.Ordinal));
        return paragraph.Split('\n').Single(line => line.StartsWith(field + ": ", StringComparison.Ordinal))[(field.Length + 2)..];
    }

    /// <summary>Builds an RPM header blob: index count, data length, 16-byte index entries, then the data.</summary>
    private static byte[] RpmHeader(params (int Tag, int Type, object Value)[] entries)
    {
        var data = new List<byte>();
        var index = new List<byte>();
        foreach (var (tag, type, value) in entries)
        {
            if (type == 4)
            {
                // INT32 values are aligned to 4 bytes in the data area.
                while (data.Count % 4 != 0)
                {
                    data.Add(0);
                }
            }

            index.AddRange(BigEndian(tag));
            index.AddRange(BigEndian(type));
            index.AddRange(BigEndian(data.Count));
            index.AddRange(BigEndian(1));
            data.AddRange(value is int number ? BigEndian(number) : [.. Encoding.UTF8.GetBytes((string)value), 0]);
        }

        return [.. BigEndian(entries.Length), .. BigEndian(data.Count), .. index, .. data];
    }

    private static byte[] BigEndian(int value) => [(byte)(value >> 24), (byte)(value >> 16), (byte)(value >> 8), (byte)value];
}

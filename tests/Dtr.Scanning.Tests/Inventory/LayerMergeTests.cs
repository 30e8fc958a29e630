using Dtr.Digests;
using Dtr.Scanning.Inventory;

namespace Dtr.Scanning.Tests.Inventory;

public class LayerMergeTests
{
    private const string DebianOsRelease = """
        PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
        NAME="Debian GNU/Linux"
        VERSION_ID="12"
        VERSION="12 (bookworm)"
        VERSION_CODENAME=bookworm
        ID=debian
        """;

    [Fact]
    public async Task Whiteout_RemovesLowerFile()
    {
        var lower = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();
        var upper = new TestLayer().Whiteout("var/lib/dpkg/status").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Empty(inventory.Packages);
        Assert.Equal(2, inventory.Layers.Count);
    }

    [Fact]
    public async Task Whiteout_OfFolderRemovesFilesBelow()
    {
        var lower = new TestLayer()
            .File("app/one/One.deps.json", DepsJson("Newtonsoft.Json", "13.0.1"))
            .File("app/two/Two.deps.json", DepsJson("Serilog", "3.1.1"))
            .Build();
        var upper = new TestLayer().Whiteout("app/one").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Equal("Serilog", Assert.Single(inventory.Packages).Name);
    }

    [Fact]
    public async Task Whiteout_AppliesOnlyToLowerLayers()
    {
        // A layer that removes a file and writes a new one at the same path keeps its own file.
        var lower = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();
        var upper = new TestLayer().Whiteout("var/lib/dpkg/status").File("var/lib/dpkg/status", Status(("libc6", "2.36-9+deb12u4"))).Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        var libc = Analysis.Single(inventory, PackageType.Deb, "libc6");
        Assert.Equal("2.36-9+deb12u4", libc.Version);
        Assert.Equal(Digest.Compute(upper), libc.Layer);
    }

    [Fact]
    public async Task OpaqueDirectory_HidesLowerContent()
    {
        var lower = new TestLayer()
            .File("var/lib/dpkg/status.d/libc6", Status(("libc6", "2.36-9")))
            .File("var/lib/dpkg/status.d/zlib1g", Status(("zlib1g", "1:1.2.13.dfsg-1")))
            .Build();
        var upper = new TestLayer()
            .Opaque("var/lib/dpkg/status.d")
            .File("var/lib/dpkg/status.d/tzdata", Status(("tzdata", "2024a-0+deb12u1")))
            .Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        var tzdata = Assert.Single(inventory.Packages);
        Assert.Equal("tzdata", tzdata.Name);
        Assert.Equal(Digest.Compute(upper), tzdata.Layer);
    }

    [Fact]
    public async Task OpaqueDirectory_KeepsSiblings()
    {
        var lower = new TestLayer()
            .File("var/lib/dpkg/status", Status(("libc6", "2.36-9")))
            .File("app/App.deps.json", DepsJson("Serilog", "3.1.1"))
            .Build();
        var upper = new TestLayer().Opaque("app").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Equal("libc6", Assert.Single(inventory.Packages).Name);
    }

    [Fact]
    public async Task Upgrade_MovesLayer()
    {
        var baseLayer = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"), ("zlib1g", "1:1.2.13.dfsg-1"))).Build();
        var upgrade = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9+deb12u4"), ("zlib1g", "1:1.2.13.dfsg-1"))).Build();

        var inventory = await Analysis.InventoryAsync(baseLayer, upgrade);

        var libc = Analysis.Single(inventory, PackageType.Deb, "libc6");
        Assert.Equal("2.36-9+deb12u4", libc.Version);
        Assert.Equal(Digest.Compute(upgrade), libc.Layer);

        // The rewritten status file still lists zlib1g unchanged, so it stays with the base layer.
        Assert.Equal(Digest.Compute(baseLayer), Analysis.Single(inventory, PackageType.Deb, "zlib1g").Layer);
    }

    [Fact]
    public async Task Reinstall_AfterRemovalStartsAgain()
    {
        var first = new TestLayer().File("var/lib/dpkg/status", Status(("curl", "7.88.1-10"))).Build();
        var removal = new TestLayer().File("var/lib/dpkg/status", Status(("bash", "5.2.15-2"))).Build();
        var reinstall = new TestLayer().File("var/lib/dpkg/status", Status(("bash", "5.2.15-2"), ("curl", "7.88.1-10"))).Build();

        var inventory = await Analysis.InventoryAsync(first, removal, reinstall);

        Assert.Equal(Digest.Compute(reinstall), Analysis.Single(inventory, PackageType.Deb, "curl").Layer);
        Assert.Equal(Digest.Compute(removal), Analysis.Single(inventory, PackageType.Deb, "bash").Layer);
    }

    [Fact]
    public async Task UnrelatedLayer_KeepsPackageLayers()
    {
        var baseLayer = new TestLayer().File("etc/os-release", DebianOsRelease).File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();
        var app = new TestLayer().File("app/data.txt", "hello").Whiteout("tmp/cache").Build();

        var inventory = await Analysis.InventoryAsync(baseLayer, app);

        Assert.Equal(Digest.Compute(baseLayer), Analysis.Single(inventory, PackageType.Deb, "libc6").Layer);
        Assert.Equal([Digest.Compute(baseLayer), Digest.Compute(app)], inventory.Layers.Select(layer => layer.Digest));
        Assert.All(inventory.Layers, layer => Assert.Equal(LayerReadStatus.Complete, layer.Status));
    }

    [Fact]
    public async Task OsRelease_SymbolicLinkAcrossLayers()
    {
        // Debian ships etc/os-release as a link to ../usr/lib/os-release.
        var lower = new TestLayer().File("usr/lib/os-release", DebianOsRelease).Build();
        var upper = new TestLayer().SymbolicLink("etc/os-release", "../usr/lib/os-release").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        PackageDatabaseTests.AssertOperatingSystem(inventory.OperatingSystem, "debian", "12", "Debian GNU/Linux 12 (bookworm)");
    }

    [Fact]
    public async Task OsRelease_EtcWinsOverUsrLib()
    {
        var layer = new TestLayer()
            .File("usr/lib/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
            .File("etc/os-release", "ID=ubuntu\nVERSION_ID=\"22.04\"\n")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        PackageDatabaseTests.AssertOperatingSystem(inventory.OperatingSystem, "ubuntu", "22.04", null);
    }

    [Fact]
    public async Task OsRelease_AbsoluteLinkAndHardLink()
    {
        var absolute = new TestLayer().File("usr/lib/os-release", DebianOsRelease).SymbolicLink("etc/os-release", "/usr/lib/os-release").Build();
        var hard = new TestLayer().File("usr/lib/os-release", DebianOsRelease).HardLink("etc/os-release", "./usr/lib/os-release").Build();

        Assert.Equal("debian", (await Analysis.InventoryAsync(absolute)).OperatingSystem?.Id);
        Assert.Equal("debian", (await Analysis.InventoryAsync(hard)).OperatingSystem?.Id);
    }

    [Fact]
    public async Task OsRelease_BrokenLinkFallsBack()
    {
        var layer = new TestLayer()
            .SymbolicLink("etc/os-release", "../usr/lib/os-release")
            .File("etc/debian_version", "12.5\n")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        PackageDatabaseTests.AssertOperatingSystem(inventory.OperatingSystem, "debian", "12.5", null);
    }

    [Fact]
    public async Task OsRelease_LinkLoopEnds()
    {
        var layer = new TestLayer()
            .SymbolicLink("etc/os-release", "../usr/lib/os-release")
            .SymbolicLink("usr/lib/os-release", "/etc/os-release")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Null(inventory.OperatingSystem);
    }

    [Fact]
    public async Task OsRelease_RemovedByWhiteout()
    {
        var lower = new TestLayer().File("etc/os-release", DebianOsRelease).File("etc/alpine-release", "3.18.4\n").Build();
        var upper = new TestLayer().Whiteout("etc/os-release").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        PackageDatabaseTests.AssertOperatingSystem(inventory.OperatingSystem, "alpine", "3.18.4", null);
    }

    [Fact]
    public async Task SamePathTwice_LastEntryWins()
    {
        var layer = new TestLayer()
            .File("var/lib/dpkg/status", Status(("libc6", "2.36-9")))
            .File("var/lib/dpkg/status", Status(("libc6", "2.36-9+deb12u4")))
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal("2.36-9+deb12u4", Analysis.Single(inventory, PackageType.Deb, "libc6").Version);
    }

    [Fact]
    public async Task DatabaseReplacedByLink_ListsNothing()
    {
        // A link at a database path replaces the lower file. Only regular files are read as databases, so a
        // database is never listed twice, once through a link.
        var lower = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();
        var upper = new TestLayer().SymbolicLink("var/lib/dpkg/status", "/dev/null").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Empty(inventory.Packages);
        Assert.Equal(LayerReadStatus.Complete, inventory.Layers[0].Status);
        Assert.Equal(LayerReadStatus.Unreadable, inventory.Layers[1].Status);
        Assert.Contains("'var/lib/dpkg/status' is a symbolic link to '/dev/null'", inventory.Layers[1].Message);
    }

    [Fact]
    public async Task DatabaseHardLinkToOtherPath_Reported()
    {
        // The database sits at a path the analyzer does not read, and the recognised path links to it.
        var layer = new TestLayer()
            .File("var/lib/dpkg/status-old", Status(("libc6", "2.36-9")))
            .HardLink("var/lib/dpkg/status", "var/lib/dpkg/status-old")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Empty(inventory.Packages);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.Equal(
            "'var/lib/dpkg/status' is a hard link to 'var/lib/dpkg/status-old', which does not lead to a recognised file, so its content was not read.",
            result.Message);
    }

    [Fact]
    public async Task DatabaseFolderSymbolicLink_Reported()
    {
        // The dpkg folder itself links elsewhere, so var/lib/dpkg/status never appears as an entry.
        var layer = new TestLayer()
            .File("usr/share/dpkgdb/status", Status(("libc6", "2.36-9")))
            .SymbolicLink("var/lib/dpkg", "../../usr/share/dpkgdb")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Empty(inventory.Packages);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.Contains("'var/lib/dpkg'", result.Message, StringComparison.Ordinal);
        Assert.Contains("linked folder", result.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MergedUsrLibLink_NotReported()
    {
        // Merged-/usr images link lib to usr/lib; the apk database is then read at its usr/lib path.
        var layer = new TestLayer()
            .SymbolicLink("lib", "usr/lib")
            .File("usr/lib/apk/db/installed", "P:musl\nV:1.2.4-r2\no:musl\n")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal("1.2.4-r2", Analysis.Single(inventory, PackageType.Apk, "musl").Version);
        Assert.Equal(LayerReadStatus.Complete, Assert.Single(inventory.Layers).Status);
    }

    [Fact]
    public async Task DatabaseSymbolicLinkToOtherPath_Reported()
    {
        var lower = new TestLayer().File("opt/db/installed", "P:musl\nV:1.2.4-r2\n").Build();
        var upper = new TestLayer().SymbolicLink("lib/apk/db/installed", "/opt/db/installed").Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Empty(inventory.Packages);
        Assert.Equal(LayerReadStatus.Complete, inventory.Layers[0].Status);
        Assert.Equal(LayerReadStatus.Unreadable, inventory.Layers[1].Status);
        Assert.Contains("'lib/apk/db/installed' is a symbolic link to '/opt/db/installed'", inventory.Layers[1].Message);
    }

    [Fact]
    public async Task DatabaseSymbolicLinkToLaterFile_Read()
    {
        // The link comes first in the archive, so the analyzer records the target's path and reads the file when it arrives.
        var layer = new TestLayer()
            .SymbolicLink("var/lib/dpkg/status", "../../../opt/db/status")
            .File("opt/db/status", Status(("libc6", "2.36-9")))
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        var libc = Analysis.Single(inventory, PackageType.Deb, "libc6");
        Assert.Equal("opt/db/status", libc.Path);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Complete, result.Status);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task DatabaseSymbolicLinkToEarlierFile_Reported()
    {
        var layer = new TestLayer()
            .File("opt/db/status", Status(("libc6", "2.36-9")))
            .SymbolicLink("var/lib/dpkg/status", "/opt/db/status")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Empty(inventory.Packages);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.Contains("'var/lib/dpkg/status' is a symbolic link to '/opt/db/status'", result.Message);
    }

    [Fact]
    public async Task LinkToRecognisedFile_NotReported()
    {
        var layer = new TestLayer()
            .File("var/lib/dpkg/status.d/libc6", Status(("libc6", "2.36-9")))
            .SymbolicLink("var/lib/dpkg/status", "status.d/libc6")
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal("2.36-9", Analysis.Single(inventory, PackageType.Deb, "libc6").Version);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Complete, result.Status);
        Assert.Null(result.Message);
    }

    [Fact]
    public async Task LinkRemovedByUpperLayer_NotReported()
    {
        var lower = new TestLayer().SymbolicLink("var/lib/dpkg/status", "/dev/null").Build();
        var upper = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();

        var inventory = await Analysis.InventoryAsync(lower, upper);

        Assert.Single(inventory.Packages);
        Assert.All(inventory.Layers, layer => Assert.Equal(LayerReadStatus.Complete, layer.Status));
    }

    [Fact]
    public async Task ScratchImage_HasNoOperatingSystem()
    {
        var inventory = await Analysis.InventoryAsync(new TestLayer().File("app/server", "binary").Build());

        Assert.Null(inventory.OperatingSystem);
        Assert.Empty(inventory.Packages);
    }

    [Fact]
    public async Task Packages_SortedByTypeNameAndPath()
    {
        var layer = new TestLayer()
            .File("app/b/B.deps.json", DepsJson("Serilog", "3.1.1"))
            .File("app/a/A.deps.json", DepsJson("Serilog", "3.1.0"))
            .File("lib/apk/db/installed", "P:zlib\nV:1.2.13-r1\n\nP:busybox\nV:1.36.1-r0\n")
            .File("var/lib/dpkg/status", Status(("zlib1g", "1:1.2.13.dfsg-1"), ("bash", "5.2.15-2")))
            .Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(
            ["Deb bash", "Deb zlib1g", "Apk busybox", "Apk zlib", "NuGet Serilog app/a/A.deps.json", "NuGet Serilog app/b/B.deps.json"],
            inventory.Packages.Select(package => package.Type == PackageType.NuGet ? $"{package.Type} {package.Name} {package.Path}" : $"{package.Type} {package.Name}"));
    }

    [Fact]
    public async Task UnreadableLayer_KeepsOtherLayers()
    {
        var baseLayer = new TestLayer().File("var/lib/dpkg/status", Status(("libc6", "2.36-9"))).Build();
        byte[] garbage = [0x1f, 0x8b, 1, 2, 3, 4, 5];

        var inventory = await Analysis.InventoryAsync(baseLayer, garbage);

        Assert.Single(inventory.Packages);
        Assert.Equal([LayerReadStatus.Complete, LayerReadStatus.Unreadable], inventory.Layers.Select(layer => layer.Status));
    }

    private static string Status(params (string Name, string Version)[] packages) =>
        string.Concat(packages.Select(package =>
            $"Package: {package.Name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: {package.Version}\n"
            + "Description: test package\n with a continuation line\n\n"));

    private static string DepsJson(string name, string version) =>
        $$"""{ "libraries": { "{{name}}/{{version}}": { "type": "package", "serviceable": true } } }""";
}

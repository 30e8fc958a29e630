using System.Text.Json;
using System.Text.RegularExpressions;
using Dtr.Digests;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Reports;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Scanning.Tests.Reports;

public partial class CycloneDxSbomTests
{
    private static readonly Digest Layer = Digest.Compute("layer"u8);
    private static readonly Digest Manifest = Digest.Compute("manifest"u8);
    private static readonly DateTimeOffset Timestamp = new(2026, 3, 4, 5, 6, 7, TimeSpan.FromHours(2));

    // The enumerations of the CycloneDX 1.6 JSON schema (bom-1.6.schema.json) for the fields written here.
    private static readonly string[] ComponentTypes = ["application", "framework", "library", "container", "platform", "operating-system", "device", "device-driver", "firmware", "file", "machine-learning-model", "data", "cryptographic-asset"];
    private static readonly string[] SeverityValues = ["critical", "high", "medium", "low", "info", "none", "unknown"];
    private static readonly string[] MethodValues = ["CVSSv2", "CVSSv3", "CVSSv31", "CVSSv4", "OWASP", "SSVC", "other"];
    private static readonly string[] ImpactStates = ["affected", "unaffected", "unknown"];

    private static readonly InstalledPackage Libc6 =
        new(PackageType.Deb, "libc6", "2.36-9+deb12u1", "glibc", null, Layer, "var/lib/dpkg/status") { Architecture = "amd64", License = "LGPL-2.1" };

    private static readonly InstalledPackage LibcBin =
        new(PackageType.Deb, "libc-bin", "2.36-9+deb12u1", "glibc", null, Layer, "var/lib/dpkg/status") { Architecture = "amd64" };

    private static readonly InstalledPackage JsonInApp =
        new(PackageType.NuGet, "Newtonsoft.Json", "12.0.3", "Newtonsoft.Json", null, Layer, "app/app.deps.json");

    private static readonly InstalledPackage JsonInTool =
        new(PackageType.NuGet, "Newtonsoft.Json", "12.0.3", "Newtonsoft.Json", null, Layer, "tool/tool.deps.json");

    [Fact]
    public void Write_Bom_HasRequiredTopLevelFields()
    {
        using var document = WriteBom();
        var root = document.RootElement;

        Assert.Equal("CycloneDX", root.GetProperty("bomFormat").GetString());
        Assert.Equal("1.6", root.GetProperty("specVersion").GetString());
        Assert.Matches(SerialNumberPattern(), root.GetProperty("serialNumber").GetString());
        Assert.Equal(1, root.GetProperty("version").GetInt32());
    }

    [Fact]
    public void Write_Metadata_DescribesImage()
    {
        using var document = WriteBom();
        var metadata = document.RootElement.GetProperty("metadata");

        Assert.Equal("2026-03-04T03:06:07Z", metadata.GetProperty("timestamp").GetString());
        var image = metadata.GetProperty("component");
        Assert.Equal("container", image.GetProperty("type").GetString());
        Assert.Equal("library/app", image.GetProperty("name").GetString());
        Assert.Equal(Manifest.ToString(), image.GetProperty("version").GetString());
        var hash = Assert.Single(image.GetProperty("hashes").EnumerateArray());
        Assert.Equal("SHA-256", hash.GetProperty("alg").GetString());
        Assert.Equal(Manifest.Encoded, hash.GetProperty("content").GetString());
        Assert.Equal("Dtr.Scanning", metadata.GetProperty("tools").GetProperty("components")[0].GetProperty("name").GetString());
    }

    [Fact]
    public void Write_Components_HavePurlsAndUniqueReferences()
    {
        using var document = WriteBom();
        var components = document.RootElement.GetProperty("components").EnumerateArray().ToList();

        Assert.Equal(5, components.Count);
        Assert.All(components, component => Assert.Contains(component.GetProperty("type").GetString(), ComponentTypes));
        Assert.All(components, component => Assert.False(string.IsNullOrEmpty(component.GetProperty("name").GetString())));
        var references = components.Select(component => component.GetProperty("bom-ref").GetString()).ToList();
        Assert.Equal(references.Count, references.Distinct().Count());

        var os = components[0];
        Assert.Equal("operating-system", os.GetProperty("type").GetString());
        Assert.Equal("debian", os.GetProperty("name").GetString());
        Assert.Equal("12", os.GetProperty("version").GetString());

        var libc6 = components.Single(component => component.GetProperty("name").GetString() == "libc6");
        Assert.Equal("library", libc6.GetProperty("type").GetString());
        Assert.Equal("2.36-9+deb12u1", libc6.GetProperty("version").GetString());
        Assert.Equal("pkg:deb/debian/libc6@2.36-9%2Bdeb12u1?arch=amd64&distro=debian-12", libc6.GetProperty("purl").GetString());
        Assert.Equal("LGPL-2.1", libc6.GetProperty("licenses")[0].GetProperty("license").GetProperty("name").GetString());

        var json = components.Where(component => component.GetProperty("name").GetString() == "Newtonsoft.Json").ToList();
        Assert.Equal(2, json.Count);
        Assert.Equal("pkg:nuget/Newtonsoft.Json@12.0.3", json[0].GetProperty("bom-ref").GetString());
        Assert.Equal("pkg:nuget/Newtonsoft.Json@12.0.3#2", json[1].GetProperty("bom-ref").GetString());
        Assert.All(json, component => Assert.Equal("pkg:nuget/Newtonsoft.Json@12.0.3", component.GetProperty("purl").GetString()));
    }

    [Fact]
    public void Write_Vulnerabilities_ListEachIdOnceWithItsComponents()
    {
        using var document = WriteBom();
        var root = document.RootElement;
        var references = root.GetProperty("components").EnumerateArray().Select(component => component.GetProperty("bom-ref").GetString()).ToHashSet();
        var vulnerabilities = root.GetProperty("vulnerabilities").EnumerateArray().ToList();

        Assert.Equal(["DEBIAN-CVE-2023-4911", "GHSA-5crp-9r3c-p9vr"], vulnerabilities.Select(v => v.GetProperty("id").GetString()));

        var glibc = vulnerabilities[0];
        Assert.Equal("OSV", glibc.GetProperty("source").GetProperty("name").GetString());
        Assert.Equal("https://osv.dev/vulnerability/DEBIAN-CVE-2023-4911", glibc.GetProperty("source").GetProperty("url").GetString());
        Assert.Equal("CVE-2023-4911", glibc.GetProperty("references")[0].GetProperty("id").GetString());
        var rating = Assert.Single(glibc.GetProperty("ratings").EnumerateArray());
        Assert.Equal("high", rating.GetProperty("severity").GetString());
        Assert.Equal(7.8, rating.GetProperty("score").GetDouble());
        Assert.Equal("CVSSv31", rating.GetProperty("method").GetString());
        Assert.Equal("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", rating.GetProperty("vector").GetString());
        Assert.Equal("Upgrade to 2.36-9+deb12u3 or later.", glibc.GetProperty("recommendation").GetString());
        var affects = glibc.GetProperty("affects").EnumerateArray().ToList();
        Assert.Equal(2, affects.Count);
        Assert.All(affects, affect => Assert.Contains(affect.GetProperty("ref").GetString(), references));
        Assert.All(affects, affect => Assert.Equal("affected", affect.GetProperty("versions")[0].GetProperty("status").GetString()));

        var newtonsoft = vulnerabilities[1];
        var namedRating = Assert.Single(newtonsoft.GetProperty("ratings").EnumerateArray());
        Assert.Equal("high", namedRating.GetProperty("severity").GetString());
        Assert.False(namedRating.TryGetProperty("score", out _));
        Assert.False(namedRating.TryGetProperty("method", out _));
        Assert.Equal(2, newtonsoft.GetProperty("affects").GetArrayLength());
    }

    [Fact]
    public void Write_Values_AreInSchemaEnumerations()
    {
        using var document = WriteBom();

        foreach (var vulnerability in document.RootElement.GetProperty("vulnerabilities").EnumerateArray())
        {
            foreach (var rating in vulnerability.GetProperty("ratings").EnumerateArray())
            {
                Assert.Contains(rating.GetProperty("severity").GetString(), SeverityValues);
                if (rating.TryGetProperty("method", out var method))
                {
                    Assert.Contains(method.GetString(), MethodValues);
                }
            }

            foreach (var affect in vulnerability.GetProperty("affects").EnumerateArray())
            {
                Assert.Contains(affect.GetProperty("versions")[0].GetProperty("status").GetString(), ImpactStates);
            }
        }
    }

    [Theory]
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "CVSSv31")]
    [InlineData("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", "CVSSv3")]
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", "CVSSv4")]
    [InlineData("AV:L/AC:L/Au:S/C:C/I:C/A:C", "CVSSv2")]
    public void Write_Rating_NamesMethodOfVector(string vector, string expected)
    {
        var finding = Glibc(Libc6) with { CvssVector = vector };
        var inventory = new ImageInventory(null, [Libc6], []);

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CycloneDxSbom.Write(writer, "library/app", Manifest, inventory, [finding], Timestamp);
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        var rating = document.RootElement.GetProperty("vulnerabilities")[0].GetProperty("ratings")[0];
        Assert.Equal(expected, rating.GetProperty("method").GetString());
        Assert.Equal(vector, rating.GetProperty("vector").GetString());
    }

    [Fact]
    public void Write_NoFindingsOrOperatingSystem_WritesEmptyLists()
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CycloneDxSbom.Write(writer, "scratch", Manifest, new ImageInventory(null, [], []), [], Timestamp);
        }

        using var document = JsonDocument.Parse(buffer.ToArray());
        Assert.Equal(0, document.RootElement.GetProperty("components").GetArrayLength());
        Assert.Equal(0, document.RootElement.GetProperty("vulnerabilities").GetArrayLength());
    }

    private static JsonDocument WriteBom()
    {
        var inventory = new ImageInventory(
            new OperatingSystemInfo("debian", "12", "Debian GNU/Linux 12 (bookworm)"),
            [Libc6, LibcBin, JsonInApp, JsonInTool],
            [new LayerReadResult(Layer, LayerReadStatus.Complete, null)]);
        VulnerabilityFinding[] findings =
        [
            Glibc(LibcBin),
            Glibc(Libc6),
            Newtonsoft(JsonInApp),
            Newtonsoft(JsonInTool),
        ];

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CycloneDxSbom.Write(writer, "library/app", Manifest, inventory, findings, Timestamp);
        }

        return JsonDocument.Parse(buffer.ToArray());
    }

    private static VulnerabilityFinding Glibc(InstalledPackage package) =>
        new("DEBIAN-CVE-2023-4911", ["CVE-2023-4911"], "glibc buffer overflow", Severity.High, package, "Debian:12", "2.36-9+deb12u3")
        {
            Score = 7.8,
            CvssVector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            References = ["https://security-tracker.debian.org/tracker/CVE-2023-4911"],
        };

    private static VulnerabilityFinding Newtonsoft(InstalledPackage package) =>
        new("GHSA-5crp-9r3c-p9vr", ["CVE-2024-21907"], null, Severity.High, package, "NuGet", "13.0.1");

    [GeneratedRegex("^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")]
    private static partial Regex SerialNumberPattern();
}

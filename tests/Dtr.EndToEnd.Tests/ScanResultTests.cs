using System.Net;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Pushes Debian 12 and Alpine 3.18 images with skopeo to repositories that scan on push, and checks the scan
/// results, the tag list summary and the CycloneDX SBOM against the advisories in the fixture's database.
/// </summary>
[Collection(ScanningRegistryCollection.Name)]
public sealed class ScanResultTests(ScanningRegistryFixture fixture)
{
    private ScanningHost Host => fixture.Host;

    [Fact]
    public async Task DebianImage_ScanOnPushFindsGlibcAndOpenSsl()
    {
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteDebianLayout(
            work.Path, "vulnerable", ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion);
        var repository = await Host.CreateRepositoryAsync("debian", scanOnPush: true);
        await Host.PushAsync(work.Path, "vulnerable", repository, "bookworm");

        using var reader = Host.ReaderApi();
        var scan = await reader.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        var result = scan.ToJsonString();
        Assert.True(scan["status"]?.GetValue<string>() == "completed", $"The scan's status is not completed: {result}");
        Assert.Equal(image.Manifest.Digest, scan["digest"]?.GetValue<string>());
        Assert.Equal("debian", scan["os"]?["id"]?.GetValue<string>());
        Assert.Equal("12", scan["os"]?["versionId"]?.GetValue<string>());

        // libc6 comes from the second layer, whose status file replaced the first layer's.
        var updateLayer = image.Layers[1].Digest;
        var libc6 = Package(scan, "deb", "libc6");
        Assert.True(libc6 is not null, $"The scan lists no deb package libc6: {result}");
        Assert.Equal(ScanTestImages.VulnerableGlibcVersion, libc6["version"]?.GetValue<string>());
        Assert.Equal("glibc", libc6["sourceName"]?.GetValue<string>());
        Assert.Equal(updateLayer, libc6["layer"]?.GetValue<string>());

        var glibcFindings = ScanningApiClient.Findings(scan, OsvArchives.GlibcId);
        Assert.True(glibcFindings.Count > 0, $"The scan does not report {OsvArchives.GlibcId}: {result}");
        var libc6Finding = glibcFindings.FirstOrDefault(f => f["package"]?.GetValue<string>() == "libc6");
        Assert.True(libc6Finding is not null, $"{OsvArchives.GlibcId} is not reported for libc6: {result}");
        Assert.Equal(ScanTestImages.FixedGlibcVersion, libc6Finding["fixedVersion"]?.GetValue<string>());
        Assert.Equal(ScanTestImages.VulnerableGlibcVersion, libc6Finding["installedVersion"]?.GetValue<string>());
        Assert.Equal("high", libc6Finding["severity"]?.GetValue<string>());
        Assert.Equal(OsvArchives.GlibcCvssVector, libc6Finding["cvssVector"]?.GetValue<string>());
        Assert.Equal("Debian:12", libc6Finding["ecosystem"]?.GetValue<string>());
        Assert.Equal(updateLayer, libc6Finding["layer"]?.GetValue<string>());

        // libc-bin is built from glibc too, but stays at this machine's patched version in the image.
        Assert.DoesNotContain(glibcFindings, f => f["package"]?.GetValue<string>() == "libc-bin");

        var openSslFindings = ScanningApiClient.Findings(scan, OsvArchives.OpenSslId);
        Assert.True(openSslFindings.Count > 0, $"The scan does not report {OsvArchives.OpenSslId}: {result}");
        Assert.All(openSslFindings, f => Assert.Equal(ScanTestImages.FixedOpenSslVersion, f["fixedVersion"]?.GetValue<string>()));
        Assert.Contains(openSslFindings, f => f["package"]?.GetValue<string>() == "libssl3");

        Assert.Empty(ScanningApiClient.Findings(scan, OsvArchives.BusyboxId));
        Assert.True(scan["summary"]?["high"]?.GetValue<int>() >= 1, $"The summary counts no high vulnerability: {result}");

        // severity=high keeps CVE-2023-4911 and drops CVE-2023-5363, whose record gives no severity.
        var highOnly = (await reader.GetScanAsync(repository, image.Manifest.Digest, "high")).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.NotEmpty(ScanningApiClient.Findings(highOnly, OsvArchives.GlibcId));
        Assert.Empty(ScanningApiClient.Findings(highOnly, OsvArchives.OpenSslId));
        Assert.Equal(scan["summary"]?.ToJsonString(), highOnly["summary"]?.ToJsonString());

        await AssertTagListSummaryAsync(reader, repository, "bookworm");
        await AssertSbomAsync(reader, repository, image.Manifest.Digest);
    }

    [Fact]
    public async Task FixedDebianImage_HasNeitherVulnerability()
    {
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteDebianLayout(
            work.Path, "fixed", ScanTestImages.FixedGlibcVersion, ScanTestImages.FixedOpenSslVersion);
        var repository = await Host.CreateRepositoryAsync("debian-fixed", scanOnPush: true);
        await Host.PushAsync(work.Path, "fixed", repository, "bookworm");

        using var reader = Host.ReaderApi();
        var scan = await reader.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        Assert.Equal("completed", scan["status"]?.GetValue<string>());
        Assert.Equal(ScanTestImages.FixedGlibcVersion, Package(scan, "deb", "libc6")?["version"]?.GetValue<string>());
        Assert.Empty(ScanningApiClient.Findings(scan, OsvArchives.GlibcId));
        Assert.Empty(ScanningApiClient.Findings(scan, OsvArchives.OpenSslId));
    }

    [Fact]
    public async Task AlpineImage_FindsBusyboxButNotFixedZlib()
    {
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteAlpineLayout(work.Path, "3.18");
        var repository = await Host.CreateRepositoryAsync("alpine", scanOnPush: true);
        await Host.PushAsync(work.Path, "3.18", repository, "3.18");

        using var reader = Host.ReaderApi();
        var scan = await reader.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        var result = scan.ToJsonString();
        Assert.Equal("completed", scan["status"]?.GetValue<string>());
        Assert.Equal("alpine", scan["os"]?["id"]?.GetValue<string>());

        var busybox = Package(scan, "apk", "busybox");
        Assert.True(busybox is not null, $"The scan lists no apk package busybox: {result}");
        Assert.Equal("1.36.1-r0", busybox["version"]?.GetValue<string>());
        Assert.True(Package(scan, "apk", "ssl_client") is not null, $"The scan lists no apk package ssl_client: {result}");
        Assert.True(Package(scan, "apk", "zlib") is not null, $"The scan lists no apk package zlib: {result}");

        var busyboxFindings = ScanningApiClient.Findings(scan, OsvArchives.BusyboxId);
        Assert.True(busyboxFindings.Count > 0, $"The scan does not report {OsvArchives.BusyboxId}: {result}");
        Assert.All(busyboxFindings, f => Assert.Equal("1.36.1-r1", f["fixedVersion"]?.GetValue<string>()));
        Assert.All(busyboxFindings, f => Assert.Equal("Alpine:v3.18", f["ecosystem"]?.GetValue<string>()));

        // ssl_client is built from the busybox source package, so the advisory applies to it as well.
        Assert.Contains(busyboxFindings, f => f["package"]?.GetValue<string>() == "ssl_client");

        // zlib 1.2.13-r1 is newer than the fix 1.2.12-r2.
        Assert.Empty(ScanningApiClient.Findings(scan, OsvArchives.ZlibId));
    }

    [Fact]
    public async Task ImageIndex_AggregatesPlatformScans()
    {
        using var work = new TemporaryDirectory();
        var layout = new OciLayoutWriter(work.Path);
        var debian = layout.WriteImage(
            Platform.LinuxAmd64, ScanTestImages.DebianLayers(ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion));

        // The padding keeps this Alpine image's digest apart from the single-platform Alpine images of other tests.
        var alpine = layout.WriteImage(Platform.LinuxArm64, [ScanTestImages.AlpineLayer(paddingBytes: 4096, paddingSeed: 103)]);
        var index = layout.WriteImageIndex([debian, alpine]);
        layout.WriteEntryPoint((index, "multi"));
        var repository = await Host.CreateRepositoryAsync("multi-platform", scanOnPush: true);
        await Host.PushAsync(work.Path, "multi", repository, "multi", "--all");

        using var reader = Host.ReaderApi();
        var scan = await reader.WaitForScanAsync(repository, index.Digest, ScanningRegistryFixture.ScanTimeout);
        var result = scan.ToJsonString();
        Assert.True(scan["status"]?.GetValue<string>() == "completed", $"The index's aggregate status is not completed: {result}");
        var platforms = scan["platforms"]?.AsArray() ?? [];
        Assert.True(platforms.Count == 2, $"The index's scan lists {platforms.Count} platforms; expected 2: {result}");

        var amd64 = platforms.FirstOrDefault(p => p?["platform"]?["architecture"]?.GetValue<string>() == "amd64");
        Assert.True(amd64 is not null, $"The index's scan has no amd64 platform: {result}");
        Assert.Equal(debian.Manifest.Digest, amd64["digest"]?.GetValue<string>());
        Assert.NotEmpty(ScanningApiClient.Findings(amd64, OsvArchives.GlibcId));

        var arm64 = platforms.FirstOrDefault(p => p?["platform"]?["architecture"]?.GetValue<string>() == "arm64");
        Assert.True(arm64 is not null, $"The index's scan has no arm64 platform: {result}");
        Assert.Equal(alpine.Manifest.Digest, arm64["digest"]?.GetValue<string>());
        Assert.Equal("v8", arm64["platform"]?["variant"]?.GetValue<string>());
        Assert.NotEmpty(ScanningApiClient.Findings(arm64, OsvArchives.BusyboxId));

        // The summary takes each severity's maximum over the platforms.
        foreach (var severity in new[] { "critical", "high", "medium", "low", "unknown" })
        {
            var expected = Math.Max(amd64["summary"]![severity]!.GetValue<int>(), arm64["summary"]![severity]!.GetValue<int>());
            Assert.True(scan["summary"]?[severity]?.GetValue<int>() == expected,
                $"The index's summary counts {scan["summary"]?[severity]} {severity}; the platforms' maximum is {expected}: {result}");
        }

        // An index has no SBOM of its own; the error names the children to ask for instead.
        var sbom = await reader.GetSbomAsync(repository, index.Digest);
        sbom.AssertStatus(HttpStatusCode.BadRequest, Host.DescribeRegistry);
        Assert.Contains(debian.Manifest.Digest, sbom.Text, StringComparison.Ordinal);
        Assert.Contains(alpine.Manifest.Digest, sbom.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScanRequest_ReadWriteAcceptedReadOnlyForbidden()
    {
        using var work = new TemporaryDirectory();
        // Scans are stored per manifest digest, so this image gets padding that no other test's image has.
        var image = ScanTestImages.WriteAlpineLayout(work.Path, "3.18", paddingBytes: 4096, paddingSeed: 101);
        var repository = await Host.CreateRepositoryAsync("on-request", scanOnPush: false);
        await Host.PushAsync(work.Path, "3.18", repository, "3.18");

        using var reader = Host.ReaderApi();
        var before = (await reader.GetScanAsync(repository, image.Manifest.Digest)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.Equal("notScanned", before["status"]?.GetValue<string>());
        var tags = (await reader.ListTagsAsync(repository)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        var tag = tags["tags"]?.AsArray().FirstOrDefault(t => t?["tag"]?.GetValue<string>() == "3.18");
        Assert.True(tag is not null, $"The tag list of {repository} has no tag 3.18: {tags.ToJsonString()}");
        Assert.True(tag.AsObject().ContainsKey("scan"), $"The never-scanned tag 3.18 has no \"scan\" field: {tag.ToJsonString()}");
        Assert.True(tag["scan"] is null, $"The never-scanned tag 3.18 must have \"scan\": null: {tag.ToJsonString()}");
        (await reader.GetSbomAsync(repository, image.Manifest.Digest)).AssertStatus(HttpStatusCode.Conflict, Host.DescribeRegistry);

        var denied = await reader.RequestScanAsync(repository, image.Manifest.Digest);
        denied.AssertStatus(HttpStatusCode.Forbidden, Host.DescribeRegistry);

        using var writer = Host.WriterApi();
        var missing = await writer.RequestScanAsync(repository, Sha256.Of("no such manifest"u8));
        missing.AssertStatus(HttpStatusCode.NotFound, Host.DescribeRegistry);

        var accepted = (await writer.RequestScanAsync(repository, image.Manifest.Digest)).AssertStatus(HttpStatusCode.Accepted, Host.DescribeRegistry);
        Assert.Equal("queued", accepted["status"]?.GetValue<string>());
        Assert.Equal(image.Manifest.Digest, accepted["digest"]?.GetValue<string>());

        var scan = await reader.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        Assert.Equal("completed", scan["status"]?.GetValue<string>());
        Assert.NotEmpty(ScanningApiClient.Findings(scan, OsvArchives.BusyboxId));
    }

    [Fact]
    public async Task ScanEndpoints_UnknownManifestNotFound()
    {
        var repository = await Host.CreateRepositoryAsync("empty", scanOnPush: true);
        var digest = Sha256.Of("never pushed"u8);

        using var reader = Host.ReaderApi();
        (await reader.GetScanAsync(repository, digest)).AssertStatus(HttpStatusCode.NotFound, Host.DescribeRegistry);
        using var admin = Host.AdminApi();
        (await admin.RequestScanAsync(repository, digest)).AssertStatus(HttpStatusCode.NotFound, Host.DescribeRegistry);
    }

    private static JsonNode? Package(JsonNode scan, string type, string name) =>
        (scan["packages"]?.AsArray() ?? [])
            .FirstOrDefault(p => p?["type"]?.GetValue<string>() == type && p["name"]?.GetValue<string>() == name);

    private async Task AssertTagListSummaryAsync(ScanningApiClient reader, string repository, string tagName)
    {
        var tags = (await reader.ListTagsAsync(repository)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        var tag = tags["tags"]?.AsArray().FirstOrDefault(t => t?["tag"]?.GetValue<string>() == tagName);
        Assert.True(tag is not null, $"The tag list of {repository} has no tag {tagName}: {tags.ToJsonString()}");
        Assert.True(tag["scan"]?["status"]?.GetValue<string>() == "completed",
            $"Tag {tagName} does not show a completed scan: {tag.ToJsonString()}");
        Assert.True(tag["scan"]?["summary"]?["high"]?.GetValue<int>() >= 1,
            $"Tag {tagName}'s scan summary counts no high vulnerability: {tag.ToJsonString()}");
    }

    private async Task AssertSbomAsync(ScanningApiClient reader, string repository, string digest)
    {
        var response = await reader.GetSbomAsync(repository, digest);
        var sbom = response.AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.Equal("application/vnd.cyclonedx+json", response.ContentType);
        Assert.Equal("CycloneDX", sbom["bomFormat"]?.GetValue<string>());
        Assert.Equal("1.6", sbom["specVersion"]?.GetValue<string>());

        // The purl spec percent-encodes '+' in versions, so the version is compared after decoding.
        var purls = (sbom["components"]?.AsArray() ?? [])
            .Select(c => c?["purl"]?.GetValue<string>())
            .OfType<string>()
            .ToList();
        var libc6 = purls.FirstOrDefault(p => p.StartsWith("pkg:deb/debian/libc6@", StringComparison.Ordinal));
        Assert.True(libc6 is not null, $"The SBOM has no component with a pkg:deb/debian/libc6 purl: {response.Text[..Math.Min(4000, response.Text.Length)]}");
        Assert.Contains(ScanTestImages.VulnerableGlibcVersion, Uri.UnescapeDataString(libc6), StringComparison.Ordinal);

        var vulnerabilities = (sbom["vulnerabilities"]?.AsArray() ?? []).Select(v => v?["id"]?.GetValue<string>()).ToList();
        Assert.Contains(OsvArchives.GlibcId, vulnerabilities);
    }
}

using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Sets a repository's scanning policy through the management API and pulls with skopeo as a read-only user: a
/// vulnerable image is denied until its vulnerabilities are allowlisted, a fixed image pulls, and an unscanned image
/// is denied when the policy does not allow unscanned images.
/// </summary>
[Collection(ScanningRegistryCollection.Name)]
public sealed class PullPolicyTests(ScanningRegistryFixture fixture)
{
    private ScanningHost Host => fixture.Host;

    [Fact]
    public async Task BlockHigh_DeniesVulnerableUntilAllowlisted()
    {
        using var work = new TemporaryDirectory();
        var vulnerable = ScanTestImages.WriteDebianLayout(
            work.Combine("vulnerable"), "vulnerable", ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion);
        var fixedImage = ScanTestImages.WriteDebianLayout(
            work.Combine("fixed"), "fixed", ScanTestImages.FixedGlibcVersion, ScanTestImages.FixedOpenSslVersion);
        var repository = await Host.CreateRepositoryAsync("policy", scanOnPush: true);
        await Host.PushAsync(work.Combine("vulnerable"), "vulnerable", repository, "vulnerable");
        await Host.PushAsync(work.Combine("fixed"), "fixed", repository, "fixed");

        using var reader = Host.ReaderApi();
        await reader.WaitForScanAsync(repository, vulnerable.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        await reader.WaitForScanAsync(repository, fixedImage.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);

        using var admin = Host.AdminApi();
        await PutPolicyAsync(admin, repository, "high", allowUnscanned: true, new JsonArray());
        var policy = (await reader.GetPolicyAsync(repository)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.Equal("high", policy["blockSeverity"]?.GetValue<string>());

        // 1. The vulnerable image is denied, and the message names the high vulnerability.
        var denied = await Host.TryPullAsReaderAsync(repository, "vulnerable", work.Combine("pull-denied"));
        AssertDenied(denied, "the vulnerable image under blockSeverity high", OsvArchives.GlibcId);

        // 2. The fixed image pulls.
        var fixedPull = await Host.TryPullAsReaderAsync(repository, "fixed", work.Combine("pull-fixed"));
        Assert.True(fixedPull.Succeeded, $"The fixed image was not pulled under blockSeverity high.\n{fixedPull.Describe()}\n{Host.DescribeRegistry()}");
        SinglePlatformImageTests.AssertLayoutContainsImage(work.Combine("pull-fixed"), fixedImage);

        // 3. Allowlisting both vulnerabilities until tomorrow lets the vulnerable image through.
        var tomorrow = DateTimeOffset.UtcNow.AddDays(1);
        await PutPolicyAsync(admin, repository, "high", allowUnscanned: true, Allowlist(tomorrow, OsvArchives.GlibcId, OsvArchives.OpenSslId));
        var allowed = await Host.TryPullAsReaderAsync(repository, "vulnerable", work.Combine("pull-allowed"));
        Assert.True(allowed.Succeeded, $"The vulnerable image was not pulled although both vulnerabilities are allowlisted.\n{allowed.Describe()}\n{Host.DescribeRegistry()}");
        SinglePlatformImageTests.AssertLayoutContainsImage(work.Combine("pull-allowed"), vulnerable);

        // 4. An allowlist entry past its expiry no longer counts.
        var yesterday = DateTimeOffset.UtcNow.AddDays(-1);
        var expired = Allowlist(yesterday, OsvArchives.GlibcId);
        expired.Add(AllowlistEntry(OsvArchives.OpenSslId, tomorrow));
        await PutPolicyAsync(admin, repository, "high", allowUnscanned: true, expired);
        var deniedAgain = await Host.TryPullAsReaderAsync(repository, "vulnerable", work.Combine("pull-expired"));
        AssertDenied(deniedAgain, "the vulnerable image whose allowlist entry expired", OsvArchives.GlibcId);
    }

    [Fact]
    public async Task DisallowUnscanned_DeniesUnscannedImage()
    {
        using var work = new TemporaryDirectory();
        // Scans are stored per manifest digest, so this image gets padding that no other test's image has.
        ScanTestImages.WriteAlpineLayout(work.Combine("layout"), "3.18", paddingBytes: 4096, paddingSeed: 102);
        var repository = await Host.CreateRepositoryAsync("unscanned", scanOnPush: false);
        await Host.PushAsync(work.Combine("layout"), "3.18", repository, "3.18");

        using var admin = Host.AdminApi();
        await PutPolicyAsync(admin, repository, "critical", allowUnscanned: true, new JsonArray());
        var allowed = await Host.TryPullAsReaderAsync(repository, "3.18", work.Combine("pull-allowed"));
        Assert.True(allowed.Succeeded, $"The unscanned image was not pulled although allowUnscanned is true.\n{allowed.Describe()}\n{Host.DescribeRegistry()}");

        await PutPolicyAsync(admin, repository, "critical", allowUnscanned: false, new JsonArray());
        var denied = await Host.TryPullAsReaderAsync(repository, "3.18", work.Combine("pull-denied"));
        AssertDenied(denied, "the unscanned image with allowUnscanned false", "scanned");
    }

    [Fact]
    public async Task PolicyUpdate_RequiresRepositoryAdmin()
    {
        var repository = await Host.CreateRepositoryAsync("policy-roles", scanOnPush: false);
        var policy = new JsonObject { ["blockSeverity"] = "high", ["allowUnscanned"] = true, ["allowlist"] = new JsonArray() };

        using var writer = Host.WriterApi();
        (await writer.PutPolicyAsync(repository, policy)).AssertStatus(HttpStatusCode.Forbidden, Host.DescribeRegistry);

        using var reader = Host.ReaderApi();
        var unchanged = (await reader.GetPolicyAsync(repository)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.True(unchanged["blockSeverity"] is null, $"A read-write user changed the policy: {unchanged.ToJsonString()}");
        Assert.True(unchanged["allowUnscanned"]?.GetValue<bool>() == true, $"The default policy does not allow unscanned images: {unchanged.ToJsonString()}");
    }

    private async Task PutPolicyAsync(ScanningApiClient admin, string repository, string blockSeverity, bool allowUnscanned, JsonArray allowlist)
    {
        var policy = new JsonObject
        {
            ["blockSeverity"] = blockSeverity,
            ["allowUnscanned"] = allowUnscanned,
            ["allowlist"] = allowlist,
        };
        var response = await admin.PutPolicyAsync(repository, policy);
        Assert.True(response.Status is HttpStatusCode.OK or HttpStatusCode.NoContent,
            $"{response.Request} returned {(int)response.Status}; expected 200 or 204.\nRequest body: {policy.ToJsonString()}\nResponse body: {response.Text}\n{Host.DescribeRegistry()}");
    }

    private static JsonArray Allowlist(DateTimeOffset expiresAt, params string[] ids) =>
        new(ids.Select(id => (JsonNode)AllowlistEntry(id, expiresAt)).ToArray());

    private static JsonObject AllowlistEntry(string id, DateTimeOffset expiresAt) => new()
    {
        ["id"] = id,
        ["expiresAt"] = expiresAt.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
        ["reason"] = "Accepted for the end-to-end test until the image is rebuilt",
    };

    private void AssertDenied(CommandResult result, string action, string expectedText)
    {
        Assert.False(result.Succeeded, $"skopeo pulled {action}; the pull policy must deny it.\n{result.Describe()}\n{Host.DescribeRegistry()}");
        Assert.True(result.StandardError.Contains("denied", StringComparison.OrdinalIgnoreCase),
            $"skopeo failed to pull {action}, but its error does not say denied.\n{result.Describe()}");
        Assert.True(result.StandardError.Contains(expectedText, StringComparison.OrdinalIgnoreCase),
            $"skopeo was denied {action}, but the error does not contain '{expectedText}'.\n{result.Describe()}");
    }
}

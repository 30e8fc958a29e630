using System.Net;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Starts a host without a public key, so uploads need no signature, and pushes an image while its database is still
/// empty. Uploading the database afterwards must re-match the stored scan without a new scan request.
/// </summary>
public sealed class DatabaseRematchTests
{
    [Fact]
    public async Task UnsignedUploadAfterPush_RematchesStoredScan()
    {
        await using var host = await ScanningHost.StartAsync();
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteDebianLayout(
            work.Path, "vulnerable", ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion);
        var repository = await host.CreateRepositoryAsync("rematch", scanOnPush: true);

        using var admin = host.AdminApi();
        var empty = (await admin.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
        Assert.Equal(0, empty["version"]?.GetValue<long>());
        Assert.True(empty["signatureRequired"]?.GetValue<bool>() == false, $"signatureRequired is not false without a key: {empty.ToJsonString()}");

        // 1. With an empty database the scan completes, lists the packages and finds nothing.
        await host.PushAsync(work.Path, "vulnerable", repository, "bookworm");
        var first = await admin.WaitForScanAsync(repository, image.Manifest.Digest, ScanningRegistryFixture.ScanTimeout);
        Assert.Equal("completed", first["status"]?.GetValue<string>());
        Assert.NotEmpty(first["packages"]!.AsArray());
        Assert.Empty(first["vulnerabilities"]!.AsArray());
        Assert.Equal(0, first["summary"]?["total"]?.GetValue<int>());
        var scannedAt = first["scannedAt"]!.GetValue<DateTimeOffset>();

        // 2. An unsigned upload is accepted, because no key is configured.
        var archive = OsvArchives.Zip(OsvArchives.Records());
        var upload = (await admin.UploadDatabaseAsync(archive, signature: null)).AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
        var version = upload["database"]!["version"]!.GetValue<long>();
        Assert.True(version > 0, $"The database version did not rise after the upload: {upload.ToJsonString()}");
        var database = (await admin.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
        var source = database["sources"]?.AsArray().FirstOrDefault(s => s?["name"]?.GetValue<string>() == "upload");
        Assert.True(source?["signatureVerified"]?.GetValue<bool>() == false, $"An unsigned upload is marked verified: {database.ToJsonString()}");

        // 3. The stored scan is re-matched in the background from its saved inventory.
        var rematched = await admin.WaitForScanAsync(
            repository,
            image.Manifest.Digest,
            ScanningRegistryFixture.ScanTimeout,
            scan => scan["databaseVersion"]?.GetValue<long>() >= version);
        Assert.NotEmpty(ScanningApiClient.Findings(rematched, OsvArchives.GlibcId));
        Assert.NotEmpty(ScanningApiClient.Findings(rematched, OsvArchives.OpenSslId));
        Assert.True(rematched["summary"]?["total"]?.GetValue<int>() >= 2, $"The re-matched summary counts fewer than 2 vulnerabilities: {rematched.ToJsonString()}");

        // A re-match reads the saved inventory, not the layers, so the scan time stays that of the first scan.
        // The stored time may lose digits below a millisecond, so the two are compared to the millisecond.
        var rescannedAt = rematched["scannedAt"]!.GetValue<DateTimeOffset>();
        Assert.True(Math.Abs((rescannedAt - scannedAt).TotalMilliseconds) < 1,
            $"The re-match changed scannedAt from {scannedAt:O} to {rescannedAt:O}; it must keep the time the layers were read.");
    }
}

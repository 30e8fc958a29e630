using System.Net;
using Xunit.Abstractions;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Queues several scans on a host with one scanning worker, kills the host process while scans are still queued or
/// running, and starts it again on the same data folder: every scan must complete.
/// </summary>
public sealed class ScanQueueRestartTests(ITestOutputHelper output)
{
    private const int ImageCount = 6;

    // Incompressible padding makes each layer slow enough to read that scans are still queued when the host is killed
    // right after queueing them: in one run on a two-core machine, 3 of the 6 were.
    private const long PaddingBytes = 12L << 20;

    [Fact]
    public async Task QueuedScans_CompleteAfterRestart()
    {
        // A killed worker's lease must expire before another start can claim its job, so the lease is kept short.
        await using var host = await ScanningHost.StartAsync(
            "--Registry:Scanning:Concurrency=1",
            "--Registry:Scanning:JobLeaseDuration=00:00:10");
        using var work = new TemporaryDirectory();
        var repository = await host.CreateRepositoryAsync("restart", scanOnPush: false);

        using (var admin = host.AdminApi())
        {
            var upload = await admin.UploadDatabaseAsync(OsvArchives.Zip(OsvArchives.Records()), signature: null);
            upload.AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
        }

        var digests = new List<string>();
        for (var i = 0; i < ImageCount; i++)
        {
            var layout = work.Combine($"image-{i}");
            var image = ScanTestImages.WriteAlpineLayout(layout, "3.18", PaddingBytes, paddingSeed: i);
            await host.PushAsync(layout, "3.18", repository, $"image-{i}");
            digests.Add(image.Manifest.Digest);
        }

        // 1. Queue a scan of every image as the read-write user, then kill the host at once.
        using (var writer = host.WriterApi())
        {
            foreach (var digest in digests)
            {
                (await writer.RequestScanAsync(repository, digest)).AssertStatus(HttpStatusCode.Accepted, host.DescribeRegistry);
            }

            var database = await writer.GetDatabaseAsync();
            output.WriteLine($"Queue length reported just before the kill: {database.Json?["queueLength"]}");
        }

        await host.StopAsync();

        // 2. Start again on the same data folder. Every queued scan completes without a new request.
        await host.StartAgainAsync();
        using var reader = host.ReaderApi();
        foreach (var digest in digests)
        {
            var scan = await reader.WaitForScanAsync(repository, digest, ScanningRegistryFixture.ScanTimeout);
            Assert.True(scan["status"]?.GetValue<string>() == "completed", $"The scan of {digest} did not complete after the restart: {scan.ToJsonString()}");
            Assert.NotEmpty(ScanningApiClient.Findings(scan, OsvArchives.BusyboxId));
        }

        var after = (await reader.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, host.DescribeRegistry);
        Assert.Equal(0, after["queueLength"]?.GetValue<int>());
    }
}

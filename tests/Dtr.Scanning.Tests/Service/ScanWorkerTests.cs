using Dtr.Digests;
using Dtr.Names;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Scanning.Tests.Service;

public sealed class ScanWorkerTests : IDisposable
{
    private static readonly RepositoryName Repository = RepositoryName.Parse("alice/app");
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);
    private readonly string _folder = Directory.CreateTempSubdirectory("dtr-scan-worker-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Worker_RunsJobQueuedInProcess()
    {
        await using var host = await ScanningTestHost.StartAsync(folder: _folder);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        var worker = host.Get<ScanWorker>();
        // A long poll shows that the in-process signal, not polling, starts the scan.
        worker.PollInterval = TimeSpan.FromMinutes(10);
        await worker.StartAsync(CancellationToken.None);

        Assert.True(await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None));

        var scan = await WaitForScanAsync(host, digest);
        Assert.Equal(ScanStatus.Completed, scan.Status);
        await WaitUntilAsync(async () => await host.Store.CountScanJobsAsync() == 0, "the finished job was not removed from the queue");
        await worker.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Worker_RestartedHostRunsJobQueuedBefore()
    {
        Digest digest;
        await using (var first = await ScanningTestHost.StartAsync(folder: _folder))
        {
            (digest, _) = await first.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
            await first.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Push, CancellationToken.None);
        }

        await using var second = await ScanningTestHost.StartAsync(folder: _folder);
        Assert.Equal(1, await second.Store.CountScanJobsAsync());
        var worker = second.Get<ScanWorker>();
        await worker.StartAsync(CancellationToken.None);

        var scan = await WaitForScanAsync(second, digest);
        Assert.Equal(ScanStatus.Completed, scan.Status);
        await worker.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Worker_RetriesJobOfDeadHost()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await ScanningTestHost.StartAsync(folder: _folder, time: time);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None);
        var options = host.Get<Microsoft.Extensions.Options.IOptions<ScanningOptions>>().Value;

        // A host claims the job and dies; its lease runs out.
        var now = time.GetUtcNow();
        Assert.NotNull(await host.Store.TryClaimScanJobAsync("dead-host", now, now + options.JobLeaseDuration));
        time.Advance(options.JobLeaseDuration + TimeSpan.FromSeconds(1));

        var worker = host.Get<ScanWorker>();
        await worker.StartAsync(CancellationToken.None);

        var scan = await WaitForScanAsync(host, digest);
        Assert.Equal(ScanStatus.Completed, scan.Status);
        await worker.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Worker_GivesUpAfterMaxAttempts()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await ScanningTestHost.StartAsync(options => options.MaxAttempts = 2, folder: _folder, time: time);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None);
        var lease = TimeSpan.FromMinutes(5);

        // Two hosts claim the job in turn, and each dies before finishing.
        for (var attempt = 0; attempt < 2; attempt++)
        {
            var now = time.GetUtcNow();
            Assert.NotNull(await host.Store.TryClaimScanJobAsync($"dead-host-{attempt}", now, now + lease));
            time.Advance(lease + TimeSpan.FromSeconds(1));
        }

        var worker = host.Get<ScanWorker>();
        await worker.StartAsync(CancellationToken.None);

        var scan = await WaitForScanAsync(host, digest);
        Assert.Equal(ScanStatus.Failed, scan.Status);
        Assert.Contains("MaxAttempts", scan.ResultJson, StringComparison.Ordinal);
        await WaitUntilAsync(async () => await host.Store.CountScanJobsAsync() == 0, "the abandoned job was not removed from the queue");
        await worker.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Worker_Disabled_LeavesQueueAlone()
    {
        await using var host = await ScanningTestHost.StartAsync(options => options.Enabled = false, folder: _folder);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None);
        var worker = host.Get<ScanWorker>();

        await worker.StartAsync(CancellationToken.None);

        // The worker wakes on the queued job and on each poll, but claims nothing while scanning is off.
        worker.PollInterval = TimeSpan.FromMilliseconds(50);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(worker.ExecuteTask!.IsCompleted);
        Assert.Equal(1, await host.Store.CountScanJobsAsync());
        Assert.Null(await host.Store.GetImageScanAsync(digest));
        await worker.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Worker_EnabledAtRunTime_ScansQueue()
    {
        await using var host = await ScanningTestHost.StartAsync(options => options.Enabled = false, folder: _folder);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None);
        var worker = host.Get<ScanWorker>();
        await worker.StartAsync(CancellationToken.None);

        var monitor = (Dtr.Tests.Shared.TestOptionsMonitor<ScanningOptions>)host.Get<Microsoft.Extensions.Options.IOptionsMonitor<ScanningOptions>>();
        var enabled = host.Get<Microsoft.Extensions.Options.IOptions<ScanningOptions>>().Value;
        enabled.Enabled = true;
        monitor.Change(enabled);

        var scan = await WaitForScanAsync(host, digest);
        Assert.Equal(ScanStatus.Completed, scan.Status);
        await worker.StopAsync(CancellationToken.None);
    }

    private static async Task<ImageScan> WaitForScanAsync(ScanningTestHost host, Digest digest)
    {
        ImageScan? scan = null;
        await WaitUntilAsync(async () => (scan = await host.Store.GetImageScanAsync(digest)) is not null, $"no scan of {digest} was stored");
        return scan!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"After {WaitLimit.TotalSeconds} s: {failure}.");
            }

            await Task.Delay(50);
        }
    }
}

using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Gc.Tests;

/// <summary>How runs start, stop and end: the lease, cancellation, the budget and host shutdown.</summary>
public sealed class RunLifecycleTests
{
    private static readonly RepositoryName App = RepositoryName.Parse("team/app");

    /// <summary>A blob store hook that stops the run at its blob listing until the run's token is cancelled.</summary>
    private sealed class Gate
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Entered => _entered.Task;

        public async Task HoldAsync(CancellationToken cancellationToken)
        {
            _entered.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
    }

    private static async Task<(GarbageCollector Collector, Gate Gate)> HeldCollectorAsync(GcTestHost host)
    {
        var gate = new Gate();
        var collector = host.CreateCollector(new HookedBlobStore(host.Blobs, gate.HoldAsync));
        await Task.CompletedTask;
        return (collector, gate);
    }

    [Fact]
    public async Task HeldLease_RejectsRun()
    {
        await using var host = await GcTestHost.StartAsync();
        var now = host.Time.GetUtcNow();
        Assert.True(await host.Leases.TryAcquireLeaseAsync("garbage-collection", "another-host", now, now.AddMinutes(2)));

        var exception = await Assert.ThrowsAsync<GarbageCollectionConflictException>(async () => await host.Collector.RunAsync(new GarbageCollectionRequest()));

        Assert.Null(exception.RunningRunId);
        Assert.Empty(await host.Store.ListRunsAsync(null, 10));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(31 * 24 * 60)]
    [InlineData(int.MaxValue)]
    public async Task InvalidBudget_RejectedBeforeRun(int minutes)
    {
        await using var host = await GcTestHost.StartAsync();
        var request = new GarbageCollectionRequest { MaxDuration = TimeSpan.FromMinutes(minutes) };

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await host.Collector.StartAsync(request));

        Assert.Empty(await host.Store.ListRunsAsync(null, 10));
    }

    [Fact]
    public async Task RunningRun_RejectsSecondHost()
    {
        await using var first = await GcTestHost.StartAsync();
        await using var second = await GcTestHost.StartAsync(folder: first.Folder, time: first.Time);
        var (collector, gate) = await HeldCollectorAsync(first);
        await using var _ = collector;
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        var exception = await Assert.ThrowsAsync<GarbageCollectionConflictException>(async () => await second.Collector.StartAsync(new GarbageCollectionRequest()));

        Assert.Equal(running.Id, exception.RunningRunId);
        Assert.True(await second.Collector.CancelAsync(running.Id));
        first.Time.Advance(first.Options.HeartbeatInterval);
        Assert.Equal(GarbageCollectionStatus.Cancelled, (await first.WaitForEndAsync(running.Id)).Status);
    }

    [Fact]
    public async Task CancelFromSecondHost_StopsRun()
    {
        await using var first = await GcTestHost.StartAsync();
        await using var second = await GcTestHost.StartAsync(folder: first.Folder, time: first.Time);
        await first.StoreBlobAsync(GcTestHost.Bytes("loose"));
        first.PassGracePeriod();
        var (collector, gate) = await HeldCollectorAsync(first);
        await using var _ = collector;
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        Assert.True(await second.Collector.CancelAsync(running.Id));
        first.Time.Advance(first.Options.HeartbeatInterval);
        var ended = await first.WaitForEndAsync(running.Id);

        Assert.Equal(GarbageCollectionStatus.Cancelled, ended.Status);
        Assert.True(ended.CancelRequested);
        Assert.NotNull(ended.EndedAt);
        Assert.Equal(0, ended.BlobsDeleted);
        Assert.Single(await first.ListBlobsAsync());
        Assert.False(await second.Collector.CancelAsync(running.Id));

        // The lease is released, so the second host can run now.
        var next = await second.Collector.RunAsync(new GarbageCollectionRequest());
        Assert.Equal(GarbageCollectionStatus.Completed, next.Status);
        Assert.Empty(await first.ListBlobsAsync());
    }

    [Fact]
    public async Task CallerCancellation_EndsCancelled()
    {
        await using var host = await GcTestHost.StartAsync();
        var (collector, gate) = await HeldCollectorAsync(host);
        await using var _ = collector;
        using var cancellation = new CancellationTokenSource();

        var run = collector.RunAsync(new GarbageCollectionRequest(), cancellation.Token).AsTask();
        await gate.Entered;
        await cancellation.CancelAsync();
        var ended = await run;

        Assert.Equal(GarbageCollectionStatus.Cancelled, ended.Status);
        Assert.Equal(GarbageCollectionStatus.Cancelled, (await host.Store.GetRunAsync(ended.Id))?.Status);
    }

    [Fact]
    public async Task LostLease_EndsInterrupted()
    {
        await using var host = await GcTestHost.StartAsync();
        var (collector, gate) = await HeldCollectorAsync(host);
        await using var _ = collector;
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        // Another host takes the lease as if this host's had expired.
        var later = host.Time.GetUtcNow() + host.Options.LeaseDuration;
        Assert.True(await host.Leases.TryAcquireLeaseAsync("garbage-collection", "another-host", later, later.AddMinutes(2)));
        host.Time.Advance(host.Options.HeartbeatInterval);
        var ended = await host.WaitForEndAsync(running.Id);

        Assert.Equal(GarbageCollectionStatus.Interrupted, ended.Status);
        var now = host.Time.GetUtcNow();
        Assert.False(await host.Leases.TryAcquireLeaseAsync("garbage-collection", "third-host", now, now.AddMinutes(1)));
    }

    [Fact]
    public async Task Heartbeat_RecordsProgress()
    {
        await using var host = await GcTestHost.StartAsync();
        var (collector, gate) = await HeldCollectorAsync(host);
        await using var _ = collector;
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        host.Time.Advance(host.Options.HeartbeatInterval);
        var expected = host.Time.GetUtcNow();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        GarbageCollectionRun? stored;
        do
        {
            await Task.Delay(20);
            stored = await host.Store.GetRunAsync(running.Id);
        }
        while (stored?.HeartbeatAt != expected && DateTime.UtcNow < deadline);

        Assert.Equal(expected, stored?.HeartbeatAt);
        Assert.Equal(GarbageCollectionStatus.Running, stored?.Status);
        Assert.True(await collector.CancelAsync(running.Id));
        host.Time.Advance(host.Options.HeartbeatInterval);
        Assert.Equal(GarbageCollectionStatus.Cancelled, (await host.WaitForEndAsync(running.Id)).Status);
    }

    [Fact]
    public async Task Budget_StopsRunAfterManifests()
    {
        await using var host = await GcTestHost.StartAsync();
        var untagged = await host.PushImageAsync(App, GcTestHost.Bytes("config"), [GcTestHost.Bytes("layer")]);
        host.PassGracePeriod();
        var collector = host.CreateCollector(new HookedBlobStore(host.Blobs, _ =>
        {
            host.Time.Advance(TimeSpan.FromMinutes(11));
            return Task.CompletedTask;
        }));
        await using var _ = collector;

        var run = await collector.RunAsync(new GarbageCollectionRequest { DeleteUntagged = true, MaxDuration = TimeSpan.FromMinutes(10) });

        Assert.Equal(GarbageCollectionStatus.BudgetExhausted, run.Status);
        Assert.Equal(1, run.ManifestsDeleted);
        Assert.Equal(0, run.BlobsDeleted);
        Assert.Equal(2, (await host.ListBlobsAsync()).Count);
        Assert.Null(await host.Metadata.GetManifestAsync(App, ManifestReference.ForDigest(untagged.Digest)));
        Assert.Equal(GarbageCollectionStatus.BudgetExhausted, (await host.Store.GetRunAsync(run.Id))?.Status);

        var next = await host.Collector.RunAsync(new GarbageCollectionRequest());
        Assert.Equal(GarbageCollectionStatus.Completed, next.Status);
        Assert.Empty(await host.ListBlobsAsync());
    }

    [Fact]
    public async Task HostShutdown_InterruptsBackgroundRun()
    {
        await using var host = await GcTestHost.StartAsync();
        var (collector, gate) = await HeldCollectorAsync(host);
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        await ((IHostedService)collector).StopAsync(CancellationToken.None);

        Assert.Equal(GarbageCollectionStatus.Interrupted, (await host.Store.GetRunAsync(running.Id))?.Status);
        await collector.DisposeAsync();
    }

    [Fact]
    public async Task HostShutdown_InterruptsInlineRun()
    {
        await using var host = await GcTestHost.StartAsync();
        var (collector, gate) = await HeldCollectorAsync(host);

        var run = collector.RunAsync(new GarbageCollectionRequest()).AsTask();
        await gate.Entered;
        await ((IHostedService)collector).StopAsync(CancellationToken.None);
        var ended = await run;

        Assert.Equal(GarbageCollectionStatus.Interrupted, ended.Status);
        await collector.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await collector.RunAsync(new GarbageCollectionRequest()));
    }

    [Fact]
    public async Task FailedBlobDelete_IsRecordedNotFatal()
    {
        await using var host = await GcTestHost.StartAsync();
        var failing = await host.StoreBlobAsync(GcTestHost.Bytes("failing"));
        var other = await host.StoreBlobAsync(GcTestHost.Bytes("other"));
        host.PassGracePeriod();
        var collector = host.CreateCollector(new HookedBlobStore(host.Blobs, _ => Task.CompletedTask, digest =>
        {
            if (digest == failing)
            {
                throw new IOException("The disk is read-only.");
            }
        }));
        await using var _ = collector;

        var run = await collector.RunAsync(new GarbageCollectionRequest());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.Equal(1, run.BlobsDeleted);
        var error = Assert.Single(run.Errors);
        Assert.Contains(failing.Value, error);
        Assert.Contains("The disk is read-only.", error);
        Assert.NotNull(await host.Blobs.StatAsync(failing));
        Assert.Null(await host.Blobs.StatAsync(other));
        Assert.Empty(await host.Store.ListPendingBlobDeletionsAsync(10));
        await host.Metadata.LinkBlobAsync(App, failing, 10);
    }

    [Fact]
    public async Task NewRun_MarksAbandonedRunsInterrupted()
    {
        await using var host = await GcTestHost.StartAsync();
        await host.Store.CreateRunAsync(new GarbageCollectionRun { Id = "abandoned", Status = GarbageCollectionStatus.Running, StartedAt = host.Time.GetUtcNow() });

        var run = await host.Collector.RunAsync(new GarbageCollectionRequest());

        Assert.Equal(GarbageCollectionStatus.Completed, run.Status);
        Assert.Equal(GarbageCollectionStatus.Interrupted, (await host.Store.GetRunAsync("abandoned"))?.Status);
    }

    [Fact]
    public async Task FrozenHostRun_IsInterruptedOnRead()
    {
        await using var first = await GcTestHost.StartAsync();
        // The second host has its own clock, so moving it fires no heartbeat on the first host, as if that host had
        // been killed while its run held the lease.
        var secondTime = new FakeTimeProvider(first.Time.GetUtcNow());
        await using var second = await GcTestHost.StartAsync(folder: first.Folder, time: secondTime);
        var (collector, gate) = await HeldCollectorAsync(first);
        await using var _ = collector;
        var running = await collector.StartAsync(new GarbageCollectionRequest());
        await gate.Entered;

        secondTime.Advance(first.Options.LeaseDuration - TimeSpan.FromSeconds(1));
        var beforeExpiry = await second.Collector.GetRunAsync(running.Id);
        secondTime.Advance(TimeSpan.FromSeconds(2));
        var afterExpiry = await second.Collector.GetRunAsync(running.Id);
        var listed = await second.Collector.ListRunsAsync(null, 10);
        var next = await second.Collector.RunAsync(new GarbageCollectionRequest());

        Assert.Equal(GarbageCollectionStatus.Running, beforeExpiry?.Status);
        Assert.Equal(GarbageCollectionStatus.Interrupted, afterExpiry?.Status);
        Assert.Equal(secondTime.GetUtcNow(), afterExpiry?.EndedAt);
        Assert.Equal(GarbageCollectionStatus.Interrupted, Assert.Single(listed).Status);
        Assert.Equal(GarbageCollectionStatus.Completed, next.Status);
    }

    [Fact]
    public async Task StaleRunWithHeldLease_StaysRunning()
    {
        await using var first = await GcTestHost.StartAsync();
        await using var second = await GcTestHost.StartAsync(folder: first.Folder, time: first.Time);
        var now = first.Time.GetUtcNow();
        await first.Store.CreateRunAsync(new GarbageCollectionRun { Id = "slow", Status = GarbageCollectionStatus.Running, StartedAt = now, HeartbeatAt = now });
        Assert.True(await first.Leases.TryAcquireLeaseAsync("garbage-collection", "slow", now, now.AddHours(1)));
        first.Time.Advance(first.Options.LeaseDuration * 2);

        var run = await second.Collector.GetRunAsync("slow");
        var listed = await second.Collector.ListRunsAsync(null, 10);

        Assert.Equal(GarbageCollectionStatus.Running, run?.Status);
        Assert.Equal(GarbageCollectionStatus.Running, Assert.Single(listed).Status);
        await Assert.ThrowsAsync<GarbageCollectionConflictException>(async () => await second.Collector.RunAsync(new GarbageCollectionRequest()));
    }

    [Fact]
    public async Task HostStart_InterruptsAbandonedRun()
    {
        await using var first = await GcTestHost.StartAsync();
        await using var second = await GcTestHost.StartAsync(folder: first.Folder, time: first.Time);
        var now = first.Time.GetUtcNow();
        await first.Store.CreateRunAsync(new GarbageCollectionRun { Id = "abandoned", Status = GarbageCollectionStatus.Running, StartedAt = now, HeartbeatAt = now });

        await ((IHostedService)second.Collector).StartAsync(CancellationToken.None);

        var run = await first.Store.GetRunAsync("abandoned");
        Assert.Equal(GarbageCollectionStatus.Interrupted, run?.Status);
        Assert.Equal(now, run?.EndedAt);
        Assert.True(await first.Leases.TryAcquireLeaseAsync("garbage-collection", "next", now, now.AddMinutes(1)));
    }
}

using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Gc.Tests;

public sealed class SchedulerRunTests
{
    /// <summary>Advances the fake clock a minute at a time until a scheduled run has ended, or fails after 30 s of real time.</summary>
    private static async Task<List<GarbageCollectionRun>> AdvanceUntilScheduledRunsAsync(GcTestHost host, int count, TimeSpan limit)
    {
        var end = host.Time.GetUtcNow() + limit;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            var runs = await host.Store.ListRunsAsync(null, 10, GarbageCollectionTrigger.Schedule);
            if (runs.Count(run => run.Status != GarbageCollectionStatus.Running) >= count || host.Time.GetUtcNow() >= end)
            {
                return [.. runs];
            }

            host.Time.Advance(TimeSpan.FromMinutes(1));
            await Task.Delay(50);
        }

        return [.. await host.Store.ListRunsAsync(null, 10, GarbageCollectionTrigger.Schedule)];
    }

    [Fact]
    public async Task Interval_StartsScheduledRuns()
    {
        await using var host = await GcTestHost.StartAsync(options =>
        {
            options.ScheduleInterval = TimeSpan.FromMinutes(10);
            options.ScheduleDeletesUntagged = true;
        });
        var hostStart = host.Time.GetUtcNow();
        var scheduler = host.Services.GetRequiredService<GarbageCollectionScheduler>();
        await scheduler.StartAsync(CancellationToken.None);

        var runs = await AdvanceUntilScheduledRunsAsync(host, 2, TimeSpan.FromMinutes(40));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.True(runs.Count >= 2, $"{runs.Count} scheduled runs ended.");
        var first = runs[^1];
        var second = runs[^2];
        Assert.Equal(GarbageCollectionStatus.Completed, first.Status);
        Assert.True(first.DeleteUntagged);
        Assert.Equal(host.Options.ScheduleMaxDuration, first.MaxDuration);
        // The clock moves a minute at a time while the schedule reacts, so a run may start a few steps after its due time.
        Assert.InRange(first.StartedAt, hostStart.AddMinutes(10), hostStart.AddMinutes(15));
        Assert.InRange(second.StartedAt, first.StartedAt.AddMinutes(10), first.StartedAt.AddMinutes(15));
    }

    [Fact]
    public async Task NoSchedule_StartsNothing()
    {
        await using var host = await GcTestHost.StartAsync();
        var scheduler = host.Services.GetRequiredService<GarbageCollectionScheduler>();
        await scheduler.StartAsync(CancellationToken.None);

        var runs = await AdvanceUntilScheduledRunsAsync(host, 1, TimeSpan.FromHours(2));
        await scheduler.StopAsync(CancellationToken.None);

        Assert.Empty(runs);
        Assert.True(scheduler.ExecuteTask?.IsCompleted);
    }

    [Fact]
    public async Task TwoHosts_RunEachOccurrenceOnce()
    {
        const string Cron = "*/10 * * * *";
        await using var first = await GcTestHost.StartAsync(options => options.ScheduleCron = Cron);
        await using var second = await GcTestHost.StartAsync(options => options.ScheduleCron = Cron, first.Folder, first.Time);
        var hostStart = first.Time.GetUtcNow();
        var firstScheduler = first.Services.GetRequiredService<GarbageCollectionScheduler>();
        var secondScheduler = second.Services.GetRequiredService<GarbageCollectionScheduler>();
        await firstScheduler.StartAsync(CancellationToken.None);
        await secondScheduler.StartAsync(CancellationToken.None);

        var runs = await AdvanceUntilScheduledRunsAsync(first, 3, TimeSpan.FromMinutes(50));
        await firstScheduler.StopAsync(CancellationToken.None);
        await secondScheduler.StopAsync(CancellationToken.None);

        Assert.True(runs.Count >= 3, $"{runs.Count} scheduled runs ended.");
        var cron = Cronos.CronExpression.Parse(Cron);
        var previous = hostStart;
        foreach (var run in runs.AsEnumerable().Reverse())
        {
            Assert.True(run.StartedAt >= cron.GetNextOccurrence(previous, TimeZoneInfo.Utc), $"Run {run.Id} started at {run.StartedAt:O}, before the occurrence after {previous:O}.");
            previous = run.StartedAt;
        }
    }
}

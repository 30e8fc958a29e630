using Cronos;
using Dtr.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Gc;

/// <summary>
/// Starts garbage collection runs at <see cref="GarbageCollectionOptions.ScheduleInterval"/> or at the times of
/// <see cref="GarbageCollectionOptions.ScheduleCron"/>. Every host runs the schedule. The collection lease lets one of
/// them run each due run, and the others read its record and wait for the next due time.
/// </summary>
internal sealed class GarbageCollectionScheduler : BackgroundService
{
    /// <summary>The longest sleep between two checks, so a run recorded by another host is seen soon.</summary>
    internal static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(1);

    private readonly GarbageCollector _collector;
    private readonly IGarbageCollectionStore _store;
    private readonly TimeProvider _time;
    private readonly IOptions<GarbageCollectionOptions> _options;
    private readonly ILogger<GarbageCollectionScheduler> _logger;

    public GarbageCollectionScheduler(
        GarbageCollector collector,
        IGarbageCollectionStore store,
        TimeProvider time,
        IOptions<GarbageCollectionOptions> options,
        ILogger<GarbageCollectionScheduler> logger)
    {
        _collector = collector;
        _store = store;
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>
    /// Computes when the next scheduled run is due: one interval after the start of the last scheduled run, or the
    /// first cron occurrence after it; with no scheduled run recorded yet, counted from <paramref name="hostStart"/>.
    /// Returns null when the schedule is off or the cron expression has no later occurrence.
    /// </summary>
    internal static DateTimeOffset? ComputeNextDue(
        TimeSpan? interval,
        CronExpression? cron,
        TimeZoneInfo timeZone,
        DateTimeOffset? lastScheduledStart,
        DateTimeOffset hostStart)
    {
        var from = lastScheduledStart ?? hostStart;
        if (interval is { } period)
        {
            return from + period;
        }

        return cron?.GetNextOccurrence(from, timeZone);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = _options.Value;
        if (options.ScheduleInterval is null && options.ScheduleCron is null)
        {
            return;
        }

        // The options validator has checked both, so neither throws here.
        var cron = options.ScheduleCron is null ? null : GarbageCollectionOptionsValidator.ParseCron(options.ScheduleCron);
        var timeZone = GarbageCollectionOptionsValidator.TryFindTimeZone(options.ScheduleTimeZone) ?? TimeZoneInfo.Utc;
        var hostStart = _time.GetUtcNow();
        GcLog.SchedulerStarted(_logger, options.ScheduleInterval is { } interval ? $"every {interval}" : $"cron '{options.ScheduleCron}' in {timeZone.Id}");
        try
        {
            await RunScheduleAsync(options, cron, timeZone, hostStart, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }

        GcLog.SchedulerStopped(_logger);
    }

    private async Task RunScheduleAsync(GarbageCollectionOptions options, CronExpression? cron, TimeZoneInfo timeZone, DateTimeOffset hostStart, CancellationToken stoppingToken)
    {
        DateTimeOffset? loggedDue = null;
        while (true)
        {
            DateTimeOffset? due;
            try
            {
                var last = await _store.ListRunsAsync(null, 1, GarbageCollectionTrigger.Schedule, stoppingToken);
                due = ComputeNextDue(options.ScheduleInterval, cron, timeZone, last.Count > 0 ? last[0].StartedAt : null, hostStart);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                GcLog.SchedulerFailed(_logger, MaxSleep.TotalSeconds, exception);
                await Task.Delay(MaxSleep, _time, stoppingToken);
                continue;
            }

            if (due is not { } dueAt)
            {
                GcLog.SchedulerNoOccurrence(_logger, options.ScheduleCron ?? string.Empty);
                return;
            }

            if (dueAt != loggedDue)
            {
                GcLog.SchedulerNextDue(_logger, dueAt);
                loggedDue = dueAt;
            }

            var wait = dueAt - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                // Sleep in short steps, so a run that another host starts meanwhile moves the due time.
                await Task.Delay(wait < MaxSleep ? wait : MaxSleep, _time, stoppingToken);
                continue;
            }

            await RunOnceAsync(options, stoppingToken);
        }
    }

    private async Task RunOnceAsync(GarbageCollectionOptions options, CancellationToken stoppingToken)
    {
        var request = new GarbageCollectionRequest
        {
            Trigger = GarbageCollectionTrigger.Schedule,
            DeleteUntagged = options.ScheduleDeletesUntagged,
            MaxDuration = options.ScheduleMaxDuration,
        };
        try
        {
            var run = await _collector.RunAsync(request, GarbageCollectionStatus.Interrupted, stoppingToken);
            GcLog.ScheduledRunEnded(_logger, run.Id, run.Status.ToString());
        }
        catch (GarbageCollectionConflictException exception)
        {
            // Another host runs it, or a manual run holds the lease; look again after one step.
            GcLog.SchedulerConflict(_logger, exception.RunningRunId);
            await Task.Delay(MaxSleep, _time, stoppingToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            GcLog.SchedulerFailed(_logger, MaxSleep.TotalSeconds, exception);
            await Task.Delay(MaxSleep, _time, stoppingToken);
        }
    }
}

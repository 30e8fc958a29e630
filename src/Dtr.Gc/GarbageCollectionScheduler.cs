using Cronos;
using Dtr.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Gc;

/// <summary>
/// Starts garbage collection runs at <see cref="GarbageCollectionOptions.ScheduleInterval"/> or at the times of
/// <see cref="GarbageCollectionOptions.ScheduleCron"/>. Every host runs the schedule. The collection lease lets one of
/// them run each due run, and the others read its record and wait for the next due time. The options come from
/// <see cref="IOptionsMonitor{TOptions}"/>, so the schedule follows a change at run time, including turning it off and on.
/// </summary>
internal sealed class GarbageCollectionScheduler : BackgroundService
{
    /// <summary>The longest sleep between two checks, so a run recorded by another host is seen soon.</summary>
    internal static readonly TimeSpan MaxSleep = TimeSpan.FromMinutes(1);

    private readonly GarbageCollector _collector;
    private readonly IGarbageCollectionStore _store;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<GarbageCollectionOptions> _options;
    private readonly ILogger<GarbageCollectionScheduler> _logger;

    // Completed and replaced when the options change, which ends the current sleep.
    private TaskCompletionSource _optionsChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The description of the schedule that the loop follows, or null while it is off; only the loop writes it.
    private string? _activeSchedule;

    public GarbageCollectionScheduler(
        GarbageCollector collector,
        IGarbageCollectionStore store,
        TimeProvider time,
        IOptionsMonitor<GarbageCollectionOptions> options,
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
        using var subscription = _options.OnChange(_ =>
            Interlocked.Exchange(ref _optionsChanged, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult());
        var hostStart = _time.GetUtcNow();
        try
        {
            await RunScheduleAsync(hostStart, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }

        if (_activeSchedule is not null)
        {
            GcLog.SchedulerStopped(_logger);
        }
    }

    /// <summary>
    /// Runs the schedule until the host stops. The options are read again on every step, so a change of the schedule,
    /// time zone, budget or untagged setting applies to the next due run without a restart.
    /// </summary>
    private async Task RunScheduleAsync(DateTimeOffset hostStart, CancellationToken stoppingToken)
    {
        DateTimeOffset? loggedDue = null;
        string? loggedNoOccurrence = null;
        while (true)
        {
            // Taken before the options are read, so a change made meanwhile still ends the sleep below.
            var changed = Volatile.Read(ref _optionsChanged).Task;
            var options = _options.CurrentValue;

            // The options validator has checked the cron expression and the time zone, so neither throws here.
            var cron = options.ScheduleCron is null ? null : GarbageCollectionOptionsValidator.ParseCron(options.ScheduleCron);
            var timeZone = GarbageCollectionOptionsValidator.TryFindTimeZone(options.ScheduleTimeZone) ?? TimeZoneInfo.Utc;
            var schedule = options.ScheduleInterval is { } interval ? $"every {interval}"
                : options.ScheduleCron is { } expression ? $"cron '{expression}' in {timeZone.Id}"
                : null;
            if (schedule != _activeSchedule)
            {
                if (schedule is null)
                {
                    GcLog.SchedulerStopped(_logger);
                }
                else
                {
                    GcLog.SchedulerStarted(_logger, schedule);
                }

                _activeSchedule = schedule;
                loggedDue = null;
            }

            if (schedule is null)
            {
                await SleepAsync(MaxSleep, changed, stoppingToken);
                continue;
            }

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
                // The schedule stays idle until the options change to a cron expression with a later occurrence.
                if (loggedNoOccurrence != options.ScheduleCron)
                {
                    GcLog.SchedulerNoOccurrence(_logger, options.ScheduleCron ?? string.Empty);
                    loggedNoOccurrence = options.ScheduleCron;
                }

                await SleepAsync(MaxSleep, changed, stoppingToken);
                continue;
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
                await SleepAsync(wait < MaxSleep ? wait : MaxSleep, changed, stoppingToken);
                continue;
            }

            await RunOnceAsync(options, dueAt, stoppingToken);
        }
    }

    /// <summary>Waits for <paramref name="delay"/>, or less when the options change meanwhile.</summary>
    private async Task SleepAsync(TimeSpan delay, Task changed, CancellationToken stoppingToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var sleep = Task.Delay(delay, _time, timer.Token);
        await Task.WhenAny(sleep, changed);
        await timer.CancelAsync();
        stoppingToken.ThrowIfCancellationRequested();
    }

    private async Task RunOnceAsync(GarbageCollectionOptions options, DateTimeOffset dueAt, CancellationToken stoppingToken)
    {
        var request = new GarbageCollectionRequest
        {
            Trigger = GarbageCollectionTrigger.Schedule,
            ScheduledFor = dueAt,
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
            // Another host runs it or already ran it, or a manual run holds the lease; look again after one step.
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

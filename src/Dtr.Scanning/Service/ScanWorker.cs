using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Scanning.Service;

/// <summary>
/// Runs queued scans: claims jobs from <see cref="IScanStore"/> with a lease, runs up to
/// <see cref="ScanningOptions.Concurrency"/> at once, renews each lease while its scan runs, and removes the job when
/// it finishes. A job whose host stopped is claimed again once its lease expires, up to
/// <see cref="ScanningOptions.MaxAttempts"/> claims, and then recorded as a failed scan. Claims jobs only while
/// <see cref="ScanningOptions.Enabled"/> is true; the options are read through <see cref="IOptionsMonitor{TOptions}"/>,
/// so turning scanning off at run time pauses the worker and turning it on resumes it without a restart.
/// </summary>
/// <remarks>
/// On shutdown the running scans are cancelled and their jobs stay claimed. When the leases expire, another host or
/// this one after a restart claims them again.
/// </remarks>
internal sealed class ScanWorker : BackgroundService
{
    private readonly IScanStore _store;
    private readonly ImageScanner _scanner;
    private readonly ScanQueue _queue;
    private readonly IOptionsMonitor<ScanningOptions> _options;
    private readonly ScanningMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly IScanListener[] _listeners;
    private readonly ILogger<ScanWorker> _logger;

    public ScanWorker(
        IScanStore store,
        ImageScanner scanner,
        ScanQueue queue,
        IOptionsMonitor<ScanningOptions> options,
        ScanningMetrics metrics,
        TimeProvider time,
        IEnumerable<IScanListener> listeners,
        ILogger<ScanWorker> logger)
    {
        _listeners = listeners.ToArray();
        _metrics = metrics;
        _store = store;
        _scanner = scanner;
        _queue = queue;
        _options = options;
        _time = time;
        _logger = logger;
        Holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    }

    /// <summary>
    /// How often the worker looks for jobs that other hosts queued. Jobs queued in this process wake it at once.
    /// </summary>
    internal TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the worker waits after the store failed before it tries again.</summary>
    internal TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The name this worker claims jobs under; unique to this instance.</summary>
    internal string Holder { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A change of the options wakes the loop, so a pause or resume takes effect at once.
        using var subscription = _options.OnChange(_ => _queue.Signal.Set());
        var running = new List<Task>();
        bool? enabled = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                running.RemoveAll(task => task.IsCompleted);
                var options = _options.CurrentValue;
                if (options.Enabled != enabled)
                {
                    if (options.Enabled)
                    {
                        ScanningLog.WorkerStarted(_logger, Holder, options.Concurrency);
                    }
                    else
                    {
                        // Scans that already run finish; no new job is claimed until scanning is turned on again.
                        ScanningLog.WorkerPaused(_logger, Holder);
                    }

                    enabled = options.Enabled;
                }

                try
                {
                    if (options.Enabled)
                    {
                        await ClaimJobsAsync(options, running, stoppingToken);
                    }

                    if (_metrics.QueueLengthEnabled)
                    {
                        _metrics.SetQueueLength(await _store.CountScanJobsAsync(stoppingToken));
                    }
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    ScanningLog.QueueFailed(_logger, Holder, FailureDelay.TotalSeconds, exception);
                    await Task.Delay(FailureDelay, _time, stoppingToken);
                    continue;
                }

                // Wake when a job is queued here, when a running scan finishes (a slot is free), or at the next poll.
                var wake = _queue.Signal.WaitAsync(PollInterval, _time, stoppingToken);
                if (running.Count > 0)
                {
                    await Task.WhenAny(wake, Task.WhenAny(running));
                }
                else
                {
                    await wake;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        // Running scans observe the same token; wait for them so that none writes after the host stopped.
        await Task.WhenAll(running.Select(task => task.ContinueWith(_ => { }, TaskScheduler.Default)));
        ScanningLog.WorkerStopped(_logger, Holder);
    }

    private async Task ClaimJobsAsync(ScanningOptions options, List<Task> running, CancellationToken stoppingToken)
    {
        while (running.Count < options.Concurrency && !stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            var job = await _store.TryClaimScanJobAsync(Holder, now, now + options.JobLeaseDuration, stoppingToken);
            if (job is null)
            {
                return;
            }

            running.Add(Task.Run(() => RunJobAsync(job, stoppingToken), CancellationToken.None));
        }
    }

    /// <summary>Runs one claimed job to its end, renewing its lease meanwhile.</summary>
    internal async Task RunJobAsync(ScanJob job, CancellationToken stoppingToken)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            if (job.Attempts > _options.CurrentValue.MaxAttempts)
            {
                ScanningLog.JobGaveUp(_logger, job.Id, job.Repository.Value, job.Manifest.Value, job.Attempts - 1);
                var error = $"The scan was started {job.Attempts - 1} times (Registry:Scanning:MaxAttempts) and the host running it stopped each time before it finished.";
                await _scanner.StoreFailureAsync(job.Repository, job.Manifest, "", error, null, stoppingToken);
                await _store.CompleteScanJobAsync(job.Id, Holder, stoppingToken);
                NotifyListeners(job);
                return;
            }

            ScanningLog.JobClaimed(_logger, job.Id, job.Repository.Value, job.Manifest.Value, job.Attempts);
            using var scan = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            using var renewStop = new CancellationTokenSource();
            var renewal = RenewLeaseAsync(job, scan, renewStop.Token);
            int images;
            try
            {
                images = await _scanner.ScanAsync(job.Repository, job.Manifest, scan.Token);
            }
            finally
            {
                await renewStop.CancelAsync();
                await renewal;
            }

            if (scan.IsCancellationRequested)
            {
                return;
            }

            await _store.CompleteScanJobAsync(job.Id, Holder, stoppingToken);
            NotifyListeners(job);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            _metrics.ScanEnded(succeeded: true, seconds);
            ScanningLog.JobFinished(_logger, job.Id, job.Repository.Value, job.Manifest.Value, images, seconds);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the job stays claimed until its lease expires.
        }
        catch (OperationCanceledException)
        {
            // The lease was lost, which RenewLeaseAsync logged; the new holder finishes the job.
        }
        catch (Exception exception)
        {
            _metrics.ScanEnded(succeeded: false, Stopwatch.GetElapsedTime(started).TotalSeconds);
            ScanningLog.JobFailed(_logger, job.Id, job.Repository.Value, job.Manifest.Value, exception);
        }
    }

    private void NotifyListeners(ScanJob job)
    {
        foreach (var listener in _listeners)
        {
            try
            {
                listener.ScanEnded(job.Repository, job.Manifest);
            }
            catch (Exception exception)
            {
                ScanningLog.ListenerFailed(_logger, job.Id, job.Repository.Value, job.Manifest.Value, exception);
            }
        }
    }

    /// <summary>Renews the job's lease at a third of its duration, and cancels the scan when another host took it.</summary>
    private async Task RenewLeaseAsync(ScanJob job, CancellationTokenSource scan, CancellationToken stop)
    {
        var period = _options.CurrentValue.JobLeaseDuration / 3;
        try
        {
            while (true)
            {
                await Task.Delay(period, _time, stop);
                try
                {
                    var now = _time.GetUtcNow();
                    if (!await _store.RenewScanJobAsync(job.Id, Holder, now + _options.CurrentValue.JobLeaseDuration, stop))
                    {
                        ScanningLog.JobLeaseLost(_logger, job.Id, job.Manifest.Value);
                        await scan.CancelAsync();
                        return;
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    ScanningLog.JobRenewFailed(_logger, job.Id, job.Manifest.Value, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }
}

using Dtr.Metadata;
using Microsoft.Extensions.Logging;

namespace Dtr.Gc;

/// <summary>
/// The state of one run on this host: its record, counts, errors and unwritten items, the token that stops it, and the
/// heartbeat that renews the collection lease, records progress and reads cancellation requests.
/// </summary>
internal sealed class RunContext : IAsyncDisposable
{
    /// <summary>The name of the lease that only one run across hosts holds.</summary>
    public const string LeaseName = "garbage-collection";

    /// <summary>The most error messages a run record keeps.</summary>
    public const int MaxErrors = 50;

    private readonly IGarbageCollectionStore _store;
    private readonly ILeaseStore _leases;
    private readonly TimeProvider _time;
    private readonly GarbageCollectionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop;
    private readonly CancellationTokenSource? _budget;
    private readonly CancellationTokenRegistration _callerRegistration;
    private readonly CancellationTokenRegistration _shutdownRegistration;
    private readonly GarbageCollectionStatus _statusOnCallerCancel;
    private readonly Lock _lock = new();
    private readonly List<string> _errors = [];
    private readonly List<GarbageCollectionItem> _items = [];
    private readonly SemaphoreSlim _itemWriter = new(1, 1);
    private readonly CancellationTokenSource _heartbeatStop = new();
    private GarbageCollectionStatus? _stopStatus;
    private int _omittedErrors;
    private long _manifests;
    private long _blobLinks;
    private long _blobs;
    private long _bytes;
    private long _uploads;
    private Task? _heartbeat;

    public RunContext(
        GarbageCollectionRun run,
        IGarbageCollectionStore store,
        ILeaseStore leases,
        TimeProvider time,
        GarbageCollectionOptions options,
        ILogger logger,
        CancellationToken callerToken,
        GarbageCollectionStatus statusOnCallerCancel,
        CancellationToken shutdownToken)
    {
        Run = run;
        _store = store;
        _leases = leases;
        _time = time;
        _options = options;
        _logger = logger;
        _statusOnCallerCancel = statusOnCallerCancel;
        Cutoff = run.StartedAt - options.GracePeriod;
        _stop = new CancellationTokenSource();
        if (run.MaxDuration is { } budget)
        {
            _budget = new CancellationTokenSource(budget, time);
            _budget.Token.Register(() => RequestStop(GarbageCollectionStatus.BudgetExhausted));
        }

        _callerRegistration = callerToken.Register(() => RequestStop(_statusOnCallerCancel));
        _shutdownRegistration = shutdownToken.Register(() => RequestStop(GarbageCollectionStatus.Interrupted));
    }

    /// <summary>The run's record as created; <see cref="Snapshot"/> adds the current counts.</summary>
    public GarbageCollectionRun Run { get; }

    public string RunId => Run.Id;

    public bool DryRun => Run.DryRun;

    /// <summary>The time before which an item must have been created or last used to be removed.</summary>
    public DateTimeOffset Cutoff { get; }

    /// <summary>Cancelled when the run must stop: cancellation, budget, lost lease or host shutdown.</summary>
    public CancellationToken Token => _stop.Token;

    /// <summary>The status the run ends with because it was stopped, or null while nothing stopped it.</summary>
    public GarbageCollectionStatus? StopStatus
    {
        get
        {
            lock (_lock)
            {
                return _stopStatus;
            }
        }
    }

    public void RequestStop(GarbageCollectionStatus status)
    {
        lock (_lock)
        {
            // The first reason wins: a run cancelled and then out of budget was cancelled.
            _stopStatus ??= status;
        }

        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The run ended while a timer or the caller's token fired.
        }
    }

    /// <summary>Throws when the run must stop, also when its budget ran out on a clock whose timers did not fire yet.</summary>
    public void ThrowIfStopped()
    {
        CheckBudget();
        _stop.Token.ThrowIfCancellationRequested();
    }

    /// <summary>Starts the heartbeat; its timer starts counting now, before this method returns.</summary>
    public void StartHeartbeat()
    {
        var timer = new PeriodicTimer(_options.HeartbeatInterval, _time);
        _heartbeat = Task.Run(() => HeartbeatLoopAsync(timer));
    }

    public void CountManifest() => Interlocked.Increment(ref _manifests);

    public void CountBlobLink() => Interlocked.Increment(ref _blobLinks);

    public void CountBlob(long size)
    {
        Interlocked.Increment(ref _blobs);
        Interlocked.Add(ref _bytes, size);
    }

    public void CountUpload() => Interlocked.Increment(ref _uploads);

    /// <summary>Records a per-item error; the record keeps the first <see cref="MaxErrors"/> messages and counts the rest.</summary>
    public void AddError(string message)
    {
        lock (_lock)
        {
            if (_errors.Count < MaxErrors - 1)
            {
                _errors.Add(message);
            }
            else
            {
                _omittedErrors++;
            }
        }
    }

    public int ErrorCount
    {
        get
        {
            lock (_lock)
            {
                return _errors.Count + _omittedErrors;
            }
        }
    }

    /// <summary>Adds an item to the run's list, and writes the buffered items when a batch is full.</summary>
    public async ValueTask AddItemAsync(GarbageCollectionItem item)
    {
        bool full;
        lock (_lock)
        {
            _items.Add(item);
            full = _items.Count >= _options.BatchSize;
        }

        // A stopped run still records what it removed; the final flush writes the rest.
        if (full && !Token.IsCancellationRequested)
        {
            await FlushItemsAsync(Token);
        }
    }

    /// <summary>Writes the buffered items in batches of <see cref="GarbageCollectionOptions.BatchSize"/>, in the order added.</summary>
    public async ValueTask FlushItemsAsync(CancellationToken cancellationToken)
    {
        await _itemWriter.WaitAsync(cancellationToken);
        try
        {
            while (true)
            {
                List<GarbageCollectionItem> batch;
                lock (_lock)
                {
                    if (_items.Count == 0)
                    {
                        return;
                    }

                    var count = Math.Min(_items.Count, _options.BatchSize);
                    batch = _items.GetRange(0, count);
                    _items.RemoveRange(0, count);
                }

                await _store.AddRunItemsAsync(RunId, batch, cancellationToken);
            }
        }
        finally
        {
            _itemWriter.Release();
        }
    }

    /// <summary>Returns the run record with the current counts and errors.</summary>
    public GarbageCollectionRun Snapshot(GarbageCollectionStatus status, DateTimeOffset? endedAt, DateTimeOffset heartbeatAt)
    {
        List<string> errors;
        lock (_lock)
        {
            errors = [.. _errors];
            if (_omittedErrors > 0)
            {
                errors.Add($"{_omittedErrors} more errors were not recorded; see the host's log.");
            }
        }

        return Run with
        {
            Status = status,
            EndedAt = endedAt,
            HeartbeatAt = heartbeatAt,
            ManifestsDeleted = Interlocked.Read(ref _manifests),
            BlobLinksDeleted = Interlocked.Read(ref _blobLinks),
            BlobsDeleted = Interlocked.Read(ref _blobs),
            BytesFreed = Interlocked.Read(ref _bytes),
            UploadsPurged = Interlocked.Read(ref _uploads),
            Errors = errors,
        };
    }

    /// <summary>Stops the heartbeat and waits for it, so the final record is not overwritten by a late heartbeat.</summary>
    public async ValueTask StopHeartbeatAsync()
    {
        await _heartbeatStop.CancelAsync();
        if (_heartbeat is not null)
        {
            await _heartbeat;
        }
    }

    private async Task HeartbeatLoopAsync(PeriodicTimer timer)
    {
        using var owned = timer;
        try
        {
            while (await timer.WaitForNextTickAsync(_heartbeatStop.Token))
            {
                await BeatAsync(_heartbeatStop.Token);
            }
        }
        catch (OperationCanceledException) when (_heartbeatStop.IsCancellationRequested)
        {
            // The run ended.
        }
    }

    private async Task BeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            var now = _time.GetUtcNow();
            if (!await _leases.TryAcquireLeaseAsync(LeaseName, RunId, now, now + _options.LeaseDuration, cancellationToken))
            {
                GcLog.LeaseLost(_logger, RunId);
                RequestStop(GarbageCollectionStatus.Interrupted);
                return;
            }

            await _store.UpdateRunAsync(Snapshot(GarbageCollectionStatus.Running, null, now), cancellationToken);
            var stored = await _store.GetRunAsync(RunId, cancellationToken);
            if (stored is { CancelRequested: true })
            {
                GcLog.CancelRequested(_logger, RunId);
                RequestStop(GarbageCollectionStatus.Cancelled);
            }

            CheckBudget();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception exception)
        {
            GcLog.HeartbeatFailed(_logger, RunId, exception);
        }
    }

    private void CheckBudget()
    {
        if (Run.MaxDuration is { } budget && _time.GetUtcNow() - Run.StartedAt >= budget)
        {
            RequestStop(GarbageCollectionStatus.BudgetExhausted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _callerRegistration.DisposeAsync();
        await _shutdownRegistration.DisposeAsync();
        _budget?.Dispose();
        _stop.Dispose();
        _heartbeatStop.Dispose();
        _itemWriter.Dispose();
    }
}

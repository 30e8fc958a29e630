using System.Collections.Concurrent;
using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Gc;

/// <summary>
/// Runs garbage collection on the metadata store and the blob store while clients push and pull: marks what tags reach
/// in each repository, removes the rest with deletes that re-check liveness, and records each run for every host.
/// </summary>
/// <remarks>
/// A run takes the <see cref="RunContext.LeaseName"/> lease, so one run goes on at a time across hosts. Runs started
/// with <see cref="StartAsync(GarbageCollectionRequest, CancellationToken)"/> go on in the background and are stopped,
/// as <see cref="GarbageCollectionStatus.Interrupted"/>, when the host stops.
/// </remarks>
internal sealed partial class GarbageCollector : IGarbageCollector, IHostedService, IAsyncDisposable
{
    private static readonly TimeSpan EstimateLifetime = TimeSpan.FromSeconds(30);

    private readonly IGarbageCollectionStore _store;
    private readonly IMetadataStore _metadata;
    private readonly ILeaseStore _leases;
    private readonly IBlobStore _blobs;
    private readonly TimeProvider _time;
    private readonly IOptions<GarbageCollectionOptions> _options;
    private readonly GarbageCollectionMetrics _metrics;
    private readonly ILogger<GarbageCollector> _logger;
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ConcurrentDictionary<string, Task> _backgroundRuns = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<bool, ReclaimableEstimate> _estimates = new();

    public GarbageCollector(
        IGarbageCollectionStore store,
        IMetadataStore metadata,
        ILeaseStore leases,
        IBlobStore blobs,
        TimeProvider time,
        IOptions<GarbageCollectionOptions> options,
        GarbageCollectionMetrics metrics,
        ILogger<GarbageCollector> logger)
    {
        _metrics = metrics;
        _store = store;
        _metadata = metadata;
        _leases = leases;
        _blobs = blobs;
        _time = time;
        _options = options;
        _logger = logger;
    }

    private GarbageCollectionOptions Options => _options.Value;

    /// <inheritdoc />
    public async ValueTask<GarbageCollectionRun> StartAsync(GarbageCollectionRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        var context = await BeginRunAsync(request, CancellationToken.None, GarbageCollectionStatus.Cancelled, cancellationToken);
        var task = Task.Run(async () =>
        {
            await using (context)
            {
                await ExecuteAsync(context);
            }
        }, CancellationToken.None);
        _backgroundRuns[context.RunId] = task;
        _ = task.ContinueWith(_ => _backgroundRuns.TryRemove(context.RunId, out var _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return context.Run;
    }

    /// <inheritdoc />
    public ValueTask<GarbageCollectionRun> RunAsync(GarbageCollectionRequest request, CancellationToken cancellationToken = default) =>
        RunAsync(request, GarbageCollectionStatus.Cancelled, cancellationToken);

    /// <summary>
    /// Runs a run on the caller's task. When <paramref name="cancellationToken"/> is cancelled, the run ends with
    /// <paramref name="statusOnCancel"/>. The schedule passes <see cref="GarbageCollectionStatus.Interrupted"/>, because
    /// its token is cancelled when the host stops.
    /// </summary>
    internal async ValueTask<GarbageCollectionRun> RunAsync(GarbageCollectionRequest request, GarbageCollectionStatus statusOnCancel, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Validate();
        ObjectDisposedException.ThrowIf(_shutdown.IsCancellationRequested, this);
        await using var context = await BeginRunAsync(request, cancellationToken, statusOnCancel, cancellationToken);
        return await ExecuteAsync(context);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GarbageCollectionItem>> ListRunItemsAsync(string runId, long after, int limit, GarbageCollectionItemKind? kind = null, CancellationToken cancellationToken = default) =>
        _store.ListRunItemsAsync(runId, after, limit, kind, cancellationToken);

    /// <inheritdoc />
    public ValueTask<bool> CancelAsync(string runId, CancellationToken cancellationToken = default) =>
        _store.RequestRunCancellationAsync(runId, cancellationToken);

    /// <summary>
    /// Takes the lease, marks runs that a stopped host left running as interrupted, and creates the run record. The
    /// run stops with <paramref name="statusOnCancel"/> when <paramref name="runToken"/> is cancelled, and as
    /// interrupted when this host stops.
    /// </summary>
    private async ValueTask<RunContext> BeginRunAsync(
        GarbageCollectionRequest request,
        CancellationToken runToken,
        GarbageCollectionStatus statusOnCancel,
        CancellationToken cancellationToken)
    {
        var options = Options;
        var runId = Guid.NewGuid().ToString("N");
        var now = _time.GetUtcNow();
        if (!await _leases.TryAcquireLeaseAsync(RunContext.LeaseName, runId, now, now + options.LeaseDuration, cancellationToken))
        {
            var running = await _store.ListRunsAsync(null, 20, null, cancellationToken);
            throw new GarbageCollectionConflictException(running.FirstOrDefault(run => run.Status == GarbageCollectionStatus.Running)?.Id);
        }

        try
        {
            if (request.ScheduledFor is { } due)
            {
                var last = await _store.ListRunsAsync(null, 1, GarbageCollectionTrigger.Schedule, cancellationToken);
                if (last.Count > 0 && last[0].StartedAt >= due)
                {
                    throw new GarbageCollectionConflictException(last[0].Id);
                }
            }

            var interrupted = await _store.MarkRunsInterruptedAsync(runId, now, cancellationToken);
            if (interrupted > 0)
            {
                GcLog.RunsInterrupted(_logger, interrupted);
            }

            var run = new GarbageCollectionRun
            {
                Id = runId,
                Trigger = request.Trigger,
                DryRun = request.DryRun,
                DeleteUntagged = request.DeleteUntagged,
                MaxDuration = request.MaxDuration,
                RequestedBy = request.RequestedBy,
                Host = Environment.MachineName,
                Status = GarbageCollectionStatus.Running,
                StartedAt = now,
                HeartbeatAt = now,
            };
            await _store.CreateRunAsync(run, cancellationToken);
            return new RunContext(run, _store, _leases, _time, options, _logger, runToken, statusOnCancel, _shutdown.Token);
        }
        catch
        {
            await _leases.ReleaseLeaseAsync(RunContext.LeaseName, runId, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Runs the phases, then writes the final record and releases the lease whatever happened.</summary>
    private async Task<GarbageCollectionRun> ExecuteAsync(RunContext context)
    {
        GcLog.RunStarted(_logger, context.RunId, context.Run.Trigger.ToString(), context.DryRun, context.Run.DeleteUntagged, context.Cutoff);
        context.StartHeartbeat();
        GarbageCollectionStatus status;
        try
        {
            if (!context.DryRun)
            {
                await FinishPendingDeletionsAsync(context);
            }

            var marks = await SweepRepositoriesAsync(context);
            await SweepBlobsAsync(context, marks);
            await PurgeUploadsAsync(context);
            await DeleteExpiredRunsAsync(context);
            status = GarbageCollectionStatus.Completed;
        }
        catch (OperationCanceledException) when (context.StopStatus is { } stopStatus)
        {
            status = stopStatus;
            if (stopStatus == GarbageCollectionStatus.BudgetExhausted)
            {
                GcLog.BudgetExhausted(_logger, context.RunId, context.Run.MaxDuration ?? TimeSpan.Zero);
            }
        }
        catch (Exception exception)
        {
            GcLog.RunFailed(_logger, context.RunId, exception);
            context.AddError($"The run failed: {exception.Message}");
            status = GarbageCollectionStatus.Failed;
        }

        return await FinishAsync(context, status);
    }

    private async Task<GarbageCollectionRun> FinishAsync(RunContext context, GarbageCollectionStatus status)
    {
        await context.StopHeartbeatAsync();
        var now = _time.GetUtcNow();
        var final = context.Snapshot(status, now, now);
        try
        {
            await context.FlushItemsAsync(CancellationToken.None);
            await _store.UpdateRunAsync(final, CancellationToken.None);
            await _leases.ReleaseLeaseAsync(RunContext.LeaseName, context.RunId, CancellationToken.None);
        }
        catch (Exception exception)
        {
            // The lease expires on its own, and the next run marks this one interrupted.
            GcLog.FinishFailed(_logger, context.RunId, exception);
        }

        GcLog.RunEnded(
            _logger,
            context.RunId,
            status.ToString(),
            (now - context.Run.StartedAt).TotalSeconds,
            final.ManifestsDeleted,
            final.BlobLinksDeleted,
            final.BlobsDeleted,
            final.BytesFreed,
            final.UploadsPurged,
            context.ErrorCount);
        _metrics.RunEnded(status, context.DryRun, final.BytesFreed);
        return final;
    }

    private async Task DeleteExpiredRunsAsync(RunContext context)
    {
        context.ThrowIfStopped();
        var endedBefore = _time.GetUtcNow() - Options.RunRetention;
        var deleted = await _store.DeleteRunsEndedBeforeAsync(endedBefore, context.Token);
        if (deleted > 0)
        {
            GcLog.RunsExpired(_logger, deleted, endedBefore);
        }
    }

    /// <summary>Waits for the runs started in the background; they end as interrupted when <paramref name="cancellationToken"/> fires first.</summary>
    async Task IHostedService.StopAsync(CancellationToken cancellationToken) => await StopBackgroundRunsAsync(cancellationToken);

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopBackgroundRunsAsync(CancellationToken.None);
        _shutdown.Dispose();
    }

    private async Task StopBackgroundRunsAsync(CancellationToken cancellationToken)
    {
        if (!_shutdown.IsCancellationRequested)
        {
            await _shutdown.CancelAsync();
        }

        await Task.WhenAll(_backgroundRuns.Values).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

using Dtr.Metadata;
using Microsoft.Extensions.Hosting;

namespace Dtr.Gc;

internal sealed partial class GarbageCollector
{
    /// <inheritdoc />
    /// <remarks>A run whose heartbeat is stale is checked with <see cref="InterruptAbandonedRunsAsync"/> first.</remarks>
    public async ValueTask<GarbageCollectionRun?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        var run = await _store.GetRunAsync(runId, cancellationToken);
        if (run is not null && IsHeartbeatStale(run) && await InterruptAbandonedRunsAsync(cancellationToken))
        {
            run = await _store.GetRunAsync(runId, cancellationToken);
        }

        return run;
    }

    /// <inheritdoc />
    /// <remarks>When a listed run's heartbeat is stale, the runs are checked with <see cref="InterruptAbandonedRunsAsync"/> first.</remarks>
    public async ValueTask<IReadOnlyList<GarbageCollectionRun>> ListRunsAsync(string? after, int limit, CancellationToken cancellationToken = default)
    {
        var runs = await _store.ListRunsAsync(after, limit, null, cancellationToken);
        if (runs.Any(IsHeartbeatStale) && await InterruptAbandonedRunsAsync(cancellationToken))
        {
            runs = await _store.ListRunsAsync(after, limit, null, cancellationToken);
        }

        return runs;
    }

    /// <summary>Marks the runs that a host stopped without ending, for example by a crash, as interrupted.</summary>
    async Task IHostedService.StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await InterruptAbandonedRunsAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Reading runs checks again, so a store that is not reachable yet does not stop the host.
            GcLog.AbandonedRunCheckFailed(_logger, exception);
        }
    }

    /// <summary>
    /// Returns whether a run is recorded as running but has not written a heartbeat for a lease duration, so its host
    /// may have stopped without ending it.
    /// </summary>
    private bool IsHeartbeatStale(GarbageCollectionRun run) =>
        run.Status == GarbageCollectionStatus.Running
        && (run.HeartbeatAt ?? run.StartedAt) < _time.GetUtcNow() - Options.LeaseDuration;

    /// <summary>
    /// Marks every run recorded as running as interrupted when the collection lease is free, and returns whether it
    /// changed any. A running run renews the lease with each heartbeat and holds it until its final record is written,
    /// so a free lease means that no host runs them. The lease is taken for the check and released at once.
    /// </summary>
    private async Task<bool> InterruptAbandonedRunsAsync(CancellationToken cancellationToken)
    {
        // NOTE: a run that starts on any host while this check holds the lease, for a few store calls, is rejected
        // with GarbageCollectionConflictException, so the caller or the schedule has to try again.
        var holder = "interrupt-check-" + Guid.NewGuid().ToString("N");
        var now = _time.GetUtcNow();
        if (!await _leases.TryAcquireLeaseAsync(RunContext.LeaseName, holder, now, now + Options.LeaseDuration, cancellationToken))
        {
            return false;
        }

        try
        {
            var interrupted = await _store.MarkRunsInterruptedAsync(holder, now, cancellationToken);
            if (interrupted > 0)
            {
                GcLog.RunsInterrupted(_logger, interrupted);
            }

            return interrupted > 0;
        }
        finally
        {
            await _leases.ReleaseLeaseAsync(RunContext.LeaseName, holder, CancellationToken.None);
        }
    }
}

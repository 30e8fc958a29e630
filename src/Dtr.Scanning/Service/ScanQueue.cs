using Dtr.Digests;
using Dtr.Names;
using Microsoft.Extensions.Logging;

namespace Dtr.Scanning.Service;

/// <summary>
/// Queues scans in <see cref="IScanStore"/>, where every host's worker finds them, and wakes this host's worker at once.
/// </summary>
internal sealed class ScanQueue
{
    private readonly IScanStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<ScanQueue> _logger;

    public ScanQueue(IScanStore store, TimeProvider time, ILogger<ScanQueue> logger)
    {
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>The signal the worker waits on between polls.</summary>
    public WakeSignal Signal { get; } = new();

    /// <summary>
    /// Queues a scan of a manifest. Returns false when a scan of it is already queued and not yet claimed, which then
    /// covers this request too.
    /// </summary>
    public async ValueTask<bool> EnqueueAsync(RepositoryName repository, Digest manifest, ScanReason reason, CancellationToken cancellationToken)
    {
        var queued = await _store.EnqueueScanAsync(new ScanJobRequest(repository, manifest, reason, _time.GetUtcNow()), cancellationToken);
        if (queued)
        {
            ScanningLog.ScanQueued(_logger, repository.Value, manifest.Value, reason.ToString());
        }

        Signal.Set();
        return queued;
    }
}

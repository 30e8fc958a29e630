using Dtr.Digests;
using Dtr.Identity;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// Queues a scan of each manifest pushed to a repository whose settings have <c>scanOnPush</c>. A failure to queue is
/// logged and never fails the push.
/// </summary>
internal sealed class ScanOnPush
{
    // The push has succeeded when this runs, so a slow store must not hold its response for long.
    private static readonly TimeSpan QueueTimeout = TimeSpan.FromSeconds(5);

    private readonly IIdentityStore _identity;
    private readonly ScanQueue _queue;
    private readonly IOptionsMonitor<ScanningOptions> _options;
    private readonly ILogger<ScanOnPush> _logger;

    public ScanOnPush(IIdentityStore identity, ScanQueue queue, IOptionsMonitor<ScanningOptions> options, ILogger<ScanOnPush> logger)
    {
        _identity = identity;
        _queue = queue;
        _options = options;
        _logger = logger;
    }

    /// <summary>Queues a scan of a stored manifest when the repository scans on push; never throws.</summary>
    public async Task OnManifestStoredAsync(RepositoryName repository, Digest manifest)
    {
        if (!_options.CurrentValue.Enabled)
        {
            return;
        }

        // The client may disconnect once the manifest is stored; the scan is queued anyway.
        using var timeout = new CancellationTokenSource(QueueTimeout);
        try
        {
            var settings = await _identity.GetRepositoryAsync(repository, timeout.Token);
            if (settings is { ScanOnPush: true })
            {
                await _queue.EnqueueAsync(repository, manifest, ScanReason.Push, timeout.Token);
            }
        }
        catch (Exception exception)
        {
            ScanningHttpLog.ScanOnPushFailed(_logger, repository.Value, manifest.Value, exception);
        }
    }
}

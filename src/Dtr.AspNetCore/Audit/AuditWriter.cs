using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Audit;

/// <summary>
/// Stores the entries that <see cref="AuditLog"/> queues, in batches, and deletes entries older than
/// <see cref="RegistryAuditOptions.Retention"/> at start and then hourly. On shutdown it stores what is still queued.
/// Without an <see cref="IAuditStore"/> in the container, queued entries are discarded.
/// </summary>
internal sealed class AuditWriter : BackgroundService
{
    /// <summary>The maximum number of entries stored in one transaction.</summary>
    public const int MaxBatchSize = 200;

    /// <summary>The interval between two retention runs.</summary>
    public static readonly TimeSpan RetentionInterval = TimeSpan.FromHours(1);

    private readonly AuditLog _log;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly TimeSpan _retention;
    private readonly ILogger<AuditWriter> _logger;

    public AuditWriter(AuditLog log, IServiceProvider services, TimeProvider time, IOptions<RegistryOptions> options, ILogger<AuditWriter> logger)
    {
        _log = log;
        _services = services;
        _time = time;
        _retention = options.Value.Audit.Retention;
        _logger = logger;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Completing the queue first lets the drain loop store the rest and end, instead of being cancelled.
        _log.Complete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(DrainAsync(), ApplyRetentionAsync(stoppingToken));

    /// <summary>Deletes expired entries once and returns how many it deleted.</summary>
    internal async Task<long> DeleteExpiredAsync(CancellationToken cancellationToken)
    {
        if (_services.GetService<IAuditStore>() is not { } store)
        {
            return 0;
        }

        var cutoff = _time.GetUtcNow() - _retention;
        try
        {
            var deleted = await store.DeleteAuditEntriesBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                AuditLogMessages.EntriesExpired(_logger, deleted, cutoff);
            }

            return deleted;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            AuditLogMessages.RetentionFailed(_logger, cutoff, error);
            return 0;
        }
    }

    private async Task DrainAsync()
    {
        var reader = _log.Reader;
        var batch = new List<AuditEntry>(MaxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatchSize && reader.TryRead(out var entry))
            {
                batch.Add(entry);
            }

            await StoreAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task StoreAsync(List<AuditEntry> batch)
    {
        if (_services.GetService<IAuditStore>() is not { } store)
        {
            return;
        }

        try
        {
            // Not cancelled by shutdown, so that the last batch is stored. The host stops waiting after its shutdown timeout.
            await store.AppendAuditEntriesAsync(batch.ToArray(), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            AuditLogMessages.AppendFailed(_logger, batch.Count, error);
        }
    }

    private async Task ApplyRetentionAsync(CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(RetentionInterval, _time);
            do
            {
                await DeleteExpiredAsync(stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}

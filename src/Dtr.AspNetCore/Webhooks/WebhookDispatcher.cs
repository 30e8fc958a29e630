using System.Text.Json;
using Dtr.AspNetCore.Scanning;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Reads the events that <see cref="WebhookEvents"/> queues, matches each to the enabled subscriptions, and stores
/// one delivery per match in <see cref="IWebhookStore"/>, in batches. On shutdown it stores what is still queued.
/// Without an <see cref="IWebhookStore"/> in the container, events are discarded.
/// </summary>
internal sealed class WebhookDispatcher : BackgroundService
{
    /// <summary>The maximum number of events matched and stored together.</summary>
    public const int MaxBatchSize = 200;

    private const WebhookEventTypes ScanEvents = WebhookEventTypes.ScanCompleted | WebhookEventTypes.ScanVulnerabilitiesFound;

    private readonly WebhookEvents _events;
    private readonly WebhookSubscriptionCache _subscriptions;
    private readonly WebhookWakeSignal _wake;
    private readonly IServiceProvider _services;
    private readonly ILogger<WebhookDispatcher> _logger;

    public WebhookDispatcher(
        WebhookEvents events,
        WebhookSubscriptionCache subscriptions,
        WebhookWakeSignal wake,
        IServiceProvider services,
        ILogger<WebhookDispatcher> logger)
    {
        _events = events;
        _subscriptions = subscriptions;
        _wake = wake;
        _services = services;
        _logger = logger;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Completing the queue first lets the drain loop store the rest and end, instead of being cancelled.
        _events.Complete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var reader = _events.Reader;
        var batch = new List<WebhookEvent>(MaxBatchSize);
        while (await reader.WaitToReadAsync(CancellationToken.None).ConfigureAwait(false))
        {
            while (batch.Count < MaxBatchSize && reader.TryRead(out var webhookEvent))
            {
                batch.Add(webhookEvent);
            }

            await DispatchAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    /// <summary>Matches a batch of events and stores their deliveries; a failure is logged and the batch is lost.</summary>
    internal async Task DispatchAsync(IReadOnlyList<WebhookEvent> batch)
    {
        if (_services.GetService<IWebhookStore>() is not { } store)
        {
            return;
        }

        try
        {
            // Not cancelled by shutdown, so that the last batch is stored. The host stops waiting after its shutdown timeout.
            var subscriptions = await _subscriptions.GetAsync(CancellationToken.None).ConfigureAwait(false);
            var deliveries = new List<WebhookDeliveryRequest>();
            foreach (var webhookEvent in batch)
            {
                await AddDeliveriesAsync(webhookEvent, subscriptions, deliveries).ConfigureAwait(false);
            }

            if (deliveries.Count > 0)
            {
                await store.EnqueueWebhookDeliveriesAsync(deliveries, CancellationToken.None).ConfigureAwait(false);
                _wake.Set();
            }
        }
        catch (Exception error)
        {
            WebhookLog.DispatchFailed(_logger, batch.Count, error);
        }
    }

    private async Task AddDeliveriesAsync(WebhookEvent webhookEvent, IReadOnlyList<WebhookSubscription> subscriptions, List<WebhookDeliveryRequest> deliveries)
    {
        var matching = subscriptions.Where(subscription => WebhookSubscriptionCache.Covers(subscription, webhookEvent.Repository)).ToList();
        WebhookScanSummary? scan = null;
        if (webhookEvent.Type == WebhookEventTypes.ScanCompleted)
        {
            // Read the scan only when a subscription wants scan events, because it costs store reads.
            if (!matching.Any(subscription => (subscription.Events & ScanEvents) != 0))
            {
                return;
            }

            (scan, var mediaType) = await ReadScanSummaryAsync(webhookEvent).ConfigureAwait(false);
            webhookEvent = webhookEvent with { MediaType = mediaType };
        }

        foreach (var subscription in matching)
        {
            foreach (var type in SelectTypes(subscription, webhookEvent.Type, scan))
            {
                deliveries.Add(Delivery(webhookEvent, type, scan, subscription.Id));
            }
        }
    }

    /// <summary>
    /// Returns the event types a subscription receives for an event. A scan raises scan.completed, and
    /// scan.vulnerabilities_found when the scan has a status other than failed and found at least one vulnerability
    /// at or above the subscription's minimum severity. The caller checks the subscription's scope.
    /// </summary>
    internal static IEnumerable<WebhookEventTypes> SelectTypes(WebhookSubscription subscription, WebhookEventTypes type, WebhookScanSummary? scan)
    {
        if (type != WebhookEventTypes.ScanCompleted)
        {
            if (subscription.Events.HasFlag(type))
            {
                yield return type;
            }

            yield break;
        }

        if (subscription.Events.HasFlag(WebhookEventTypes.ScanCompleted))
        {
            yield return WebhookEventTypes.ScanCompleted;
        }

        if (subscription.Events.HasFlag(WebhookEventTypes.ScanVulnerabilitiesFound)
            && scan is not null
            && scan.Status != "failed"
            && scan.ToSummary().CountAtOrAbove(subscription.MinSeverity) > 0)
        {
            yield return WebhookEventTypes.ScanVulnerabilitiesFound;
        }
    }

    /// <summary>
    /// Returns the status and counts that the scan API reports for the event's manifest, and its media type, or
    /// nulls when the manifest is gone.
    /// </summary>
    private async Task<(WebhookScanSummary? Scan, string? MediaType)> ReadScanSummaryAsync(WebhookEvent webhookEvent)
    {
        if (_services.GetService<ScanReports>() is not { } reports
            || _services.GetService<IMetadataStore>() is not { } metadata
            || !RepositoryName.TryParse(webhookEvent.Repository, out var repository)
            || !Digest.TryParse(webhookEvent.Digest, out var digest))
        {
            return (null, null);
        }

        var manifest = await metadata.GetManifestAsync(repository, ManifestReference.ForDigest(digest), CancellationToken.None).ConfigureAwait(false);
        if (manifest is null)
        {
            return (null, null);
        }

        var document = await reports.WriteAsync(repository, manifest, minimum: null, CancellationToken.None).ConfigureAwait(false);
        using var json = JsonDocument.Parse(document);
        var root = json.RootElement;
        var status = root.GetProperty("status").GetString() ?? "unknown";
        var summary = root.TryGetProperty("summary", out var counts) && counts.ValueKind == JsonValueKind.Object
            ? new ScanSummary(
                counts.GetProperty("critical").GetInt32(),
                counts.GetProperty("high").GetInt32(),
                counts.GetProperty("medium").GetInt32(),
                counts.GetProperty("low").GetInt32(),
                counts.GetProperty("unknown").GetInt32())
            : ScanSummary.Empty;
        return (WebhookScanSummary.From(status, summary), manifest.MediaType);
    }

    private static WebhookDeliveryRequest Delivery(WebhookEvent webhookEvent, WebhookEventTypes type, WebhookScanSummary? scan, long webhookId)
    {
        var payload = WebhookPayload.From(webhookEvent, type, scan, webhookId);
        return new WebhookDeliveryRequest(webhookId, webhookEvent.Id, payload.Type, payload.Serialize(), webhookEvent.Time);
    }
}

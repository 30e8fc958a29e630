using System.Diagnostics.Metrics;
using Dtr.Metadata;
using Dtr.Telemetry;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>The webhook instruments, on the meter <see cref="RegistryTelemetry.MeterName"/>.</summary>
internal sealed class WebhookMetrics
{
    /// <summary>The tag with the state a round left the delivery in: succeeded, failed or rescheduled.</summary>
    public const string ResultTag = "dtr.webhook.result";

    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _dropped;
    private readonly ObservableGauge<long> _queueLength;
    private long _lastQueueLength;

    public WebhookMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(RegistryTelemetry.MeterName);
        _deliveries = meter.CreateCounter<long>(
            "dtr.webhooks.deliveries",
            "{round}",
            "Delivery rounds this host sent, by the state they left the delivery in: succeeded, failed (given up) or rescheduled.");
        _dropped = meter.CreateCounter<long>("dtr.webhooks.events.dropped", "{event}", "Events dropped because the in-memory webhook queue was full.");
        _queueLength = meter.CreateObservableGauge(
            "dtr.webhooks.queue.length",
            () => Interlocked.Read(ref _lastQueueLength),
            "{delivery}",
            "Pending deliveries in the webhook store, as the delivery worker last counted them.");
    }

    /// <summary>Whether a listener reads the queue length, so the worker need not count otherwise.</summary>
    public bool QueueLengthEnabled => _queueLength.Enabled;

    /// <summary>Stores the queue length that the gauge reports until the next count.</summary>
    public void SetQueueLength(long deliveries) => Interlocked.Exchange(ref _lastQueueLength, deliveries);

    /// <summary>Counts a round that ended with the delivery in <paramref name="state"/>.</summary>
    public void DeliveryEnded(WebhookDeliveryState state) => _deliveries.Add(1, new KeyValuePair<string, object?>(ResultTag, state switch
    {
        WebhookDeliveryState.Succeeded => "succeeded",
        WebhookDeliveryState.Failed => "failed",
        _ => "rescheduled",
    }));

    /// <summary>Counts an event dropped on a full queue.</summary>
    public void EventDropped() => _dropped.Add(1);
}

using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Webhooks;

internal static partial class WebhookLog
{
    [LoggerMessage(EventId = 3700, Level = LogLevel.Warning, Message = "Webhook event dropped because the queue of {Capacity} events is full; {Dropped} dropped since start")]
    public static partial void EventsDropped(ILogger logger, long dropped, int capacity);

    [LoggerMessage(EventId = 3701, Level = LogLevel.Error, Message = "Failed to queue the webhook deliveries of {Count} events; they are lost")]
    public static partial void DispatchFailed(ILogger logger, int count, Exception error);

    [LoggerMessage(EventId = 3702, Level = LogLevel.Information, Message = "Webhook delivery worker {Holder} started")]
    public static partial void WorkerStarted(ILogger logger, string holder);

    [LoggerMessage(EventId = 3703, Level = LogLevel.Information, Message = "Webhook delivery worker {Holder} stopped")]
    public static partial void WorkerStopped(ILogger logger, string holder);

    [LoggerMessage(EventId = 3704, Level = LogLevel.Error, Message = "Webhook delivery worker {Holder} failed to read the delivery queue; retrying in {Seconds} s")]
    public static partial void QueueFailed(ILogger logger, string holder, double seconds, Exception error);

    [LoggerMessage(EventId = 3705, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} of webhook {WebhookId} failed {Attempts} times; retrying at {NextAttemptAt}. Last error: {Error}")]
    public static partial void DeliveryRescheduled(ILogger logger, long deliveryId, long webhookId, int attempts, DateTimeOffset nextAttemptAt, string? error);

    [LoggerMessage(EventId = 3706, Level = LogLevel.Error, Message = "Gave up webhook delivery {DeliveryId} ({EventType}) of webhook {WebhookId} after {Attempts} attempts. Last error: {Error}")]
    public static partial void DeliveryGaveUp(ILogger logger, long deliveryId, long webhookId, string eventType, int attempts, string? error);

    [LoggerMessage(EventId = 3707, Level = LogLevel.Error, Message = "Failed to send webhook delivery {DeliveryId} of webhook {WebhookId}; it is sent again when its lease expires")]
    public static partial void DeliveryFailed(ILogger logger, long deliveryId, long webhookId, Exception error);

    [LoggerMessage(EventId = 3708, Level = LogLevel.Warning, Message = "Webhook delivery {DeliveryId} was claimed by another host before {Holder} recorded its attempts; they are not recorded")]
    public static partial void LeaseLost(ILogger logger, long deliveryId, string holder);

    [LoggerMessage(EventId = 3709, Level = LogLevel.Information, Message = "Deleted {Count} webhook delivery records older than {Cutoff}")]
    public static partial void HistoryExpired(ILogger logger, long count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 3710, Level = LogLevel.Error, Message = "Failed to delete webhook delivery records older than {Cutoff}; retrying in an hour")]
    public static partial void RetentionFailed(ILogger logger, DateTimeOffset cutoff, Exception error);

    [LoggerMessage(EventId = 3711, Level = LogLevel.Information, Message = "Webhook {WebhookId} ({Scope} {Target}) {Change} by {Actor}")]
    public static partial void WebhookChanged(ILogger logger, long webhookId, string scope, string? target, string change, string actor);
}

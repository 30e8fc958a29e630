using System.Threading.Channels;
using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Queues events for <see cref="WebhookDispatcher"/>, which matches them to subscriptions and stores the deliveries.
/// Recording only tries to write to a bounded channel and awaits nothing, so a push or pull does not wait for the store or a receiver. When the queue
/// is full, or after shutdown has begun, the event is dropped, counted and logged. An event that no subscription can
/// match, according to a list of subscriptions at most <see cref="WebhookSubscriptionCache.MaxAge"/> old, is not queued.
/// </summary>
internal sealed class WebhookEvents
{
    /// <summary>The maximum number of queued events. Events recorded while the queue is full are dropped.</summary>
    public const int QueueCapacity = 10_000;

    private readonly Channel<WebhookEvent> _queue = Channel.CreateBounded<WebhookEvent>(new BoundedChannelOptions(QueueCapacity)
    {
        // With Wait, TryWrite returns false on a full queue, so drops can be counted. DropWrite would report success.
        FullMode = BoundedChannelFullMode.Wait,
        SingleReader = true,
    });

    private readonly WebhookSubscriptionCache _subscriptions;
    private readonly WebhookMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly IOptionsMonitor<RegistryOptions> _options;
    private readonly ILogger<WebhookEvents> _logger;
    private long _dropped;

    public WebhookEvents(
        WebhookSubscriptionCache subscriptions,
        WebhookMetrics metrics,
        TimeProvider time,
        IOptionsMonitor<RegistryOptions> options,
        ILogger<WebhookEvents> logger)
    {
        _subscriptions = subscriptions;
        _metrics = metrics;
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>The number of events dropped because the queue was full, since the host started.</summary>
    public long DroppedCount => Interlocked.Read(ref _dropped);

    internal ChannelReader<WebhookEvent> Reader => _queue.Reader;

    /// <summary>Queues an event with a new id and the current time, unless no subscription can receive it.</summary>
    public void Record(WebhookEventTypes type, string repository, string? tag, string? digest, string? mediaType, string? actor, string? registry)
    {
        // A scan can raise scan.completed and scan.vulnerabilities_found; the dispatcher decides which.
        var types = type == WebhookEventTypes.ScanCompleted ? type | WebhookEventTypes.ScanVulnerabilitiesFound : type;
        if (!_options.CurrentValue.Webhooks.Enabled || !_subscriptions.MayMatch(types, repository))
        {
            return;
        }

        var webhookEvent = new WebhookEvent(Guid.NewGuid().ToString(), type, _time.GetUtcNow(), repository, tag, digest, mediaType, actor, registry);
        if (!_queue.Writer.TryWrite(webhookEvent))
        {
            var dropped = Interlocked.Increment(ref _dropped);
            _metrics.EventDropped();

            // Log the first drop and then every thousandth, so a full queue does not flood the log.
            if (dropped == 1 || dropped % 1000 == 0)
            {
                WebhookLog.EventsDropped(_logger, dropped, QueueCapacity);
            }
        }
    }

    /// <summary>Ends the queue, so that the dispatcher stores what is left and stops.</summary>
    internal void Complete() => _queue.Writer.TryComplete();
}

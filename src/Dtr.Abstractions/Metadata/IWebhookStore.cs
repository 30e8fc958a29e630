using Dtr.Scanning;

namespace Dtr.Metadata;

/// <summary>
/// Webhook subscriptions, the queue of deliveries waiting to be sent, and the log of delivery attempts. Several hosts
/// may share one store: a host claims a due delivery with a lease, and until the lease expires no other host claims
/// it, so each delivery has one sender at a time.
/// </summary>
public interface IWebhookStore
{
    /// <summary>Stores a new subscription and returns it with its assigned id.</summary>
    /// <exception cref="ArgumentException">A field is empty or longer than its maximum.</exception>
    ValueTask<WebhookSubscription> CreateWebhookAsync(WebhookSubscription subscription, CancellationToken cancellationToken = default);

    /// <summary>Returns the subscription, or null when it does not exist.</summary>
    ValueTask<WebhookSubscription?> GetWebhookAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns at most <paramref name="limit"/> subscriptions that match <paramref name="query"/>, by ascending id,
    /// with an id above <paramref name="afterId"/> when it is given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    ValueTask<IReadOnlyList<WebhookSubscription>> ListWebhooksAsync(WebhookQuery query, long? afterId, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces the stored fields of the subscription with the same id, all but its creator and creation time.
    /// Returns false when it does not exist.
    /// </summary>
    /// <exception cref="ArgumentException">A field is empty or longer than its maximum.</exception>
    ValueTask<bool> UpdateWebhookAsync(WebhookSubscription subscription, CancellationToken cancellationToken = default);

    /// <summary>Deletes the subscription with its queued deliveries and attempt log. Returns false when it does not exist.</summary>
    ValueTask<bool> DeleteWebhookAsync(long id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Queues deliveries in one transaction and returns their ids in the order given. A delivery whose subscription
    /// no longer exists is skipped, and its id is 0.
    /// </summary>
    /// <exception cref="ArgumentException">A delivery has an empty event id or type, or a field over its maximum.</exception>
    ValueTask<IReadOnlyList<long>> EnqueueWebhookDeliveriesAsync(IReadOnlyList<WebhookDeliveryRequest> deliveries, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the oldest pending delivery that is due at <paramref name="now"/> and not leased by another holder, or
    /// whose lease expired, and leases it to <paramref name="holder"/> until <paramref name="leaseExpiresAt"/>.
    /// Deliveries of the subscriptions in <paramref name="excludedWebhookIds"/> are skipped. Returns null when no
    /// delivery is due.
    /// </summary>
    ValueTask<WebhookDelivery?> TryClaimWebhookDeliveryAsync(
        string holder,
        DateTimeOffset now,
        DateTimeOffset leaseExpiresAt,
        IReadOnlyCollection<long>? excludedWebhookIds = null,
        CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends <paramref name="attempts"/> to the log and sets the delivery's state: succeeded, failed, or pending
    /// again from <paramref name="nextAttemptAt"/>, which is required for pending. The lease is released. Returns
    /// false, and changes nothing, when the lease of <paramref name="holder"/> on the delivery has passed to another holder.
    /// </summary>
    /// <exception cref="ArgumentException">The state is pending without a next attempt time, or an attempt has a field over its maximum.</exception>
    ValueTask<bool> RecordWebhookAttemptsAsync(
        long deliveryId,
        string holder,
        IReadOnlyList<WebhookAttempt> attempts,
        WebhookDeliveryState state,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken = default);

    /// <summary>Returns the delivery, or null when it does not exist.</summary>
    ValueTask<WebhookDelivery?> GetWebhookDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns at most <paramref name="limit"/> logged attempts of the subscription's deliveries, newest first, with
    /// a sequence number below <paramref name="before"/> when it is given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    ValueTask<IReadOnlyList<StoredWebhookAttempt>> ListWebhookAttemptsAsync(long webhookId, long? before, int limit, CancellationToken cancellationToken = default);

    /// <summary>Returns the number of pending deliveries of every subscription.</summary>
    ValueTask<long> CountPendingWebhookDeliveriesAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes attempts logged before <paramref name="cutoff"/> and finished (succeeded or failed) deliveries created
    /// before it. Pending deliveries are kept. Returns the number of rows deleted.
    /// </summary>
    ValueTask<long> DeleteWebhookHistoryBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}

/// <summary>What a subscription covers.</summary>
public enum WebhookScope
{
    /// <summary>Every repository of the registry.</summary>
    Registry = 0,

    /// <summary>Every repository of one namespace: a user's or an organization's.</summary>
    Namespace = 1,

    /// <summary>One repository.</summary>
    Repository = 2,
}

/// <summary>The events a subscription receives; a set of flags.</summary>
[Flags]
public enum WebhookEventTypes
{
    /// <summary>No event.</summary>
    None = 0,

    /// <summary>A manifest was stored by a <c>PUT</c>, by tag or by digest.</summary>
    ImagePushed = 1,

    /// <summary>A manifest was sent in the response to a <c>GET</c>. <c>HEAD</c> requests do not count.</summary>
    ImagePulled = 2,

    /// <summary>A tag was deleted, the manifest it pointed to kept.</summary>
    TagDeleted = 4,

    /// <summary>A manifest was deleted by digest, with every tag that pointed to it.</summary>
    ManifestDeleted = 8,

    /// <summary>A scan of a manifest ended, whatever it found or whether it failed.</summary>
    ScanCompleted = 16,

    /// <summary>A scan found vulnerabilities at or above the subscription's <see cref="WebhookSubscription.MinSeverity"/>.</summary>
    ScanVulnerabilitiesFound = 32,

    /// <summary>Every event above.</summary>
    All = ImagePushed | ImagePulled | TagDeleted | ManifestDeleted | ScanCompleted | ScanVulnerabilitiesFound,
}

/// <summary>A webhook subscription.</summary>
/// <param name="Id">The id the store assigned; 0 before it is created.</param>
/// <param name="Scope">What the subscription covers.</param>
/// <param name="Target">The namespace or repository name; null for <see cref="WebhookScope.Registry"/>.</param>
/// <param name="Url">The absolute http or https URL that receives the events.</param>
/// <param name="Events">The events sent; never <see cref="WebhookEventTypes.None"/>.</param>
/// <param name="MinSeverity">The lowest severity that raises <see cref="WebhookEventTypes.ScanVulnerabilitiesFound"/>.</param>
/// <param name="Enabled">Whether events are queued for the subscription.</param>
/// <param name="Secret">The key of the HMAC-SHA256 signature of every delivery.</param>
/// <param name="Description">A note from the person who created it, or null.</param>
/// <param name="CreatedBy">The user who created it, or null when authentication was off.</param>
/// <param name="CreatedAt">When it was created; stores keep whole milliseconds.</param>
/// <param name="UpdatedAt">When it was last changed; stores keep whole milliseconds.</param>
public sealed record WebhookSubscription(
    long Id,
    WebhookScope Scope,
    string? Target,
    string Url,
    WebhookEventTypes Events,
    Severity MinSeverity,
    bool Enabled,
    string Secret,
    string? Description,
    string? CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The maximum length of <see cref="Url"/>.</summary>
    public const int MaxUrlLength = 2000;

    /// <summary>The maximum length of <see cref="Target"/>, <see cref="Secret"/> and <see cref="CreatedBy"/>.</summary>
    public const int MaxFieldLength = 300;

    /// <summary>The maximum length of <see cref="Description"/>.</summary>
    public const int MaxDescriptionLength = 1000;
}

/// <summary>Conditions that listed subscriptions must all meet; a null field matches every subscription.</summary>
/// <param name="Namespace">
/// Keeps subscriptions of this namespace and of the repositories in it (names that start with it and a '/').
/// </param>
/// <param name="Repository">Keeps subscriptions of exactly this repository.</param>
/// <param name="EnabledOnly">Keeps enabled subscriptions only.</param>
public sealed record WebhookQuery(string? Namespace = null, string? Repository = null, bool EnabledOnly = false);

/// <summary>A delivery to queue: one event for one subscription.</summary>
/// <param name="WebhookId">The subscription.</param>
/// <param name="EventId">The event's id, the same for every subscription that receives it.</param>
/// <param name="EventType">The event type, such as <c>image.pushed</c>.</param>
/// <param name="Payload">The JSON body to send, exactly as signed and sent.</param>
/// <param name="CreatedAt">When the event happened; stores keep whole milliseconds.</param>
public sealed record WebhookDeliveryRequest(long WebhookId, string EventId, string EventType, string Payload, DateTimeOffset CreatedAt)
{
    /// <summary>The maximum length of <see cref="EventId"/> and <see cref="EventType"/>.</summary>
    public const int MaxFieldLength = 100;
}

/// <summary>The state of a queued delivery.</summary>
public enum WebhookDeliveryState
{
    /// <summary>Waiting for its next attempt.</summary>
    Pending = 0,

    /// <summary>The receiver returned a 2xx status.</summary>
    Succeeded = 1,

    /// <summary>Every attempt failed and the sender gave up.</summary>
    Failed = 2,
}

/// <summary>A queued delivery.</summary>
/// <param name="Id">The id the store assigned.</param>
/// <param name="WebhookId">The subscription.</param>
/// <param name="EventId">The event's id.</param>
/// <param name="EventType">The event type.</param>
/// <param name="Payload">The JSON body.</param>
/// <param name="CreatedAt">When the event happened.</param>
/// <param name="State">Its state.</param>
/// <param name="Attempts">The number of attempts logged so far.</param>
/// <param name="NextAttemptAt">When it is due, while pending.</param>
public sealed record WebhookDelivery(
    long Id,
    long WebhookId,
    string EventId,
    string EventType,
    string Payload,
    DateTimeOffset CreatedAt,
    WebhookDeliveryState State,
    int Attempts,
    DateTimeOffset NextAttemptAt);

/// <summary>One attempt to send a delivery.</summary>
/// <param name="Time">When the attempt started; stores keep whole milliseconds.</param>
/// <param name="Number">The attempt's number for its delivery, from 1.</param>
/// <param name="StatusCode">The receiver's HTTP status code, or null when no response arrived.</param>
/// <param name="Error">Why the attempt failed, or null when it succeeded.</param>
/// <param name="Duration">The time until the response headers arrived or the attempt failed; stores keep whole milliseconds.</param>
public sealed record WebhookAttempt(DateTimeOffset Time, int Number, int? StatusCode, string? Error, TimeSpan Duration)
{
    /// <summary>The maximum length of <see cref="Error"/>.</summary>
    public const int MaxErrorLength = 1000;

    /// <summary>Whether the receiver accepted the delivery: a 2xx status and no error.</summary>
    public bool Succeeded => Error is null && StatusCode is >= 200 and < 300;
}

/// <summary>A logged attempt with its sequence number and the delivery and event it belongs to.</summary>
public sealed record StoredWebhookAttempt(long Sequence, long DeliveryId, string EventId, string EventType, WebhookAttempt Attempt);

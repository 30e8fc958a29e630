using Dtr.Metadata;

namespace Dtr.Storage.Webhooks;

/// <summary>The argument checks of <c>IWebhookStore</c>, shared by every metadata store.</summary>
internal static class WebhookStoreArguments
{
    /// <exception cref="ArgumentException">A field is empty or longer than its maximum.</exception>
    public static void ValidateSubscription(WebhookSubscription subscription)
    {
        ArgumentNullException.ThrowIfNull(subscription);
        if (string.IsNullOrEmpty(subscription.Url))
        {
            throw new ArgumentException("The webhook's URL is empty.", nameof(subscription));
        }

        if (string.IsNullOrEmpty(subscription.Secret))
        {
            throw new ArgumentException("The webhook's secret is empty.", nameof(subscription));
        }

        if ((subscription.Target is null) != (subscription.Scope == WebhookScope.Registry))
        {
            throw new ArgumentException(
                $"A webhook of scope {subscription.Scope} {(subscription.Target is null ? "needs a target" : "takes no target")}.",
                nameof(subscription));
        }

        CheckLength(subscription.Url, "URL", WebhookSubscription.MaxUrlLength, nameof(subscription));
        CheckLength(subscription.Target, "target", WebhookSubscription.MaxFieldLength, nameof(subscription));
        CheckLength(subscription.Secret, "secret", WebhookSubscription.MaxFieldLength, nameof(subscription));
        CheckLength(subscription.CreatedBy, "creator", WebhookSubscription.MaxFieldLength, nameof(subscription));
        CheckLength(subscription.Description, "description", WebhookSubscription.MaxDescriptionLength, nameof(subscription));
    }

    /// <exception cref="ArgumentException">A delivery has an empty event id or type, or a field over its maximum.</exception>
    public static void ValidateDeliveries(IReadOnlyList<WebhookDeliveryRequest> deliveries)
    {
        ArgumentNullException.ThrowIfNull(deliveries);
        foreach (var delivery in deliveries)
        {
            ArgumentNullException.ThrowIfNull(delivery, nameof(deliveries));
            if (string.IsNullOrEmpty(delivery.EventId) || string.IsNullOrEmpty(delivery.EventType))
            {
                throw new ArgumentException("A webhook delivery has an empty event id or event type.", nameof(deliveries));
            }

            ArgumentNullException.ThrowIfNull(delivery.Payload, nameof(deliveries));
            CheckLength(delivery.EventId, "event id", WebhookDeliveryRequest.MaxFieldLength, nameof(deliveries));
            CheckLength(delivery.EventType, "event type", WebhookDeliveryRequest.MaxFieldLength, nameof(deliveries));
        }
    }

    /// <exception cref="ArgumentException">The state is pending without a next attempt time, or an error is too long.</exception>
    public static void ValidateAttempts(string holder, IReadOnlyList<WebhookAttempt> attempts, WebhookDeliveryState state, DateTimeOffset? nextAttemptAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        ArgumentNullException.ThrowIfNull(attempts);
        if (state == WebhookDeliveryState.Pending && nextAttemptAt is null)
        {
            throw new ArgumentException("A delivery that stays pending needs the time of its next attempt.", nameof(nextAttemptAt));
        }

        foreach (var attempt in attempts)
        {
            ArgumentNullException.ThrowIfNull(attempt, nameof(attempts));
            CheckLength(attempt.Error, "error", WebhookAttempt.MaxErrorLength, nameof(attempts));
        }
    }

    /// <exception cref="ArgumentException">The holder is empty or the lease ends before <paramref name="now"/>.</exception>
    public static void ValidateClaim(string holder, DateTimeOffset now, DateTimeOffset leaseExpiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        if (leaseExpiresAt < now)
        {
            throw new ArgumentException($"The lease would end at {leaseExpiresAt:O}, before the claim at {now:O}.", nameof(leaseExpiresAt));
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">The limit is less than 1.</exception>
    public static void ValidateLimit(int limit) => ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);

    private static void CheckLength(string? value, string field, int maxLength, string parameter)
    {
        if (value is not null && value.Length > maxLength)
        {
            throw new ArgumentException($"The webhook {field} is {value.Length} characters long; the maximum is {maxLength}.", parameter);
        }
    }
}

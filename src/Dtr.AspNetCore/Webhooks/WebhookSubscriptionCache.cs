using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// The enabled subscriptions, read from <see cref="IWebhookStore"/> at most every <see cref="MaxAge"/>, so that
/// requests skip event work when no subscription could receive the event. Changes through this host's management API
/// clear it at once; changes through other hosts show within <see cref="MaxAge"/>.
/// </summary>
internal sealed class WebhookSubscriptionCache
{
    /// <summary>How long a list read from the store is used.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(10);

    /// <summary>The maximum number of subscriptions read. More are still served, but each event then reads the store.</summary>
    private const int MaxCached = 10_000;

    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile Snapshot? _snapshot;

    public WebhookSubscriptionCache(IServiceProvider services, TimeProvider time)
    {
        _services = services;
        _time = time;
    }

    /// <summary>
    /// Returns false only when a list younger than <see cref="MaxAge"/> has no enabled subscription for the event
    /// types and repository. Without such a list it returns true, so the dispatcher reads the store and decides.
    /// </summary>
    public bool MayMatch(WebhookEventTypes type, string repository)
    {
        var snapshot = _snapshot;
        if (snapshot is null || snapshot.Incomplete || _time.GetUtcNow() - snapshot.ReadAt > MaxAge)
        {
            return true;
        }

        return snapshot.Subscriptions.Any(subscription => (subscription.Events & type) != 0 && Covers(subscription, repository));
    }

    /// <summary>Returns the enabled subscriptions, from the cache when it is younger than <see cref="MaxAge"/>.</summary>
    public async ValueTask<IReadOnlyList<WebhookSubscription>> GetAsync(CancellationToken cancellationToken)
    {
        var snapshot = _snapshot;
        if (snapshot is not null && _time.GetUtcNow() - snapshot.ReadAt <= MaxAge)
        {
            return snapshot.Subscriptions;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            snapshot = _snapshot;
            if (snapshot is not null && _time.GetUtcNow() - snapshot.ReadAt <= MaxAge)
            {
                return snapshot.Subscriptions;
            }

            if (_services.GetService<IWebhookStore>() is not { } store)
            {
                _snapshot = new Snapshot([], _time.GetUtcNow(), Incomplete: false);
                return [];
            }

            var readAt = _time.GetUtcNow();
            var subscriptions = await store.ListWebhooksAsync(new WebhookQuery(EnabledOnly: true), afterId: null, MaxCached + 1, cancellationToken).ConfigureAwait(false);
            var incomplete = subscriptions.Count > MaxCached;
            if (incomplete)
            {
                // NOTE: past MaxCached subscriptions, the rest are not matched. The limit is far above the expected use.
                subscriptions = subscriptions.Take(MaxCached).ToArray();
            }

            _snapshot = new Snapshot(subscriptions, readAt, incomplete);
            return subscriptions;
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>Drops the cached list, so the next event reads the store.</summary>
    public void Invalidate() => _snapshot = null;

    /// <summary>Returns whether the subscription's scope includes the repository.</summary>
    public static bool Covers(WebhookSubscription subscription, string repository) => subscription.Scope switch
    {
        WebhookScope.Registry => true,
        WebhookScope.Namespace => repository.Length > subscription.Target!.Length
            && repository.StartsWith(subscription.Target, StringComparison.Ordinal)
            && repository[subscription.Target.Length] == '/',
        WebhookScope.Repository => string.Equals(repository, subscription.Target, StringComparison.Ordinal),
        _ => false,
    };

    private sealed record Snapshot(IReadOnlyList<WebhookSubscription> Subscriptions, DateTimeOffset ReadAt, bool Incomplete);
}

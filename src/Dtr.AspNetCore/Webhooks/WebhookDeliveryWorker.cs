using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Dtr.Scanning.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// Sends queued deliveries: claims due ones from <see cref="IWebhookStore"/> with a lease, sends up to
/// <see cref="RegistryWebhookOptions.Concurrency"/> at once through <see cref="WebhookSender"/>, and records each
/// round's attempts with the delivery's new state. A host sends at most one round per subscription at a time, so a
/// receiver that hangs occupies one slot and cannot starve the other subscriptions. A failed round is rescheduled with exponential backoff and jitter
/// until <see cref="RegistryWebhookOptions.MaxAttempts"/> or <see cref="RegistryWebhookOptions.MaxAge"/> is reached.
/// It also deletes history older than <see cref="RegistryWebhookOptions.Retention"/> at start and then hourly.
/// </summary>
/// <remarks>
/// On shutdown the running rounds are cancelled and their attempts are not recorded. When the leases expire, another
/// host or this one after a restart sends those deliveries again, so a receiver can get a delivery twice and should
/// ignore an event id it has already handled.
/// </remarks>
internal sealed class WebhookDeliveryWorker : BackgroundService
{
    /// <summary>The interval between two retention runs.</summary>
    public static readonly TimeSpan RetentionInterval = TimeSpan.FromHours(1);

    private readonly IServiceProvider _services;
    private readonly WebhookSender _sender;
    private readonly WebhookWakeSignal _wake;
    private readonly WebhookMetrics _metrics;
    private readonly IOptionsMonitor<RegistryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookDeliveryWorker> _logger;

    /// <summary>The ids of the subscriptions with a round running on this host. Access it under a lock on the set.</summary>
    private readonly HashSet<long> _busyWebhooks = [];

    public WebhookDeliveryWorker(
        IServiceProvider services,
        WebhookSender sender,
        WebhookWakeSignal wake,
        WebhookMetrics metrics,
        IOptionsMonitor<RegistryOptions> options,
        TimeProvider time,
        ILogger<WebhookDeliveryWorker> logger)
    {
        _services = services;
        _sender = sender;
        _wake = wake;
        _metrics = metrics;
        _options = options;
        _time = time;
        _logger = logger;
        Holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    }

    /// <summary>How long the worker waits after the store failed before it tries again.</summary>
    internal TimeSpan FailureDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The name this worker claims deliveries under; unique to this instance.</summary>
    internal string Holder { get; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_services.GetService<IWebhookStore>() is not { } store)
        {
            return;
        }

        await Task.WhenAll(SendLoopAsync(store, stoppingToken), ApplyRetentionAsync(store, stoppingToken)).ConfigureAwait(false);
    }

    /// <summary>Deletes expired history once and returns how many rows it deleted.</summary>
    internal async Task<long> DeleteExpiredAsync(IWebhookStore store, CancellationToken cancellationToken)
    {
        var cutoff = _time.GetUtcNow() - _options.CurrentValue.Webhooks.Retention;
        try
        {
            var deleted = await store.DeleteWebhookHistoryBeforeAsync(cutoff, cancellationToken).ConfigureAwait(false);
            if (deleted > 0)
            {
                WebhookLog.HistoryExpired(_logger, deleted, cutoff);
            }

            return deleted;
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            WebhookLog.RetentionFailed(_logger, cutoff, error);
            return 0;
        }
    }

    private async Task SendLoopAsync(IWebhookStore store, CancellationToken stoppingToken)
    {
        var running = new List<Task>();
        WebhookLog.WorkerStarted(_logger, Holder);
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                running.RemoveAll(task => task.IsCompleted);
                var options = _options.CurrentValue.Webhooks;
                try
                {
                    if (options.Enabled)
                    {
                        await ClaimAsync(store, options, running, stoppingToken).ConfigureAwait(false);
                    }

                    if (_metrics.QueueLengthEnabled)
                    {
                        _metrics.SetQueueLength(await store.CountPendingWebhookDeliveriesAsync(stoppingToken).ConfigureAwait(false));
                    }
                }
                catch (Exception error) when (!stoppingToken.IsCancellationRequested)
                {
                    WebhookLog.QueueFailed(_logger, Holder, FailureDelay.TotalSeconds, error);
                    await Task.Delay(FailureDelay, _time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                // Wake when a delivery is queued here, when a running round ends (a slot is free), or at the next poll.
                var wake = _wake.Signal.WaitAsync(options.PollInterval, _time, stoppingToken);
                if (running.Count > 0)
                {
                    await Task.WhenAny(wake, Task.WhenAny(running)).ConfigureAwait(false);
                }
                else
                {
                    await wake.ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await Task.WhenAll(running.Select(task => task.ContinueWith(_ => { }, TaskScheduler.Default))).ConfigureAwait(false);
        WebhookLog.WorkerStopped(_logger, Holder);
    }

    private async Task ClaimAsync(IWebhookStore store, RegistryWebhookOptions options, List<Task> running, CancellationToken stoppingToken)
    {
        while (running.Count < options.Concurrency && !stoppingToken.IsCancellationRequested)
        {
            var now = _time.GetUtcNow();
            long[] busy;
            lock (_busyWebhooks)
            {
                busy = [.. _busyWebhooks];
            }

            var delivery = await store.TryClaimWebhookDeliveryAsync(Holder, now, now + options.LeaseDuration, busy, stoppingToken).ConfigureAwait(false);
            if (delivery is null)
            {
                return;
            }

            lock (_busyWebhooks)
            {
                _busyWebhooks.Add(delivery.WebhookId);
            }

            running.Add(Task.Run(() => SendAndReleaseAsync(store, delivery, stoppingToken), CancellationToken.None));
        }
    }

    private async Task SendAndReleaseAsync(IWebhookStore store, WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            await SendAsync(store, delivery, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            lock (_busyWebhooks)
            {
                _busyWebhooks.Remove(delivery.WebhookId);
            }
        }
    }

    /// <summary>Sends one round of a claimed delivery and records the result.</summary>
    internal async Task SendAsync(IWebhookStore store, WebhookDelivery delivery, CancellationToken stoppingToken)
    {
        try
        {
            var options = _options.CurrentValue.Webhooks;
            var subscription = await store.GetWebhookAsync(delivery.WebhookId, stoppingToken).ConfigureAwait(false);
            if (subscription is null)
            {
                // Deleting a subscription deletes its deliveries, so this one went with it.
                return;
            }

            // Test events are sent to disabled webhooks too, so a receiver can be checked before it is enabled.
            if (!subscription.Enabled && delivery.EventType != WebhookEventNames.Test)
            {
                var skipped = new WebhookAttempt(_time.GetUtcNow(), delivery.Attempts + 1, null, "The webhook is disabled, so the delivery was not sent.", TimeSpan.Zero);
                await FinishAsync(store, delivery, [skipped], WebhookDeliveryState.Failed, null, stoppingToken).ConfigureAwait(false);
                return;
            }

            var attempts = await _sender.SendRoundAsync(subscription, delivery, stoppingToken).ConfigureAwait(false);
            var now = _time.GetUtcNow();
            var total = delivery.Attempts + attempts.Count;
            if (attempts.Count > 0 && attempts[^1].Succeeded)
            {
                await FinishAsync(store, delivery, attempts, WebhookDeliveryState.Succeeded, null, stoppingToken).ConfigureAwait(false);
            }
            else if (total >= options.MaxAttempts || now - delivery.CreatedAt >= options.MaxAge)
            {
                WebhookLog.DeliveryGaveUp(_logger, delivery.Id, delivery.WebhookId, delivery.EventType, total, attempts.Count > 0 ? attempts[^1].Error : null);
                await FinishAsync(store, delivery, attempts, WebhookDeliveryState.Failed, null, stoppingToken).ConfigureAwait(false);
            }
            else
            {
                var next = now + RescheduleDelay(options, total / Math.Max(1, options.AttemptsPerRound));
                WebhookLog.DeliveryRescheduled(_logger, delivery.Id, delivery.WebhookId, total, next, attempts.Count > 0 ? attempts[^1].Error : null);
                await FinishAsync(store, delivery, attempts, WebhookDeliveryState.Pending, next, stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutdown: the delivery stays claimed until its lease expires.
        }
        catch (Exception error)
        {
            // The lease expires and the delivery is claimed again.
            WebhookLog.DeliveryFailed(_logger, delivery.Id, delivery.WebhookId, error);
        }
    }

    /// <summary>
    /// Returns the wait after the <paramref name="round"/>th failed round (from 1): <see cref="RegistryWebhookOptions.RescheduleDelay"/>
    /// doubled for each earlier round, capped at <see cref="RegistryWebhookOptions.MaxRescheduleDelay"/>, then
    /// between 80% and 120% of that at random, so deliveries that failed together do not all return at once.
    /// </summary>
    internal static TimeSpan RescheduleDelay(RegistryWebhookOptions options, int round)
    {
        var doublings = Math.Clamp(round - 1, 0, 30);
        var nominal = TimeSpan.FromTicks((long)Math.Min(options.MaxRescheduleDelay.Ticks, options.RescheduleDelay.Ticks * Math.Pow(2, doublings)));
        return nominal * (0.8 + (Random.Shared.NextDouble() * 0.4));
    }

    private async Task FinishAsync(IWebhookStore store, WebhookDelivery delivery, IReadOnlyList<WebhookAttempt> attempts, WebhookDeliveryState state, DateTimeOffset? next, CancellationToken stoppingToken)
    {
        if (!await store.RecordWebhookAttemptsAsync(delivery.Id, Holder, attempts, state, next, stoppingToken).ConfigureAwait(false))
        {
            WebhookLog.LeaseLost(_logger, delivery.Id, Holder);
            return;
        }

        _metrics.DeliveryEnded(state);
    }

    private async Task ApplyRetentionAsync(IWebhookStore store, CancellationToken stoppingToken)
    {
        try
        {
            using var timer = new PeriodicTimer(RetentionInterval, _time);
            do
            {
                await DeleteExpiredAsync(store, stoppingToken).ConfigureAwait(false);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }
}

/// <summary>Wakes <see cref="WebhookDeliveryWorker"/> when this host queued deliveries.</summary>
internal sealed class WebhookWakeSignal
{
    /// <summary>The signal the worker waits on.</summary>
    public WakeSignal Signal { get; } = new();

    /// <summary>Wakes the worker.</summary>
    public void Set() => Signal.Set();
}

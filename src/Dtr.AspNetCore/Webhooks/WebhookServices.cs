using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Dtr.Scanning.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>Registers the webhook services: the event queue, the dispatcher, the sender and the delivery worker.</summary>
internal static class WebhookServices
{
    /// <summary>
    /// Adds the webhook services. Call it after the host's startup service is registered, so that the hosted services
    /// start on a migrated store.
    /// </summary>
    public static void Add(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<WebhookMetrics>();
        services.TryAddSingleton<WebhookSubscriptionCache>();
        services.TryAddSingleton<WebhookWakeSignal>();
        services.TryAddSingleton<WebhookEvents>();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddSingleton<WebhookDispatcher>();
        services.TryAddSingleton<WebhookDeliveryWorker>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IScanListener, WebhookScanListener>());

        services.AddHttpClient(WebhookSender.HttpClientName, client =>
            {
                // Each attempt has its own timeout (Registry:Webhooks:AttemptTimeout), applied by the retry pipeline.
                client.Timeout = Timeout.InfiniteTimeSpan;
            })
            .ConfigurePrimaryHttpMessageHandler(provider => new SocketsHttpHandler
            {
                // A redirect would send the signed body to an address the webhook's owner did not choose, so a 3xx fails the attempt.
                AllowAutoRedirect = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                ConnectCallback = WebhookAddressPolicy.CreateConnectCallback(provider.GetRequiredService<IOptionsMonitor<RegistryOptions>>()),
            });

        services.AddHostedService(provider => provider.GetRequiredService<WebhookDispatcher>());
        services.AddHostedService(provider => provider.GetRequiredService<WebhookDeliveryWorker>());
    }
}

/// <summary>Records a scan event when a scan job ends.</summary>
internal sealed class WebhookScanListener : IScanListener
{
    private readonly WebhookEvents _events;
    private readonly Settings.RegistrySettings _settings;

    public WebhookScanListener(WebhookEvents events, Settings.RegistrySettings settings)
    {
        _events = events;
        _settings = settings;
    }

    public void ScanEnded(Dtr.Names.RepositoryName repository, Dtr.Digests.Digest manifest) =>
        _events.Record(WebhookEventTypes.ScanCompleted, repository.Value, tag: null, manifest.Value, mediaType: null, actor: null, _settings.Current.PublicBase);
}

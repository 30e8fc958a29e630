using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tls;

/// <summary>
/// Applies the HTTPS certificate uploaded through any host, which is kept in <see cref="IKeyMaterialStore"/>: once
/// when the host starts, and again every <see cref="RegistryOptions.SettingsRefreshInterval"/>. So a certificate
/// uploaded to one host behind a load balancer is served by all of them within that interval.
/// </summary>
internal sealed class SharedCertificateRefresher : BackgroundService
{
    private readonly RegistryCertificateProvider _provider;
    private readonly IServiceProvider _services;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<SharedCertificateRefresher> _logger;
    private string? _appliedValue;

    public SharedCertificateRefresher(
        RegistryCertificateProvider provider,
        IServiceProvider services,
        IOptions<RegistryOptions> options,
        TimeProvider time,
        ILogger<SharedCertificateRefresher> logger)
    {
        _provider = provider;
        _services = services;
        _interval = options.Value.SettingsRefreshInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>Applies the stored certificate before the server starts. A failed read is logged, and the host starts with its own certificate.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await RefreshAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            TlsLog.SharedCertificateRefreshFailed(_logger, 1, _interval.TotalSeconds, exception);
        }

        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        try
        {
            while (true)
            {
                await Task.Delay(_interval, _time, stoppingToken);
                try
                {
                    await RefreshAsync(stoppingToken);
                    failures = 0;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Logged on the first failure of a run and then every 100th, so an outage does not flood the log.
                    failures++;
                    if (failures % 100 == 1)
                    {
                        TlsLog.SharedCertificateRefreshFailed(_logger, failures, _interval.TotalSeconds, exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads the stored certificate and applies it when it differs from the one applied last.</summary>
    internal async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_services.GetService<IKeyMaterialStore>() is not { } store)
        {
            return;
        }

        var stored = await store.GetKeyMaterialAsync(RegistryCertificateProvider.SharedKeyMaterialName, cancellationToken);
        if (stored is null || stored.Value == _appliedValue)
        {
            return;
        }

        _provider.ApplyShared(stored.Value);
        _appliedValue = stored.Value;
    }
}

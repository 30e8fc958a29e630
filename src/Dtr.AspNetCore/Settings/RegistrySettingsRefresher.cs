using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// Loads the stored runtime settings when the host starts, before the scanning and garbage collection services, and
/// reads them again every <see cref="RegistryOptions.SettingsRefreshInterval"/>, so a change saved through another
/// host that shares the metadata store applies here within that interval.
/// </summary>
internal sealed class RegistrySettingsRefresher : BackgroundService
{
    private readonly RegistrySettings _settings;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<RegistrySettingsRefresher> _logger;

    public RegistrySettingsRefresher(RegistrySettings settings, IOptions<RegistryOptions> options, TimeProvider time, ILogger<RegistrySettingsRefresher> logger)
    {
        _settings = settings;
        _interval = options.Value.SettingsRefreshInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>Applies the stored settings, then starts the periodic refresh. A failed first read is logged, and the host starts with the configured values.</summary>
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _settings.RefreshAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            SettingsLog.RefreshFailed(_logger, 1, _interval.TotalSeconds, exception);
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
                    await _settings.RefreshAsync(stoppingToken);
                    failures = 0;
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Logged on the first failure of a run and then every 100th, so an outage does not flood the log.
                    failures++;
                    if (failures % 100 == 1)
                    {
                        SettingsLog.RefreshFailed(_logger, failures, _interval.TotalSeconds, exception);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}

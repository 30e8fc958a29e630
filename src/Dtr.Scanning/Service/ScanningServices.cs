using Dtr.Scanning.Inventory;
using Dtr.Scanning.Vulnerabilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dtr.Scanning.Service;

/// <summary>Registers the scanning service: the scanner, the queue, and the background worker, re-match and update.</summary>
internal static class ScanningServices
{
    /// <summary>
    /// Adds the scanning services. The host registers <see cref="IScanStore"/>, <see cref="Metadata.ILeaseStore"/>,
    /// <c>IOptions&lt;ScanningOptions&gt;</c> and <c>IOptionsMonitor&lt;ScanningOptions&gt;</c>. The background services
    /// always start and read <see cref="ScanningOptions.Enabled"/>, <see cref="ScanningOptions.DatabaseUrls"/> and
    /// <see cref="ScanningOptions.UpdateInterval"/> from the monitor, so they stay idle while those turn them off and
    /// follow a change without a restart.
    /// </summary>
    public static void Add(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ILayerAnalyzer>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<ScanningOptions>>().Value;
            return new LayerAnalyzer(new LayerAnalyzerLimits
            {
                MaxDecompressedBytes = options.MaxLayerBytes,
                MaxEntries = options.MaxLayerEntries,
                MaxPackageDatabaseBytes = options.MaxPackageDatabaseBytes,
                MaxDecompressedBytesSetting = "Registry:Scanning:MaxLayerBytes",
                MaxEntriesSetting = "Registry:Scanning:MaxLayerEntries",
                MaxPackageDatabaseBytesSetting = "Registry:Scanning:MaxPackageDatabaseBytes",
            });
        });
        services.TryAddSingleton<IVulnerabilityDatabase, VulnerabilityDatabase>();
        services.TryAddSingleton<ScanQueue>();
        services.TryAddSingleton<ScanningMetrics>();
        services.TryAddSingleton<ImageScanner>();
        services.TryAddSingleton<ScanWorker>();
        services.TryAddSingleton<VulnerabilityRematcher>();
        services.TryAddSingleton<DatabaseArchiveImporter>();
        services.TryAddSingleton<DatabaseUpdater>();

        services.AddHttpClient(DatabaseUpdater.HttpClientName, client =>
        {
            // Archives reach hundreds of MiB; the retry pipeline handles stalls that fail the connection.
            client.Timeout = TimeSpan.FromHours(1);
        });

        services.AddHostedService(provider => provider.GetRequiredService<ScanWorker>());
        services.AddHostedService(provider => provider.GetRequiredService<VulnerabilityRematcher>());
        services.AddHostedService(provider => provider.GetRequiredService<DatabaseUpdater>());
    }
}

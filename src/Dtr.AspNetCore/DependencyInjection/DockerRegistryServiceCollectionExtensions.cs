using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.DependencyInjection;
using Dtr.AspNetCore.Endpoints;
using Dtr.AspNetCore.GarbageCollection;
using Dtr.AspNetCore.Health;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Management;
using Dtr.AspNetCore.Scanning;
using Dtr.AspNetCore.Settings;
using Dtr.AspNetCore.Telemetry;
using Dtr.AspNetCore.Tls;
using Dtr.AspNetCore.Uploads;
using Dtr.Gc;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Adds the Dtr container registry to an application's services.
/// </summary>
public static class DockerRegistryServiceCollectionExtensions
{
    /// <summary>
    /// Adds the registry with the embedded defaults: blobs on the filesystem and metadata in SQLite, both under
    /// <see cref="RegistryOptions.DataDirectory"/>. Chain provider methods on the returned builder to replace them.
    /// </summary>
    public static IDockerRegistryBuilder AddDockerRegistry(this IServiceCollection services, Action<RegistryOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);

        var options = services.AddOptions<RegistryOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return AddCore(services);
    }

    /// <summary>
    /// Adds the registry with options bound from a configuration section, normally <c>Registry</c>.
    /// </summary>
    public static IDockerRegistryBuilder AddDockerRegistry(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<RegistryOptions>().Bind(configuration);
        return AddCore(services);
    }

    private static DockerRegistryBuilder AddCore(IServiceCollection services)
    {
        services.AddOptions<RegistryOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegistryOptions>, RegistryOptionsValidator>());

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<RegistryMetrics>();
        services.TryAddSingleton<UploadStateCache>();
        services.TryAddSingleton<UploadService>();
        services.TryAddSingleton<RegistryUrls>();
        services.TryAddSingleton<BlobEndpoints>();
        services.TryAddSingleton<UploadEndpoints>();
        services.TryAddSingleton<ManifestEndpoints>();
        services.TryAddSingleton<ListingEndpoints>();
        services.TryAddSingleton<RegistryRequestHandler>();
        services.AddHostedService<RegistryStartup>();
        AddRuntimeSettings(services);
        services.TryAddSingleton<RegistryCertificateProvider>();
        services.TryAddSingleton<ClientCertificateAuthority>();
        services.TryAddSingleton<ClientCertificateValidator>();
        services.TryAddSingleton<ClientBundleEndpoints>();
        services.TryAddSingleton<CertificateEndpoints>();
        // After RegistryStartup, so that retention runs on a migrated store.
        services.TryAddSingleton<Dtr.AspNetCore.Audit.AuditLog>();
        services.AddHostedService<Dtr.AspNetCore.Audit.AuditWriter>();
        Dtr.AspNetCore.Webhooks.WebhookServices.Add(services);
        RegistrySecurityServiceCollectionExtensions.AddRegistrySecurity(services);
        ManagementServices.AddRegistryManagement(services);
        AddScanning(services);
        AddGarbageCollection(services);
        RegistryHealthChecks.Add(services);

        var builder = new DockerRegistryBuilder(services);
        EmbeddedStorageDefaults.Add(builder);
        return builder;
    }

    /// <summary>
    /// Adds the runtime settings: the cache of the effective values, its refresh, the <c>/settings</c> endpoints, and
    /// the options setup that makes <see cref="ScanningOptions"/> and <see cref="GarbageCollectionOptions"/> the
    /// configured values with the stored overrides on top. The refresher is added right after
    /// <see cref="RegistryStartup"/>, so the stored settings are loaded after the migration and before the scanning
    /// and garbage collection services start.
    /// </summary>
    private static void AddRuntimeSettings(IServiceCollection services)
    {
        services.TryAddSingleton<RegistrySettings>();
        services.TryAddSingleton<EffectiveOptionsSetup>();
        services.AddOptions<ScanningOptions>();
        services.AddOptions<GarbageCollectionOptions>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<ScanningOptions>, EffectiveOptionsSetup>(provider => provider.GetRequiredService<EffectiveOptionsSetup>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<GarbageCollectionOptions>, EffectiveOptionsSetup>(provider => provider.GetRequiredService<EffectiveOptionsSetup>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<ScanningOptions>, EffectiveOptionsSetup>(provider => provider.GetRequiredService<EffectiveOptionsSetup>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IOptionsChangeTokenSource<GarbageCollectionOptions>, EffectiveOptionsSetup>(provider => provider.GetRequiredService<EffectiveOptionsSetup>()));
        services.AddHostedService<RegistrySettingsRefresher>();
        services.AddHostedService<SharedCertificateRefresher>();
        services.TryAddSingleton<SettingsEndpoints>();
    }

    /// <summary>
    /// Adds the scanning service with <see cref="RegistryOptions.Scanning"/>, with the runtime overrides on top, as
    /// its options, and the scanning endpoints and hooks. Its background services start after
    /// <see cref="RegistryStartup"/> has migrated the store.
    /// </summary>
    private static void AddScanning(IServiceCollection services)
    {
        ScanningServices.Add(services);
        services.TryAddSingleton<ScanReports>();
        services.TryAddSingleton<ScanPolicyCache>();
        services.TryAddSingleton<PullPolicy>();
        services.TryAddSingleton<ScanOnPush>();
        services.TryAddSingleton<ScanningEndpoints>();
    }

    /// <summary>
    /// Adds the garbage collector and its schedule with <see cref="RegistryOptions.GarbageCollection"/>, with the
    /// runtime overrides on top, as their options, and the garbage collection endpoints.
    /// <see cref="RegistryOptionsValidator"/> checks the configured options at start.
    /// </summary>
    private static void AddGarbageCollection(IServiceCollection services)
    {
        GarbageCollectionServices.Add(services);
        services.TryAddSingleton<GarbageCollectionEndpoints>();
        services.TryAddSingleton<BlobUseRecorder>();
    }

    /// <summary>The folder in the data directory where uploaded and downloaded database archives are copied before import.</summary>
    internal const string ScanningSpoolFolder = "scanning-tmp";
}

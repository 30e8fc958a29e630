using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.DependencyInjection;
using Dtr.AspNetCore.Endpoints;
using Dtr.AspNetCore.GarbageCollection;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Management;
using Dtr.AspNetCore.Scanning;
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
        services.TryAddSingleton<UploadStateCache>();
        services.TryAddSingleton<UploadService>();
        services.TryAddSingleton<RegistryUrls>();
        services.TryAddSingleton<BlobEndpoints>();
        services.TryAddSingleton<UploadEndpoints>();
        services.TryAddSingleton<ManifestEndpoints>();
        services.TryAddSingleton<ListingEndpoints>();
        services.TryAddSingleton<RegistryRequestHandler>();
        services.AddHostedService<RegistryStartup>();
        RegistrySecurityServiceCollectionExtensions.AddRegistrySecurity(services);
        ManagementServices.AddRegistryManagement(services);
        AddScanning(services);
        AddGarbageCollection(services);

        var builder = new DockerRegistryBuilder(services);
        EmbeddedStorageDefaults.Add(builder);
        return builder;
    }

    /// <summary>
    /// Adds the scanning service with <see cref="RegistryOptions.Scanning"/> as its options, and the scanning
    /// endpoints and hooks. Its background services start after <see cref="RegistryStartup"/> has migrated the store.
    /// </summary>
    private static void AddScanning(IServiceCollection services)
    {
        services.TryAddSingleton<IOptions<ScanningOptions>>(provider =>
        {
            var registry = provider.GetRequiredService<IOptions<RegistryOptions>>().Value;
            var scanning = registry.Scanning;
            if (scanning.SpoolDirectory is null && registry.DataDirectory is { } dataDirectory)
            {
                scanning.SpoolDirectory = Path.Combine(Path.GetFullPath(dataDirectory), ScanningSpoolFolder);
            }

            return Microsoft.Extensions.Options.Options.Create(scanning);
        });
        ScanningServices.Add(services);
        services.TryAddSingleton<ScanReports>();
        services.TryAddSingleton<ScanPolicyCache>();
        services.TryAddSingleton<PullPolicy>();
        services.TryAddSingleton<ScanOnPush>();
        services.TryAddSingleton<ScanningEndpoints>();
    }

    /// <summary>
    /// Adds the garbage collector and its schedule with <see cref="RegistryOptions.GarbageCollection"/> as their
    /// options, and the garbage collection endpoints. <see cref="RegistryOptionsValidator"/> checks those options at
    /// start, because an options instance created here skips the validators registered for the type.
    /// </summary>
    private static void AddGarbageCollection(IServiceCollection services)
    {
        services.TryAddSingleton<IOptions<GarbageCollectionOptions>>(provider =>
            Microsoft.Extensions.Options.Options.Create(provider.GetRequiredService<IOptions<RegistryOptions>>().Value.GarbageCollection));
        GarbageCollectionServices.Add(services);
        services.TryAddSingleton<GarbageCollectionEndpoints>();
        services.TryAddSingleton<BlobUseRecorder>();
    }

    /// <summary>The folder in the data directory where uploaded and downloaded database archives are copied before import.</summary>
    internal const string ScanningSpoolFolder = "scanning-tmp";
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dtr.Gc;

/// <summary>Registers garbage collection: the collector, the options validator and the schedule.</summary>
internal static class GarbageCollectionServices
{
    /// <summary>
    /// Adds the garbage collection services. The host registers <see cref="Metadata.IGarbageCollectionStore"/>,
    /// <see cref="Metadata.IMetadataStore"/>, <see cref="Metadata.ILeaseStore"/>, <see cref="Storage.IBlobStore"/> and
    /// <c>IOptions&lt;GarbageCollectionOptions&gt;</c>. The schedule does nothing unless an option turns it on.
    /// </summary>
    public static void Add(IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<GarbageCollectionMetrics>();
        services.TryAddSingleton<GarbageCollector>();
        services.TryAddSingleton<IGarbageCollector>(provider => provider.GetRequiredService<GarbageCollector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GarbageCollectionOptions>, GarbageCollectionOptionsValidator>());
        services.TryAddSingleton<GarbageCollectionScheduler>();

        // The collector is registered first, so it stops after the schedule, and runs started in the background
        // end as interrupted when the host stops.
        services.AddHostedService(provider => provider.GetRequiredService<GarbageCollector>());
        services.AddHostedService(provider => provider.GetRequiredService<GarbageCollectionScheduler>());
    }
}

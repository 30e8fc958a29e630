using Dtr.Metadata;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the store that a storage or metadata provider chose. Every provider registers through these methods, so
/// the last provider added wins and its store gets the spans of <see cref="RegistryTelemetry.ActivitySourceName"/>.
/// </summary>
public static class RegistryStoreServiceCollectionExtensions
{
    /// <summary>Makes <paramref name="factory"/>'s store the <see cref="IBlobStore"/>, replacing any registered before.</summary>
    public static IServiceCollection ReplaceBlobStore(this IServiceCollection services, Func<IServiceProvider, IBlobStore> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        return services.Replace(ServiceDescriptor.Singleton<IBlobStore>(provider => new TracingBlobStore(factory(provider))));
    }

    /// <summary>Makes <paramref name="factory"/>'s store the <see cref="IMetadataStore"/>, replacing any registered before.</summary>
    public static IServiceCollection ReplaceMetadataStore(this IServiceCollection services, Func<IServiceProvider, IMetadataStore> factory)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(factory);
        return services.Replace(ServiceDescriptor.Singleton<IMetadataStore>(provider => new TracingMetadataStore(factory(provider))));
    }
}

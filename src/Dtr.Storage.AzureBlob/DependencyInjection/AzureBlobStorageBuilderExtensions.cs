using Dtr.Storage;
using Dtr.Storage.AzureBlob;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the Azure Blob Storage blob store on a registry builder.
/// </summary>
public static class AzureBlobStorageBuilderExtensions
{
    /// <summary>
    /// Stores blobs as block blobs in the container <see cref="AzureBlobStorageOptions.ContainerName"/>. Replaces any
    /// <see cref="IBlobStore"/> registered before, so the last storage provider added wins. The store also
    /// implements <see cref="IBlobRedirectSource"/> with read-only SAS URLs. The options are validated when the host
    /// starts, and every problem is reported at once.
    /// </summary>
    /// <param name="builder">The registry builder.</param>
    /// <param name="configure">
    /// Sets the options; may be null when they are bound from configuration elsewhere, for example with
    /// <c>services.Configure&lt;AzureBlobStorageOptions&gt;(configuration.GetSection("Registry:AzureBlob"))</c>.
    /// </param>
    /// <returns>The same builder, for chaining.</returns>
    public static IDockerRegistryBuilder AddAzureBlobStorage(this IDockerRegistryBuilder builder, Action<AzureBlobStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var options = services.AddOptions<AzureBlobStorageOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AzureBlobStorageOptions>, AzureBlobStorageOptionsValidator>());

        services.TryAddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<AzureBlobStorageOptions>>().Value;
            return new AzureBlobStore(
                AzureBlobClientFactory.CreateContainerClient(settings),
                settings,
                provider.GetService<ILogger<AzureBlobStore>>() ?? NullLogger<AzureBlobStore>.Instance);
        });
        services.ReplaceBlobStore(provider => provider.GetRequiredService<AzureBlobStore>());
        return builder;
    }
}

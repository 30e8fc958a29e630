using Dtr.Storage;
using Dtr.Storage.FileSystem;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the filesystem blob store on a registry builder.
/// </summary>
public static class FileSystemStorageBuilderExtensions
{
    /// <summary>
    /// Stores blobs as files under <see cref="FileSystemStorageOptions.RootDirectory"/>. Replaces any
    /// <see cref="IBlobStore"/> registered before, so the last storage provider added wins. The options are
    /// validated when the host starts.
    /// </summary>
    /// <param name="builder">The registry builder.</param>
    /// <param name="configure">Sets the options; may be null when they are bound from configuration elsewhere.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IDockerRegistryBuilder AddFileSystemStorage(this IDockerRegistryBuilder builder, Action<FileSystemStorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var options = services.AddOptions<FileSystemStorageOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FileSystemStorageOptions>, FileSystemStorageOptionsValidator>());

        services.TryAddSingleton(provider => new FileSystemBlobStore(
            provider.GetRequiredService<IOptions<FileSystemStorageOptions>>(),
            provider.GetService<ILogger<FileSystemBlobStore>>() ?? NullLogger<FileSystemBlobStore>.Instance));
        services.ReplaceBlobStore(provider => provider.GetRequiredService<FileSystemBlobStore>());
        return builder;
    }
}

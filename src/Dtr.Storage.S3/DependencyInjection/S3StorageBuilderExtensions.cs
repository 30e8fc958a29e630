using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Dtr.Storage;
using Dtr.Storage.S3;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the S3 blob store on a registry builder.
/// </summary>
public static class S3StorageBuilderExtensions
{
    /// <summary>
    /// Stores blobs as objects in the S3 bucket <see cref="S3StorageOptions.Bucket"/>. Replaces any
    /// <see cref="IBlobStore"/> registered before, so the last storage provider added wins. The options are
    /// validated when the host starts, and every problem is reported at once.
    /// </summary>
    /// <param name="builder">The registry builder.</param>
    /// <param name="configure">Sets the options; may be null when they are bound from configuration elsewhere.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IDockerRegistryBuilder AddS3Storage(this IDockerRegistryBuilder builder, Action<S3StorageOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var options = services.AddOptions<S3StorageOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<S3StorageOptions>, S3StorageOptionsValidator>());

        services.TryAddSingleton(provider =>
        {
            var settings = provider.GetRequiredService<IOptions<S3StorageOptions>>().Value;
            return new S3BlobStore(
                CreateClient(settings),
                settings,
                provider.GetService<ILogger<S3BlobStore>>() ?? NullLogger<S3BlobStore>.Instance,
                ownsClient: true);
        });
        services.Replace(ServiceDescriptor.Singleton<IBlobStore>(provider => provider.GetRequiredService<S3BlobStore>()));
        return builder;
    }

    /// <summary>Creates an S3 client from the options, with the SDK's default credential chain unless keys are set.</summary>
    internal static AmazonS3Client CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config { ForcePathStyle = options.ForcePathStyle };
        if (options.ServiceUrl is not null)
        {
            config.ServiceURL = options.ServiceUrl;
            if (options.Region is not null)
            {
                config.AuthenticationRegion = options.Region;
            }
        }
        else if (options.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return options.AccessKey is not null && options.SecretKey is not null
            ? new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config)
            : new AmazonS3Client(config);
    }
}

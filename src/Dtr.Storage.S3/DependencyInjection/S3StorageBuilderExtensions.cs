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
    /// validated when the host starts, and every problem is reported at once. The registered store also implements
    /// <see cref="IBlobRedirectSource"/>, so with <c>Registry:RedirectBlobDownloads</c> on, the registry redirects blob
    /// downloads to presigned S3 URLs.
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
        services.ReplaceBlobStore(provider => provider.GetRequiredService<S3BlobStore>());
        return builder;
    }

    /// <summary>
    /// Creates an S3 client from the options, with the SDK's default credential chain unless keys are set. The
    /// SDK's own retries are off because the store runs every call through its resilience pipeline, and retries in
    /// both places would multiply the attempts: <c>MaxErrorRetry = 0</c>, and <c>MaxStaleConnectionRetries = 0</c>,
    /// without which AWSSDK.Core 4.1.1 sends a request up to 10 more times at once after a connection reset.
    /// </summary>
    /// <param name="options">The store's options.</param>
    /// <param name="serviceUrl">
    /// An endpoint to use instead of <see cref="S3StorageOptions.ServiceUrl"/>; the store passes
    /// <see cref="S3StorageOptions.PublicServiceUrl"/> for the client that only presigns URLs.
    /// </param>
    /// <param name="httpClientFactory">Creates the SDK's HttpClient; the fault-injection tests pass one.</param>
    internal static AmazonS3Client CreateClient(S3StorageOptions options, string? serviceUrl = null, HttpClientFactory? httpClientFactory = null)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            MaxErrorRetry = 0,
            MaxStaleConnectionRetries = 0,
        };
        if (httpClientFactory is not null)
        {
            config.HttpClientFactory = httpClientFactory;
        }

        serviceUrl ??= options.ServiceUrl;
        if (serviceUrl is not null)
        {
            config.ServiceURL = serviceUrl;
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

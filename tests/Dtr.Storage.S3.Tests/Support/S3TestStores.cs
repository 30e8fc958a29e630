using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dtr.Storage.S3.Tests.Support;

/// <summary>Builds S3 stores on the shared s3rver, each under its own key prefix.</summary>
internal static class S3TestStores
{
    /// <summary>
    /// Returns options for s3rver under a fresh key prefix, with retry delays of a few milliseconds so that tests
    /// with injected faults stay fast.
    /// </summary>
    public static S3StorageOptions CreateOptions(S3rverFixture server)
    {
        var options = new S3StorageOptions
        {
            ServiceUrl = server.ServiceUrl,
            Region = "us-east-1",
            Bucket = S3rverFixture.BucketName,
            Prefix = "test-" + Guid.NewGuid().ToString("N"),
            ForcePathStyle = true,
            AccessKey = S3rverFixture.AccessKey,
            SecretKey = S3rverFixture.SecretKey,
            UseChunkEncoding = false,
            PartSizeBytes = S3StorageOptions.MinPartSizeBytes,
        };
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
        options.Resilience.MaxDelay = TimeSpan.FromMilliseconds(50);
        return options;
    }

    /// <summary>Creates a store whose SDK client sends through <paramref name="handler"/> when one is given.</summary>
    public static S3BlobStore CreateStore(S3StorageOptions options, FaultInjectingHandler? handler = null, ILogger? logger = null)
    {
        var client = S3StorageBuilderExtensions.CreateClient(
            options,
            httpClientFactory: handler is null ? null : new FaultInjectingHttpClientFactory(handler));
        return new S3BlobStore(client, options, logger ?? NullLogger.Instance, ownsClient: true);
    }

    /// <summary>Lists every object under the store's upload prefix with a client that injects no faults.</summary>
    public static async Task<IReadOnlyList<string>> ListUploadObjectsAsync(S3StorageOptions options)
    {
        using var client = S3StorageBuilderExtensions.CreateClient(options);
        var layout = new S3KeyLayout(options.Prefix);
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = options.Bucket, Prefix = layout.UploadsPrefix });
        return (listing.S3Objects ?? []).Select(entry => entry.Key).ToList();
    }
}

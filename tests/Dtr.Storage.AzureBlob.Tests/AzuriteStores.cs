using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>Builds options and stores that point at the Azurite of a fixture.</summary>
internal static class AzuriteStores
{
    /// <summary>The container that most tests share; each test uses a prefix of its own in it.</summary>
    public const string ContainerName = "registry";

    /// <summary>
    /// Returns shared key options for the fixture's account with the smallest block sizes, so that a few MiB span
    /// several blocks, and a container that is created on first use.
    /// </summary>
    public static AzureBlobStorageOptions CreateOptions(AzuriteFixture server, string prefix, string containerName = ContainerName) => new()
    {
        ConnectionString = server.ConnectionString,
        ContainerName = containerName,
        Prefix = prefix,
        CreateContainerIfMissing = true,
        BlockSizeBytes = AzureBlobStorageOptions.MinBlockSizeBytes,
        CopyBlockSizeBytes = AzureBlobStorageOptions.MinCopyBlockSizeBytes,
    };

    /// <summary>Creates a store the way <c>AddAzureBlobStorage</c> does, from options that the validator accepts.</summary>
    public static AzureBlobStore CreateStore(AzureBlobStorageOptions options, ILogger? logger = null)
    {
        var validation = new AzureBlobStorageOptionsValidator().Validate(null, options);
        Assert.True(validation.Succeeded, validation.FailureMessage);
        return new AzureBlobStore(AzureBlobClientFactory.CreateContainerClient(options), options, logger ?? NullLogger.Instance);
    }

    /// <summary>Returns a client for the fixture's account that the tests use to look beneath the store.</summary>
    public static BlobServiceClient CreateServiceClient(AzuriteFixture server) => new(server.ConnectionString);
}

using Azure.Storage;
using Azure.Storage.Blobs;

namespace Dtr.Storage.AzureBlob;

/// <summary>Builds the container client from validated <see cref="AzureBlobStorageOptions"/>.</summary>
internal static class AzureBlobClientFactory
{
    /// <summary>
    /// Creates the client for <see cref="AzureBlobStorageOptions.ContainerName"/>, authorized by the connection
    /// string, the shared key or the SAS. The SDK's retries are off, because the store's resilience pipeline retries
    /// each call and two retry layers would multiply the attempts.
    /// </summary>
    public static BlobContainerClient CreateContainerClient(AzureBlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ContainerName);

        var clientOptions = new BlobClientOptions();
        clientOptions.Retry.MaxRetries = 0;
        options.ConfigureClientOptions?.Invoke(clientOptions);

        BlobServiceClient service;
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            service = new BlobServiceClient(options.ConnectionString, clientOptions);
        }
        else if (options.ServiceUri is null)
        {
            throw new InvalidOperationException("AzureBlobStorageOptions sets neither ConnectionString nor ServiceUri.");
        }
        else if (!string.IsNullOrWhiteSpace(options.AccountKey))
        {
            var credential = new StorageSharedKeyCredential(options.AccountName, options.AccountKey);
            service = new BlobServiceClient(new Uri(options.ServiceUri), credential, clientOptions);
        }
        else
        {
            // The SAS goes into the URI rather than an AzureSasCredential, so every blob client's Uri carries it and
            // can serve as the source of a Put Block From URL call.
            var uri = new UriBuilder(options.ServiceUri) { Query = (options.SasToken ?? string.Empty).TrimStart('?') };
            service = new BlobServiceClient(uri.Uri, clientOptions);
        }

        return service.GetBlobContainerClient(options.ContainerName);
    }
}

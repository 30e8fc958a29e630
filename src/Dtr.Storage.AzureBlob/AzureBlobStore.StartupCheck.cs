using Azure;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Dtr.Resilience;
using Polly;

namespace Dtr.Storage.AzureBlob;

internal sealed partial class AzureBlobStore : IBlobStoreStartupCheck
{
    /// <summary>Blob service error codes of credentials that the service does not accept.</summary>
    private static readonly HashSet<string> RejectedCredentialCodes =
        new(["AuthenticationFailed", "InvalidAuthenticationInfo", "NoAuthenticationInformation"], StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>
    /// Creates the container first when <see cref="AzureBlobStorageOptions.CreateContainerIfMissing"/> is set, and
    /// then lists at most one blob under the store's prefix. Listing needs only the list permission that the store
    /// needs anyway, so the check also works with a container SAS, which does not allow Get Container Properties.
    /// Each call runs through the resilience pipeline, so a transient fault is retried first.
    /// </remarks>
    public async ValueTask CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await EnsureContainerAsync(cancellationToken).ConfigureAwait(false);
            await _pipeline.ExecuteAsync(
                async token =>
                {
                    var pages = _container.GetBlobsAsync(new GetBlobsOptions { Prefix = Layout.Root }, token).AsPages(continuationToken: null, pageSizeHint: 1);
                    await foreach (var _ in pages.ConfigureAwait(false))
                    {
                        break;
                    }
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException error) when (!AzureBlobTransientFaults.IsTransient(error))
        {
            throw new InvalidOperationException(DescribeCheckFailure(error), error);
        }
        catch (Exception error) when (error is not (ExecutionRejectedException or OperationCanceledException) && AzureBlobTransientFaults.IsTransient(error))
        {
            // Only reached with Resilience.Enabled false, because the pipeline turns a last transient fault into
            // StorageUnavailableException.
            throw new StorageUnavailableException("azure-blob", error);
        }
    }

    /// <summary>Returns a message for a non-transient Blob service error that names the setting to fix.</summary>
    private string DescribeCheckFailure(RequestFailedException error)
    {
        // The path only: a container client authorized by a SAS carries the token in its query.
        var endpoint = _container.GetParentBlobServiceClient().Uri.GetLeftPart(UriPartial.Path);
        var container = _container.Name;
        var code = error.ErrorCode ?? string.Empty;

        if (code == BlobErrorCode.ContainerNotFound.ToString())
        {
            return $"The blob container '{container}' does not exist at {endpoint}. Create it, set AzureBlobStorageOptions.ContainerName "
                + "to an existing container, or set AzureBlobStorageOptions.CreateContainerIfMissing to true.";
        }

        if (RejectedCredentialCodes.Contains(code) || error.Status == 401)
        {
            return $"The Blob service at {endpoint} rejected the credentials ({code}). Check AzureBlobStorageOptions.ConnectionString, "
                + "or AzureBlobStorageOptions.AccountName and AzureBlobStorageOptions.AccountKey, or AzureBlobStorageOptions.SasToken.";
        }

        // Azure reports a SAS without the needed permissions as AuthorizationFailure, and Azurite 3.37.0 reports a
        // wrong account key the same way, so the message covers both causes.
        if (code.StartsWith("Authorization", StringComparison.Ordinal) || error.Status == 403)
        {
            return $"The Blob service at {endpoint} denied access to the container '{container}' ({code}). Check AzureBlobStorageOptions.ConnectionString, "
                + "or AzureBlobStorageOptions.AccountName and AzureBlobStorageOptions.AccountKey, or AzureBlobStorageOptions.SasToken, "
                + "and that the credentials grant read, add, create, write, delete and list permission on the container.";
        }

        var message = error.Message.Split('\n', 2)[0].Trim();
        return $"Listing the blob container '{container}' at {endpoint} failed with status {error.Status} ({code}): {message} "
            + "Check the AzureBlobStorageOptions settings.";
    }
}

using Azure.Storage.Sas;
using Dtr.Digests;

namespace Dtr.Storage.AzureBlob;

/// <summary>Read-only SAS URLs that let registry clients download blobs from the storage service directly.</summary>
internal sealed partial class AzureBlobStore : IBlobRedirectSource
{
    private readonly Uri? _publicEndpoint;

    /// <summary>The path of the blob service endpoint without a trailing slash: empty for Azure, <c>/devstoreaccount1</c> for Azurite.</summary>
    private readonly string _servicePath;

    /// <inheritdoc />
    /// <remarks>
    /// Returns null when the client has no shared key to sign with, as with a configured SAS, which the store must
    /// not hand out because it also grants write access. The SAS grants read access to this one blob only, and the
    /// Blob service serves <c>Range</c> requests on it.
    /// </remarks>
    public ValueTask<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        var blob = _container.GetBlobClient(Layout.GetBlobKey(digest));
        if (!blob.CanGenerateSasUri)
        {
            return ValueTask.FromResult<Uri?>(null);
        }

        var scheme = (_publicEndpoint ?? blob.Uri).Scheme;
        var builder = new BlobSasBuilder(BlobSasPermissions.Read, DateTimeOffset.UtcNow.Add(lifetime))
        {
            BlobContainerName = blob.BlobContainerName,
            BlobName = blob.Name,
            Resource = "b",
            Protocol = scheme == Uri.UriSchemeHttps ? SasProtocol.Https : SasProtocol.HttpsAndHttp,
        };
        var signed = blob.GenerateSasUri(builder);
        return ValueTask.FromResult<Uri?>(ToPublicUri(signed));
    }

    /// <summary>
    /// Moves a blob URL from the service endpoint to <see cref="AzureBlobStorageOptions.PublicEndpoint"/>, keeping
    /// the container, blob name and query.
    /// </summary>
    private Uri ToPublicUri(Uri blobUri)
    {
        if (_publicEndpoint is null)
        {
            return blobUri;
        }

        // AbsolutePath keeps the percent-encoding of the blob name, so the copied path is the one the service expects.
        var path = blobUri.AbsolutePath;
        if (!path.StartsWith(_servicePath + "/", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The blob URL path '{path}' does not start with the service endpoint path '{_servicePath}/'.");
        }

        var publicBase = _publicEndpoint.AbsoluteUri.TrimEnd('/');
        return new Uri(publicBase + path[_servicePath.Length..] + blobUri.Query);
    }
}

using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Digests;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Storage.S3;

/// <summary>Presigned download URLs, so that clients can fetch blobs from S3 directly.</summary>
internal sealed partial class S3BlobStore
{
    /// <summary>The longest lifetime of a SigV4 presigned URL that S3 accepts: 7 days.</summary>
    internal static readonly TimeSpan MaxDownloadUriLifetime = TimeSpan.FromDays(7);

    private readonly IAmazonS3 _presignClient;
    private readonly Protocol _presignProtocol;

    /// <summary>
    /// Returns a SigV4 presigned GET URL of the blob object, valid for <paramref name="lifetime"/>. S3 serves
    /// <c>Range</c> requests on it. Never returns null.
    /// </summary>
    /// <remarks>
    /// The store does not check that the blob exists, because the registry calls this only after
    /// <see cref="StatAsync"/> found it, and a check would cost a request per download. A URL of a missing blob gets
    /// 404 NoSuchKey from S3. Presigning is computed locally and makes no S3 call, so it does not go through the
    /// resilience pipeline. With temporary credentials, such as those of an instance role, the URL stops working
    /// when the credentials expire, even if the lifetime has not passed.
    /// </remarks>
    /// <exception cref="ArgumentOutOfRangeException">The lifetime is not positive or is longer than 7 days.</exception>
    public async ValueTask<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(lifetime, MaxDownloadUriLifetime);
        cancellationToken.ThrowIfCancellationRequested();

        var request = new GetPreSignedUrlRequest
        {
            BucketName = _bucket,
            Key = Layout.GetBlobKey(digest),
            Verb = HttpVerb.GET,
            // The SDK sets X-Amz-Expires to the time from its own clock, the system clock, to this one.
            Expires = DateTime.UtcNow + lifetime,
            Protocol = _presignProtocol,
        };
        var url = await _presignClient.GetPreSignedURLAsync(request).ConfigureAwait(false);
        S3Log.DownloadUriSigned(_logger, digest, lifetime.TotalSeconds);
        return new Uri(url);
    }

    /// <summary>
    /// Returns the client that presigns download URLs and the URL scheme. With
    /// <see cref="S3StorageOptions.PublicServiceUrl"/> set, a second client signs for that endpoint, because the
    /// signature covers the host name. AWSSDK.S3 4.1 makes https URLs unless the request sets the scheme, even for an http
    /// <see cref="S3StorageOptions.ServiceUrl"/>, so the scheme comes from the endpoint.
    /// </summary>
    private static (IAmazonS3 Client, Protocol Protocol) CreatePresigner(IAmazonS3 client, S3StorageOptions options)
    {
        var endpoint = options.PublicServiceUrl ?? options.ServiceUrl;
        var protocol = endpoint is not null && endpoint.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? Protocol.HTTP : Protocol.HTTPS;
        var presignClient = options.PublicServiceUrl is null
            ? client
            : S3StorageBuilderExtensions.CreateClient(options, options.PublicServiceUrl);
        return (presignClient, protocol);
    }
}

using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Resilience;
using Polly;

namespace Dtr.Storage.S3;

internal sealed partial class S3BlobStore : IBlobStoreStartupCheck
{
    /// <summary>S3 error codes of credentials that the server does not accept.</summary>
    private static readonly HashSet<string> RejectedCredentialCodes =
        new(["InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidSecurity"], StringComparer.Ordinal);

    /// <summary>S3 error codes of a request signed for another region than the bucket's.</summary>
    private static readonly HashSet<string> WrongRegionCodes =
        new(["PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"], StringComparer.Ordinal);

    /// <inheritdoc />
    /// <remarks>
    /// Lists at most one object under the store's prefix with ListObjectsV2, which needs the same
    /// <c>s3:ListBucket</c> permission that the store needs for uploads, and works under a policy that limits
    /// listing to the prefix. The call runs through the resilience pipeline, so a transient fault is retried first.
    /// </remarks>
    public async ValueTask CheckAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await RunAsync(
                token => _client.ListObjectsV2Async(
                    new ListObjectsV2Request { BucketName = _bucket, Prefix = Layout.Root, MaxKeys = 1 },
                    token),
                cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is not (ExecutionRejectedException or OperationCanceledException) && S3TransientFaults.IsTransient(error))
        {
            // Only reached with Resilience.Enabled false, because the pipeline turns a last transient fault into
            // StorageUnavailableException.
            throw new StorageUnavailableException("s3", error);
        }
        catch (AmazonS3Exception error)
        {
            throw new InvalidOperationException(DescribeCheckFailure(error), error);
        }
        catch (AmazonClientException error)
        {
            // The SDK failed before it sent a request, for example because it found no credentials or no region.
            throw new InvalidOperationException(
                $"The S3 client for bucket '{_bucket}' at {DescribeEndpoint()} could not send a request: {error.Message} "
                + "Set S3StorageOptions.AccessKey and S3StorageOptions.SecretKey, S3StorageOptions.Region or S3StorageOptions.ServiceUrl, "
                + "or configure the AWS SDK's default credentials and region.",
                error);
        }
    }

    /// <summary>Returns a message for a non-transient S3 error that names the setting to fix.</summary>
    private string DescribeCheckFailure(AmazonS3Exception error)
    {
        var endpoint = DescribeEndpoint();
        var code = error.ErrorCode ?? string.Empty;

        if (code == "NoSuchBucket" || (error.StatusCode == HttpStatusCode.NotFound && string.IsNullOrEmpty(code)))
        {
            return $"The S3 bucket '{_bucket}' does not exist at {endpoint}. Create it, or set S3StorageOptions.Bucket to an existing bucket.";
        }

        if (RejectedCredentialCodes.Contains(code))
        {
            return $"The S3 server at {endpoint} rejected the credentials ({code}). Check S3StorageOptions.AccessKey and "
                + "S3StorageOptions.SecretKey, or the AWS SDK's default credentials when they are not set.";
        }

        if (WrongRegionCodes.Contains(code) || error.StatusCode == HttpStatusCode.MovedPermanently)
        {
            return $"The S3 bucket '{_bucket}' at {endpoint} is not in the region that requests are signed for ({code}). "
                + "Set S3StorageOptions.Region to the bucket's region.";
        }

        if (code == "AccessDenied" || error.StatusCode == HttpStatusCode.Forbidden)
        {
            return $"The S3 server at {endpoint} denied listing the bucket '{_bucket}' ({code}). Grant the credentials "
                + "s3:ListBucket, s3:GetObject, s3:PutObject and s3:DeleteObject on the bucket, or check S3StorageOptions.Bucket.";
        }

        return $"Listing the S3 bucket '{_bucket}' at {endpoint} failed with status {(int)error.StatusCode} ({code}): {error.Message} "
            + "Check the S3StorageOptions settings.";
    }

    /// <summary>Returns the endpoint as the options set it: the service URL, or Amazon S3 and its region.</summary>
    private string DescribeEndpoint() =>
        _serviceUrl ?? $"Amazon S3 ({_region ?? "the SDK's default region"})";
}

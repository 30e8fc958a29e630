using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Storage;

namespace Dtr.Benchmarks.GarbageCollection;

/// <summary>
/// Writes seed blobs straight to their final keys in an S3 bucket, with one PutObject each, in the layout that the S3
/// blob store reads (<see cref="ObjectKeyLayout"/>).
/// </summary>
/// <remarks>
/// An upload through <see cref="IBlobStore"/> costs the S3 store 8 requests per blob (upload marker, listing, part,
/// listing, HEAD, part read, blob write, part delete). On s3rver 3.7.1 that seeded about 50 blobs a second on a busy
/// 2-core machine, so 100,000 blobs took over half an hour. The blob objects this writes are those a commit writes
/// for a blob under 5 MiB. Collection treats both alike, because it only lists and deletes blob objects.
/// </remarks>
internal sealed class S3BlobSeeder : IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly ObjectKeyLayout _layout = new(prefix: null);

    public S3BlobSeeder(Uri serviceUrl, string bucket, string accessKey, string secretKey)
    {
        var config = new AmazonS3Config { ServiceURL = serviceUrl.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" };
        _client = new AmazonS3Client(new BasicAWSCredentials(accessKey, secretKey), config);
        _bucket = bucket;
    }

    /// <summary>Writes blob <paramref name="blob"/> of the plan.</summary>
    public async ValueTask WriteAsync(GcSeedPlan plan, int blob, CancellationToken cancellationToken)
    {
        using var content = new MemoryStream(GcSeedPlan.BlobContent(blob), writable: false);
        await _client.PutObjectAsync(
            new PutObjectRequest
            {
                BucketName = _bucket,
                Key = _layout.GetBlobKey(plan.BlobDigest(blob)),
                InputStream = content,

                // s3rver stores the framing of chunk-signed uploads inside the object.
                UseChunkEncoding = false,
            },
            cancellationToken);
    }

    public void Dispose() => _client.Dispose();
}

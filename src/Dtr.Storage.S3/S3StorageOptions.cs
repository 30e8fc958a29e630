using Dtr.Resilience;

namespace Dtr.Storage.S3;

/// <summary>Settings of the S3 blob store.</summary>
public sealed class S3StorageOptions
{
    /// <summary>The smallest part that S3 accepts in a multipart upload, except for the last part: 5 MiB.</summary>
    public const int MinPartSizeBytes = 5 * 1024 * 1024;

    /// <summary>The largest accepted part size: 1 GiB, because a writer and a commit each keep one part in memory.</summary>
    public const int MaxPartSizeBytes = 1024 * 1024 * 1024;

    /// <summary>
    /// The endpoint of an S3-compatible server, such as <c>http://127.0.0.1:9000</c>. Leave it null for Amazon S3,
    /// which then uses the endpoint of <see cref="Region"/>.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>
    /// The endpoint at which registry clients reach the S3 server, such as <c>https://s3.example.com</c>, when it
    /// differs from the address the registry uses: for example a public host name in front of a server that the
    /// registry reaches on an internal network. Presigned download URLs are signed for this endpoint, because a
    /// SigV4 signature covers the host name. Null signs them for <see cref="ServiceUrl"/>, or for Amazon S3.
    /// </summary>
    public string? PublicServiceUrl { get; set; }

    /// <summary>
    /// The region, such as <c>eu-west-1</c>. With <see cref="ServiceUrl"/> set, it is the region used to sign
    /// requests. When null, the SDK's default region lookup applies (for example the <c>AWS_REGION</c> variable).
    /// </summary>
    public string? Region { get; set; }

    /// <summary>The bucket that stores blobs and uploads. Required. The store does not create it.</summary>
    public string? Bucket { get; set; }

    /// <summary>
    /// A key prefix for every object of the store, such as <c>registry/prod</c>, so several registries can share a
    /// bucket. Leading and trailing slashes are ignored. Empty by default.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>Sends the bucket in the path instead of the host name. Most S3-compatible servers need this.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>The access key id. When it and <see cref="SecretKey"/> are null, the SDK's default credential chain applies.</summary>
    public string? AccessKey { get; set; }

    /// <summary>The secret access key; set together with <see cref="AccessKey"/>.</summary>
    public string? SecretKey { get; set; }

    /// <summary>
    /// Sends object bodies with chunked payload signing (<c>aws-chunked</c>). Leave it true for Amazon S3. Set it to
    /// false for servers that store the chunk framing inside the object, such as s3rver 3.7.1.
    /// </summary>
    public bool UseChunkEncoding { get; set; } = true;

    /// <summary>
    /// The size of an upload part, in bytes: 8 MiB by default, at least 5 MiB. A writer and a commit each keep one
    /// buffer of this size in memory.
    /// </summary>
    public int PartSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>
    /// Retries, attempt timeout and circuit breaker around every S3 call. The store sets the SDK's
    /// <c>MaxErrorRetry</c> and <c>MaxStaleConnectionRetries</c> to 0, so that a fault is not retried by both, and
    /// these settings are the only retries.
    /// </summary>
    public StorageResilienceOptions Resilience { get; set; } = new();
}

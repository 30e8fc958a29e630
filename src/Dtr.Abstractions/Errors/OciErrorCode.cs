namespace Dtr.Errors;

/// <summary>
/// An error code of the OCI distribution specification, with the HTTP status a registry returns for it.
/// </summary>
/// <param name="Code">The code as it appears in the <c>errors[].code</c> field, such as <c>BLOB_UNKNOWN</c>.</param>
/// <param name="Status">The HTTP status code.</param>
/// <param name="Description">The default message, used when the failure has nothing more specific to say.</param>
public sealed record OciErrorCode(string Code, int Status, string Description)
{
    /// <summary>The blob is not in the repository.</summary>
    public static readonly OciErrorCode BlobUnknown = new("BLOB_UNKNOWN", 404, "blob unknown to registry");

    /// <summary>The upload failed, or a chunk did not follow the data already received.</summary>
    public static readonly OciErrorCode BlobUploadInvalid = new("BLOB_UPLOAD_INVALID", 400, "blob upload invalid");

    /// <summary>The upload session does not exist, was cancelled or has expired.</summary>
    public static readonly OciErrorCode BlobUploadUnknown = new("BLOB_UPLOAD_UNKNOWN", 404, "blob upload unknown to registry");

    /// <summary>The uploaded content does not match the digest given, or the digest is malformed.</summary>
    public static readonly OciErrorCode DigestInvalid = new("DIGEST_INVALID", 400, "provided digest did not match uploaded content");

    /// <summary>A manifest references a blob that the repository does not have.</summary>
    public static readonly OciErrorCode ManifestBlobUnknown = new("MANIFEST_BLOB_UNKNOWN", 404, "manifest references a manifest or blob unknown to registry");

    /// <summary>The manifest is malformed or fails validation.</summary>
    public static readonly OciErrorCode ManifestInvalid = new("MANIFEST_INVALID", 400, "manifest invalid");

    /// <summary>The manifest is not in the repository.</summary>
    public static readonly OciErrorCode ManifestUnknown = new("MANIFEST_UNKNOWN", 404, "manifest unknown to registry");

    /// <summary>The repository name is malformed.</summary>
    public static readonly OciErrorCode NameInvalid = new("NAME_INVALID", 400, "invalid repository name");

    /// <summary>The repository does not exist.</summary>
    public static readonly OciErrorCode NameUnknown = new("NAME_UNKNOWN", 404, "repository name not known to registry");

    /// <summary>The content length does not match the data received, or exceeds a limit.</summary>
    public static readonly OciErrorCode SizeInvalid = new("SIZE_INVALID", 400, "provided length did not match content length");

    /// <summary>Authentication is required.</summary>
    public static readonly OciErrorCode Unauthorized = new("UNAUTHORIZED", 401, "authentication required");

    /// <summary>The caller is authenticated but not allowed to do this.</summary>
    public static readonly OciErrorCode Denied = new("DENIED", 403, "requested access to the resource is denied");

    /// <summary>The registry does not support the operation.</summary>
    public static readonly OciErrorCode Unsupported = new("UNSUPPORTED", 405, "the operation is unsupported");

    /// <summary>The caller sent too many requests.</summary>
    public static readonly OciErrorCode TooManyRequests = new("TOOMANYREQUESTS", 429, "too many requests");

    /// <summary>The <c>n</c> query parameter of a listing is not a valid number.</summary>
    public static readonly OciErrorCode PaginationNumberInvalid = new("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested");

    /// <summary>
    /// A <c>Content-Range</c> or <c>Range</c> that cannot be satisfied, with status 416 as the OCI specification
    /// requires. The specification defines no code for it; <c>BLOB_UPLOAD_INVALID</c> is what the CNCF registry
    /// returns for an out-of-order chunk, and this registry also uses it for an unsatisfiable blob range.
    /// </summary>
    public static readonly OciErrorCode RangeInvalid = new("BLOB_UPLOAD_INVALID", 416, "requested range not satisfiable");

    /// <summary>A manifest or blob is larger than the configured limit; the status is 413 Content Too Large.</summary>
    public static readonly OciErrorCode ContentTooLarge = new("SIZE_INVALID", 413, "content exceeds the size limit");

    /// <summary>
    /// The storage service or database behind the registry is failing or timed out, so the request can be retried
    /// later; the status is 503. The OCI specification defines no code for it; <c>UNAVAILABLE</c> is the one the
    /// CNCF registry uses.
    /// </summary>
    public static readonly OciErrorCode Unavailable = new("UNAVAILABLE", 503, "service unavailable");

    /// <summary>
    /// No endpoint matches the request path. The OCI specification defines no code for it; the status is 404.
    /// </summary>
    public static readonly OciErrorCode EndpointNotFound = new("NOT_FOUND", 404, "no registry endpoint matches the path");
}

using Dtr.Digests;

namespace Dtr.Storage;

/// <summary>
/// An optional capability of a blob store whose service can serve blobs to clients directly, such as S3 through a
/// presigned URL or Azure Blob Storage through a SAS URL. When redirects are enabled, the registry responds to a blob
/// <c>GET</c> with a redirect to the URL this returns, and the client fetches the bytes, byte ranges included, from
/// the storage service.
/// </summary>
public interface IBlobRedirectSource
{
    /// <summary>
    /// Returns a URL that allows an unauthenticated <c>GET</c> of the blob, with <c>Range</c> support, until
    /// <paramref name="lifetime"/> has passed; or null when this store cannot make one for the blob right now, in which
    /// case the registry sends the bytes itself.
    /// </summary>
    ValueTask<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken = default);
}

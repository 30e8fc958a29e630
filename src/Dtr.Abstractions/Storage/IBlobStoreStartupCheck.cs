namespace Dtr.Storage;

/// <summary>
/// An optional capability of a blob store on a remote service, such as S3 or Azure Blob Storage: a check at host
/// start that the service accepts the store's credentials and that its bucket or container exists. The registry
/// runs it before the server takes requests, so a wrong setting stops the host with a clear message instead of
/// failing every upload later.
/// </summary>
public interface IBlobStoreStartupCheck
{
    /// <summary>
    /// Makes one cheap, read-only request to the storage service, such as listing at most one object under the
    /// store's prefix. A store that creates its container on first use may create it here.
    /// </summary>
    /// <exception cref="InvalidOperationException">
    /// A failure that a repeat would hit again, such as a missing bucket or container, rejected credentials or denied
    /// access. The message names the setting to fix, and the inner exception is the service's error.
    /// </exception>
    /// <exception cref="Polly.ExecutionRejectedException">
    /// A transient failure: on every attempt the connection failed, the request timed out, or the service returned a
    /// 5xx status.
    /// The registry then starts anyway and responds to requests with 503 until the service recovers.
    /// </exception>
    ValueTask CheckAsync(CancellationToken cancellationToken = default);
}

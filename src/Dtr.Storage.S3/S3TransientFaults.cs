using System.Collections.Frozen;
using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;

namespace Dtr.Storage.S3;

/// <summary>
/// Sorts the errors of S3 calls into transient faults, which the resilience pipeline retries, and faults that a
/// repeat of the same call would hit again.
/// </summary>
internal static class S3TransientFaults
{
    /// <summary>HTTP statuses of a throttled or briefly failing server: 429, 500, 502, 503 and 504.</summary>
    private static readonly FrozenSet<HttpStatusCode> TransientStatusCodes = new[]
    {
        HttpStatusCode.TooManyRequests,
        HttpStatusCode.InternalServerError,
        HttpStatusCode.BadGateway,
        HttpStatusCode.ServiceUnavailable,
        HttpStatusCode.GatewayTimeout,
    }.ToFrozenSet();

    /// <summary>S3 error codes that ask the client to slow down or try again, whatever the HTTP status.</summary>
    /// <remarks>
    /// S3 can respond to CompleteMultipartUpload with status 200 and an <c>InternalError</c> body, so the code matters
    /// as well as the status.
    /// </remarks>
    private static readonly FrozenSet<string> TransientErrorCodes = new[]
    {
        "SlowDown",
        "RequestTimeout",
        "InternalError",
        "ServiceUnavailable",
        "Throttling",
    }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary>
    /// Returns true for throttling, a 5xx response, a timed-out request, and a connection that failed or was reset;
    /// false for every other error, such as 403 AccessDenied or 404 NoSuchKey.
    /// </summary>
    public static bool IsTransient(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is AmazonServiceException service)
        {
            return TransientStatusCodes.Contains(service.StatusCode)
                || (service.ErrorCode is { } code && TransientErrorCodes.Contains(code))
                || IsNetworkFault(service.InnerException);
        }

        return IsNetworkFault(error);
    }

    /// <summary>
    /// Returns whether an error is a failed or reset connection. AWSSDK.Core 4.1 rethrows the
    /// <see cref="IOException"/> inside an <see cref="HttpRequestException"/>, so both forms reach the pipeline.
    /// Wrapped errors are not searched, because Polly's <c>BrokenCircuitException</c> wraps the fault that opened
    /// the circuit, and retrying it would undo the fast failure.
    /// </summary>
    private static bool IsNetworkFault(Exception? error) => error is HttpRequestException or IOException or SocketException;
}

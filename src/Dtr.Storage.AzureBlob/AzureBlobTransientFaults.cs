using Azure;

namespace Dtr.Storage.AzureBlob;

/// <summary>Decides which failures of a Blob service call the resilience pipeline retries.</summary>
internal static class AzureBlobTransientFaults
{
    /// <summary>
    /// Returns true for throttling (429), a timeout (408), a server error (500, 502, 503, 504), and a connection
    /// that failed or was reset. Azure.Core reports a failed connection as a <see cref="RequestFailedException"/>
    /// with status 0 around the <see cref="HttpRequestException"/> or <see cref="IOException"/>.
    /// </summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        RequestFailedException { Status: 408 or 429 or 500 or 502 or 503 or 504 } => true,
        RequestFailedException { Status: 0 } failed => failed.InnerException is HttpRequestException or IOException,
        HttpRequestException or IOException => true,
        _ => false,
    };
}

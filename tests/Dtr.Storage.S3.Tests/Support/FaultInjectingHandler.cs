using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Amazon.Runtime;

namespace Dtr.Storage.S3.Tests.Support;

/// <summary>A fault that <see cref="FaultInjectingHandler"/> injects into one HTTP request.</summary>
public enum S3Fault
{
    /// <summary>The request goes to the server unchanged.</summary>
    None,

    /// <summary>503 with an S3 <c>SlowDown</c> error body. The request never reaches the server.</summary>
    SlowDown,

    /// <summary>
    /// An <see cref="HttpRequestException"/> for a connection reset by the peer, shaped as SocketsHttpHandler throws
    /// it (an IOException that wraps a SocketException). The request never reaches the server.
    /// </summary>
    ConnectionReset,

    /// <summary>
    /// The request reaches the server and is carried out, but its response is dropped and an
    /// <see cref="HttpRequestException"/> is thrown, as when a connection fails after the server responded.
    /// </summary>
    ResponseLost,

    /// <summary>403 with an S3 <c>AccessDenied</c> error body. The request never reaches the server.</summary>
    AccessDenied,

    /// <summary>404 with an S3 <c>NoSuchKey</c> error body. The request never reaches the server.</summary>
    NoSuchKey,
}

/// <summary>
/// An HTTP handler under the AWS SDK that injects faults into chosen requests and records every request, so tests
/// can see how the S3 store and the SDK react to a failing server.
/// </summary>
public sealed class FaultInjectingHandler : DelegatingHandler
{
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _requestCount;

    public FaultInjectingHandler()
        : base(new SocketsHttpHandler())
    {
    }

    /// <summary>
    /// Chooses the fault for a request from the request and its sequence number, which counts every request this
    /// handler has seen, from 1. Set it before the calls it applies to. The default injects nothing.
    /// </summary>
    public Func<HttpRequestMessage, int, S3Fault> ChooseFault { get; set; } = (_, _) => S3Fault.None;

    /// <summary>The number of requests the handler has seen, faulted or not.</summary>
    public int RequestCount => Volatile.Read(ref _requestCount);

    /// <summary>Every request in the order the handler saw it.</summary>
    public IReadOnlyList<RecordedRequest> Requests => _requests.ToArray();

    /// <summary>Returns whether a request is CompleteMultipartUpload: a POST with an <c>uploadId</c> query parameter.</summary>
    public static bool IsCompleteMultipartUpload(HttpRequestMessage request) =>
        request.Method == HttpMethod.Post && request.RequestUri?.Query.Contains("uploadId=", StringComparison.Ordinal) == true;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var sequence = Interlocked.Increment(ref _requestCount);
        var fault = ChooseFault(request, sequence);
        _requests.Enqueue(new RecordedRequest(sequence, request.Method.Method, request.RequestUri?.PathAndQuery ?? string.Empty, fault));

        switch (fault)
        {
            case S3Fault.None:
                return await base.SendAsync(request, cancellationToken);

            case S3Fault.SlowDown:
                return CreateErrorResponse(request, HttpStatusCode.ServiceUnavailable, "SlowDown", "Please reduce your request rate.");

            case S3Fault.AccessDenied:
                return CreateErrorResponse(request, HttpStatusCode.Forbidden, "AccessDenied", "Access Denied");

            case S3Fault.NoSuchKey:
                return CreateErrorResponse(request, HttpStatusCode.NotFound, "NoSuchKey", "The specified key does not exist.");

            case S3Fault.ConnectionReset:
                throw new HttpRequestException(
                    HttpRequestError.ConnectionError,
                    "An error occurred while sending the request.",
                    new IOException("Unable to read data from the transport connection: Connection reset by peer.", new SocketException((int)SocketError.ConnectionReset)));

            case S3Fault.ResponseLost:
                using (await base.SendAsync(request, cancellationToken))
                {
                    // The server has carried out the request, but the client never receives its response.
                }

                throw new HttpRequestException(
                    HttpRequestError.ResponseEnded,
                    "The response ended prematurely.",
                    new IOException("The response ended prematurely, with at least 1 additional bytes expected."));

            default:
                throw new ArgumentOutOfRangeException(nameof(request), fault, "Unknown fault.");
        }
    }

    private static HttpResponseMessage CreateErrorResponse(HttpRequestMessage request, HttpStatusCode status, string code, string message)
    {
        var body = $"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message><RequestId>fault-injection</RequestId></Error>";
        return new HttpResponseMessage(status)
        {
            RequestMessage = request,
            Content = new StringContent(body, Encoding.UTF8, "application/xml"),
        };
    }
}

/// <summary>One request that <see cref="FaultInjectingHandler"/> saw, and the fault it injected.</summary>
public sealed record RecordedRequest(int Sequence, string Method, string PathAndQuery, S3Fault Fault);

/// <summary>Hands the AWS SDK HttpClients that send through one <see cref="FaultInjectingHandler"/>.</summary>
public sealed class FaultInjectingHttpClientFactory(FaultInjectingHandler handler) : HttpClientFactory
{
    public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);
}

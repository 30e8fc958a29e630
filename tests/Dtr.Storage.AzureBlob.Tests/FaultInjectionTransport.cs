using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// An Azure SDK transport around <see cref="HttpClientTransport"/> that returns an error response for chosen
/// requests, either instead of sending them or after the service has handled them (a lost response). It counts the
/// attempts of each request.
/// </summary>
/// <remarks>
/// It is a transport rather than a pipeline policy because the SDK classifies a response as an error right after
/// the transport returns it, so an injected response goes through the same error handling as a real one. A request
/// is identified by its method, path, query and conditional headers, so a retry of one call has the same key, and
/// two calls that differ in their block id or ETag condition have different keys.
/// </remarks>
internal sealed class FaultInjectionTransport : HttpPipelineTransport, IDisposable
{
    private readonly HttpClientTransport _inner = new();
    private readonly Func<string, int, int?> _chooseStatus;
    private readonly bool _afterSending;
    private readonly ConcurrentDictionary<string, int> _attempts = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _injected = new();

    /// <param name="chooseStatus">Returns the error status to return for a request key and its attempt number (from 1), or null to let it through.</param>
    /// <param name="afterSending">When true, the request reaches the service first, and its real response is replaced.</param>
    public FaultInjectionTransport(Func<string, int, int?> chooseStatus, bool afterSending)
    {
        _chooseStatus = chooseStatus;
        _afterSending = afterSending;
    }

    /// <summary>The keys of the requests that got an injected response, in order.</summary>
    public IReadOnlyCollection<string> Injected => _injected;

    /// <summary>Returns the number of attempts seen for each request key.</summary>
    public IReadOnlyDictionary<string, int> Attempts => _attempts;

    /// <summary>Returns a policy that fails the first attempt of every distinct request with the status.</summary>
    public static FaultInjectionTransport FailFirstAttempts(int status, bool afterSending) =>
        new((_, attempt) => attempt == 1 ? status : null, afterSending);

    public override async ValueTask ProcessAsync(HttpMessage message)
    {
        var key = GetKey(message.Request);
        var attempt = _attempts.AddOrUpdate(key, 1, (_, count) => count + 1);
        var status = _chooseStatus(key, attempt);
        if (status is null)
        {
            await _inner.ProcessAsync(message);
            return;
        }

        if (_afterSending)
        {
            await _inner.ProcessAsync(message);
            message.Response.Dispose();
        }

        _injected.Enqueue(key);
        message.Response = new InjectedResponse(status.Value, message.Request.ClientRequestId);
    }

    public override void Process(HttpMessage message) =>
        throw new NotSupportedException("The store makes only asynchronous calls.");

    public override Request CreateRequest() => _inner.CreateRequest();

    public void Dispose() => _inner.Dispose();

    private static string GetKey(Request request)
    {
        var uri = request.Uri.ToUri();
        request.Headers.TryGetValue("If-Match", out var ifMatch);
        request.Headers.TryGetValue("If-None-Match", out var ifNoneMatch);
        return $"{request.Method} {uri.AbsolutePath}{uri.Query} if-match={ifMatch} if-none-match={ifNoneMatch}";
    }

    /// <summary>An error response as the Blob service sends it: the status, the error code header and an XML body.</summary>
    private sealed class InjectedResponse : Response
    {
        private readonly Dictionary<string, string> _headers;

        public InjectedResponse(int status, string clientRequestId)
        {
            Status = status;
            ClientRequestId = clientRequestId;
            var errorCode = status switch
            {
                403 => "AuthorizationFailure",
                404 => "BlobNotFound",
                500 => "InternalError",
                503 => "ServerBusy",
                _ => "InjectedFault",
            };
            _headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
            {
                ["x-ms-error-code"] = errorCode,
                ["Content-Type"] = "application/xml",
            };
            var body = $"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{errorCode}</Code><Message>Injected by the test.</Message></Error>";
            ContentStream = new MemoryStream(Encoding.UTF8.GetBytes(body));
        }

        public override int Status { get; }

        public override string ReasonPhrase => "Injected fault";

        public override Stream? ContentStream { get; set; }

        public override string ClientRequestId { get; set; }

        public override void Dispose() => ContentStream?.Dispose();

        protected override bool ContainsHeader(string name) => _headers.ContainsKey(name);

        protected override IEnumerable<HttpHeader> EnumerateHeaders() => _headers.Select(header => new HttpHeader(header.Key, header.Value));

        protected override bool TryGetHeader(string name, [NotNullWhen(true)] out string? value) => _headers.TryGetValue(name, out value);

        protected override bool TryGetHeaderValues(string name, [NotNullWhen(true)] out IEnumerable<string>? values)
        {
            var found = _headers.TryGetValue(name, out var value);
            values = found ? [value!] : null;
            return found;
        }
    }
}

using System.Net;
using System.Net.Sockets;
using Amazon.Runtime;
using Amazon.S3;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Dtr.Storage.S3.Tests;

public sealed class S3TransientFaultsTests
{
    public static TheoryData<int, string, bool> ServiceErrors => new()
    {
        { 500, "InternalError", true },
        { 502, "BadGateway", true },
        { 503, "SlowDown", true },
        { 503, "ServiceUnavailable", true },
        { 504, "GatewayTimeout", true },
        { 429, "TooManyRequests", true },
        { 400, "RequestTimeout", true },
        { 400, "Throttling", true },
        { 200, "InternalError", true },
        { 403, "AccessDenied", false },
        { 404, "NoSuchKey", false },
        { 404, "NoSuchUpload", false },
        { 400, "InvalidRange", false },
        { 405, "MethodNotAllowed", false },
    };

    [Theory]
    [MemberData(nameof(ServiceErrors))]
    public void IsTransient_ServiceErrors(int status, string errorCode, bool transient)
    {
        var error = new AmazonS3Exception("injected", ErrorType.Receiver, errorCode, "request-id", (HttpStatusCode)status);

        Assert.Equal(transient, S3TransientFaults.IsTransient(error));
    }

    [Fact]
    public void IsTransient_NetworkFaults()
    {
        Assert.True(S3TransientFaults.IsTransient(new HttpRequestException("connection refused")));
        Assert.True(S3TransientFaults.IsTransient(new IOException("connection reset")));
        Assert.True(S3TransientFaults.IsTransient(new SocketException((int)SocketError.ConnectionReset)));
    }

    [Fact]
    public void IsTransient_OtherErrorsNot()
    {
        Assert.False(S3TransientFaults.IsTransient(new InvalidOperationException("a bug")));
        Assert.False(S3TransientFaults.IsTransient(new ArgumentException("bad key")));
        Assert.False(S3TransientFaults.IsTransient(new AmazonClientException("no credentials")));
    }

    [Fact]
    public void IsTransient_PollyRejectionsNot()
    {
        // The circuit breaker wraps the fault that opened it, and retrying the rejection would undo the fast failure.
        Assert.False(S3TransientFaults.IsTransient(new BrokenCircuitException("open", new IOException("reset"))));
        Assert.False(S3TransientFaults.IsTransient(new TimeoutRejectedException("timed out")));
    }
}

using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Dtr.Resilience;
using Dtr.Storage.S3.Tests.Support;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Runs the S3 store's start-up check against s3rver: a wrong bucket or key is a permanent failure whose message
/// names the setting, and an endpoint that refuses connections is a transient one.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3StartupCheckTests
{
    private readonly S3rverFixture _server;

    public S3StartupCheckTests(S3rverFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task Check_ExistingBucketPasses()
    {
        var options = S3TestStores.CreateOptions(_server);
        using var store = S3TestStores.CreateStore(options);

        await store.CheckAsync();
    }

    [Fact]
    public async Task Check_MissingBucketNamesBucketSetting()
    {
        var options = S3TestStores.CreateOptions(_server);
        options.Bucket = "missing-" + Guid.NewGuid().ToString("N")[..12];
        using var store = S3TestStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckAsync().AsTask());

        Assert.Equal(
            $"The S3 bucket '{options.Bucket}' does not exist at {_server.ServiceUrl}. Create it, or set S3StorageOptions.Bucket to an existing bucket.",
            error.Message);
        var inner = Assert.IsAssignableFrom<AmazonS3Exception>(error.InnerException);
        Assert.Equal("NoSuchBucket", inner.ErrorCode);
    }

    [Fact]
    public async Task Check_WrongAccessKeyNamesCredentials()
    {
        // s3rver 3.7.1 rejects an unknown access key but does not verify the signature of a header-signed request,
        // so a wrong secret key passes here and only a real S3 server rejects it (SignatureDoesNotMatch).
        var options = S3TestStores.CreateOptions(_server);
        options.AccessKey = "WRONGKEY";
        using var store = S3TestStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckAsync().AsTask());

        Assert.StartsWith($"The S3 server at {_server.ServiceUrl} rejected the credentials (InvalidAccessKeyId).", error.Message, StringComparison.Ordinal);
        Assert.Contains("S3StorageOptions.AccessKey", error.Message, StringComparison.Ordinal);
        Assert.Contains("S3StorageOptions.SecretKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Check_RefusedConnectionIsTransient(bool resilienceEnabled)
    {
        var options = S3TestStores.CreateOptions(_server);
        options.ServiceUrl = $"http://127.0.0.1:{GetClosedPort()}";
        options.Resilience.Enabled = resilienceEnabled;
        options.Resilience.MaxRetryAttempts = 1;
        using var store = S3TestStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckAsync().AsTask());

        Assert.Equal("s3", error.Component);
    }

    /// <summary>Returns a 127.0.0.1 port that was free a moment ago, so a connection to it is refused.</summary>
    internal static int GetClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

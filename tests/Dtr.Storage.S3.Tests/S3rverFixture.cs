using System.Globalization;
using Dtr.Tests.Shared;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Starts s3rver 3.7.1, a local S3-compatible server on Node, on a free 127.0.0.1 port with a temporary data folder
/// and one bucket, and stops it by its process id. Installs s3rver with npm into <c>tests/tools</c> when it is missing.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string BucketName = "registry";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private static readonly NodeServerPackage Package = new("s3rver", "3.7.1", "bin/s3rver.js");
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private LoopbackNodeServer? _server;

    /// <summary>The server's endpoint, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string ServiceUrl { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        // s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with DES, which Node 17 and later offer only through OpenSSL's legacy provider.
        var environment = new Dictionary<string, string> { ["NODE_OPTIONS"] = "--openssl-legacy-provider" };
        _server = await LoopbackNodeServer.StartAsync(
            Package,
            (port, dataDirectory) =>
            [
                "-d", dataDirectory, "-a", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture),
                "--configure-bucket", BucketName, "--no-vhost-buckets", "--silent",
            ],
            StartTimeout,
            environment);
        ServiceUrl = $"http://127.0.0.1:{_server.Port}";
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Shares one s3rver process between the test classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}

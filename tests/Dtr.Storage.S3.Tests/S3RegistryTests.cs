using System.Net.Http.Headers;
using System.Net;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Resilience;
using Dtr.Storage.S3.Tests.Support;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Runs the registry on Kestrel with the S3 store on s3rver and checks blob redirects, the mapping of an open
/// circuit through the OCI distribution API, and how the store's start-up check decides whether the host starts.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3RegistryTests
{
    private const string Repository = "s3/app";

    private readonly S3rverFixture _server;

    public S3RegistryTests(S3rverFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task BlobGet_RedirectsToPresignedUrl()
    {
        // Above 5 MiB, so the commit uses a multipart upload.
        var content = new byte[(6 * 1024 * 1024) + 123];
        new Random(3).NextBytes(content);
        var digest = Digest.Compute(content);
        var options = S3TestStores.CreateOptions(_server);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?> { ["Registry:RedirectBlobDownloads"] = "true" });
        using var registry = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        using var following = new HttpClient { BaseAddress = host.BaseAddress };
        await PushBlobAsync(registry, digest, content);
        var blobPath = $"/v2/{Repository}/blobs/{digest}";

        using var redirect = await registry.GetAsync(blobPath);
        using var full = await following.GetAsync(blobPath);
        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, blobPath);
        rangeRequest.Headers.Range = new RangeHeaderValue(5_000_000, 5_000_999);
        using var ranged = await following.SendAsync(rangeRequest);
        using var head = await registry.SendAsync(new HttpRequestMessage(HttpMethod.Head, blobPath));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirect.StatusCode);
        Assert.Equal(new Uri(_server.ServiceUrl).Authority, redirect.Headers.Location?.Authority);
        Assert.True(redirect.Headers.CacheControl?.NoStore, "A redirect to a URL that expires must not be cached.");
        Assert.Equal(HttpStatusCode.OK, full.StatusCode);
        Assert.Equal(digest, Digest.Compute(await full.Content.ReadAsByteArrayAsync()));
        Assert.Equal(HttpStatusCode.PartialContent, ranged.StatusCode);
        Assert.Equal(content[5_000_000..5_001_000], await ranged.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(content.Length, head.Content.Headers.ContentLength);
        Assert.Equal(digest.Value, head.Headers.GetValues("Docker-Content-Digest").Single());
        Assert.Null(head.Headers.Location);
    }

    [Fact]
    public async Task BlobGet_WithoutRedirectSendsBytes()
    {
        var content = "served by the registry itself"u8.ToArray();
        var digest = Digest.Compute(content);
        var options = S3TestStores.CreateOptions(_server);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>());
        using var registry = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        await PushBlobAsync(registry, digest, content);

        using var response = await registry.GetAsync($"/v2/{Repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(content, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Registration_BlobStoreIsRedirectSource()
    {
        var options = S3TestStores.CreateOptions(_server);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>());

        var blobs = host.Services.GetRequiredService<IBlobStore>();

        Assert.Same(host.Services.GetRequiredService<S3BlobStore>(), ITracingDecorator.Unwrap(blobs));
        Assert.IsAssignableFrom<IBlobRedirectSource>(ITracingDecorator.Unwrap(blobs));
    }

    [Fact]
    public async Task OpenCircuit_Returns503Unavailable()
    {
        var content = "stored before the server fails"u8.ToArray();
        var digest = Digest.Compute(content);
        var options = S3TestStores.CreateOptions(_server);
        // The push before the faults makes 16 to 17 calls. s3rver 3.7.1 fails one of them, the multi-object delete of
        // the upload's parts, with 500 InternalError, which the store logs and ignores. A minimum throughput of 20
        // keeps that failure from opening the circuit during the push. With a failure ratio of 0.01, the first GET's
        // faulted attempts then open it.
        options.Resilience.MinimumThroughput = 20;
        options.Resilience.FailureRatio = 0.01;
        options.Resilience.BreakDuration = TimeSpan.FromSeconds(30);
        var handler = new FaultInjectingHandler();
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>(), services => services.AddSingleton(store));
        using var registry = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = host.BaseAddress };
        await PushBlobAsync(registry, digest, content);
        var blobPath = $"/v2/{Repository}/blobs/{digest}";

        // Every S3 request now fails with 503 SlowDown, and the first GET's first attempt opens the circuit.
        handler.ChooseFault = (_, _) => S3Fault.SlowDown;
        using var first = await registry.GetAsync(blobPath);
        var requestsBeforeOpenCircuit = handler.RequestCount;
        using var rejected = await registry.GetAsync(blobPath);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, rejected.StatusCode);
        Assert.Equal("5", rejected.Headers.RetryAfter?.ToString());
        Assert.Equal("UNAVAILABLE", await ReadErrorCodeAsync(rejected));
        Assert.Equal(requestsBeforeOpenCircuit, handler.RequestCount);
        Assert.Single(logger.WithEventId(1001));
    }

    [Fact]
    public async Task Start_MissingBucketStopsHost()
    {
        var options = S3TestStores.CreateOptions(_server);
        options.Bucket = "missing-" + Guid.NewGuid().ToString("N")[..12];

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RegistryHost.StartAsync(options, new Dictionary<string, string?>()));

        Assert.Equal(
            $"The S3 bucket '{options.Bucket}' does not exist at {_server.ServiceUrl}. Create it, or set S3StorageOptions.Bucket to an existing bucket.",
            error.Message);
    }

    [Fact]
    public async Task Start_RefusedConnectionStartsHost()
    {
        var options = S3TestStores.CreateOptions(_server);
        options.ServiceUrl = $"http://127.0.0.1:{S3StartupCheckTests.GetClosedPort()}";
        options.Resilience.MaxRetryAttempts = 1;
        var logger = new CapturingLogger();
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>(), services => services.AddSingleton<ILoggerProvider>(new CapturingLoggerProvider(logger)));
        using var registry = new HttpClient { BaseAddress = host.BaseAddress };

        using var root = await registry.GetAsync("/v2/");
        using var upload = await registry.PostAsync($"/v2/{Repository}/blobs/uploads/", null);

        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
        Assert.Equal("UNAVAILABLE", await ReadErrorCodeAsync(upload));
        var warning = Assert.Single(logger.WithEventId(3003));
        Assert.IsType<StorageUnavailableException>(warning.Exception);
    }

    /// <summary>Pushes a blob in two PATCH chunks and a closing PUT, as a chunked push does.</summary>
    private static async Task PushBlobAsync(HttpClient registry, Digest digest, byte[] content)
    {
        using var start = await registry.PostAsync($"/v2/{Repository}/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
        var location = start.Headers.Location ?? throw new InvalidOperationException("The upload start returned no Location header.");

        var half = content.Length / 2;
        foreach (var (offset, count) in new[] { (0, half), (half, content.Length - half) })
        {
            using var chunk = new ByteArrayContent(content, offset, count);
            chunk.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var patch = await registry.PatchAsync(location, chunk);
            Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
            location = patch.Headers.Location ?? throw new InvalidOperationException("The PATCH returned no Location header.");
        }

        var separator = location.OriginalString.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        using var put = await registry.PutAsync(location.OriginalString + separator + "digest=" + Uri.EscapeDataString(digest.Value), null);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    private static async Task<string?> ReadErrorCodeAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("errors")[0].GetProperty("code").GetString();
    }
}

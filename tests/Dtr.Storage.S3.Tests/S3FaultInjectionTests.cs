using System.Net;
using Amazon.S3;
using Dtr.Digests;
using Dtr.Resilience;
using Dtr.Storage.S3.Tests.Support;
using Polly.CircuitBreaker;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Runs the S3 store against s3rver with faults injected under the real SDK, at the HTTP level, and checks that
/// the resilience pipeline retries transient faults once each, leaves other errors alone, and opens its circuit.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3FaultInjectionTests
{
    /// <summary>The event id of <c>StorageResiliencePipeline</c>'s retry warning.</summary>
    private const int RetryEventId = 1000;

    /// <summary>The event id of <c>StorageResiliencePipeline</c>'s circuit-opened error.</summary>
    private const int CircuitOpenedEventId = 1001;

    private readonly S3rverFixture _server;

    public S3FaultInjectionTests(S3rverFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task MultipartCommit_SurvivesEveryThirdRequestFailing()
    {
        // Two full 5 MiB parts and a tail: three part objects, and a commit with a three-part multipart upload.
        var content = new byte[(2 * S3StorageOptions.MinPartSizeBytes) + (1024 * 1024) + 7];
        new Random(11).NextBytes(content);
        var digest = Digest.Compute(content);
        var options = S3TestStores.CreateOptions(_server);
        var handler = new FaultInjectingHandler();
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);

        // Every third request fails on its first attempt, in turn with 503 SlowDown, a reset connection and a lost
        // response. The first CompleteMultipartUpload also loses its response after s3rver has stored the blob.
        S3Fault[] rotation = [S3Fault.SlowDown, S3Fault.ConnectionReset, S3Fault.ResponseLost];
        var completeFaulted = false;
        handler.ChooseFault = (request, sequence) =>
        {
            if (FaultInjectingHandler.IsCompleteMultipartUpload(request) && !completeFaulted)
            {
                completeFaulted = true;
                return S3Fault.ResponseLost;
            }

            return sequence % 3 == 0 ? rotation[(sequence / 3) % rotation.Length] : S3Fault.None;
        };

        await store.CreateUploadAsync("faulty");
        await using (var writer = await store.OpenUploadWriterAsync("faulty"))
        {
            foreach (var chunk in content.Chunk(1024 * 1024))
            {
                await writer.WriteAsync(chunk);
            }

            await writer.FlushAsync();
        }

        var info = await store.CommitUploadAsync("faulty", digest);
        byte[] stored;
        await using (var reader = await store.OpenReadAsync(digest))
        {
            Assert.NotNull(reader);
            using var copy = new MemoryStream();
            await reader.CopyToAsync(copy);
            stored = copy.ToArray();
        }

        var requests = handler.Requests;
        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(digest, Digest.Compute(stored));
        Assert.Empty(await S3TestStores.ListUploadObjectsAsync(options));
        Assert.True(completeFaulted, "No CompleteMultipartUpload request was made, so the commit did not use a multipart upload.");
        Assert.Contains(requests, request => request.Fault == S3Fault.SlowDown);
        Assert.Contains(requests, request => request.Fault == S3Fault.ConnectionReset);
        Assert.Contains(requests, request => request.Fault == S3Fault.ResponseLost);
        Assert.Contains(logger.Entries, entry => entry.EventId == 2107);

        // Each injected fault costs one retry. s3rver 3.7.1 sometimes fails a DeleteObjects of several keys in one
        // folder with 500 InternalError by itself (its folder cleanup races), which costs one more.
        var retries = logger.WithEventId(RetryEventId);
        var injectedFaults = requests.Count(request => request.Fault != S3Fault.None);
        Assert.True(retries.Count >= injectedFaults, $"{injectedFaults} faults were injected, but the pipeline logged {retries.Count} retries.\n{Describe(requests, logger)}");
        Assert.Contains(retries, entry => entry.Message.Contains("retry 1 of 4", StringComparison.Ordinal));
        Assert.All(retries, entry => Assert.Matches("retry [1-4] of 4", entry.Message));
    }

    [Theory]
    [InlineData(S3Fault.SlowDown, "AmazonS3Exception")]
    [InlineData(S3Fault.ConnectionReset, "IOException")]
    [InlineData(S3Fault.ResponseLost, "IOException")]
    public async Task TransientFault_RetriedOnceByPipelineOnly(S3Fault fault, string loggedErrorType)
    {
        var options = S3TestStores.CreateOptions(_server);
        var handler = new FaultInjectingHandler { ChooseFault = (_, sequence) => sequence == 1 ? fault : S3Fault.None };
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);

        await store.CreateUploadAsync("retried");

        // One failed request and one retry: the SDK resends nothing by itself, not even after a connection reset.
        Assert.True(handler.RequestCount == 2, Describe(handler.Requests, logger));
        var retry = Assert.Single(logger.WithEventId(RetryEventId));
        Assert.Contains("retry 1 of 4", retry.Message, StringComparison.Ordinal);
        Assert.Contains(loggedErrorType, retry.Message, StringComparison.Ordinal);
        Assert.Equal(0, await store.GetUploadLengthAsync("retried"));
    }

    [Fact]
    public async Task TransientFault_GivesUpAfterMaxRetries()
    {
        var options = S3TestStores.CreateOptions(_server);
        options.Resilience.MaxRetryAttempts = 2;
        options.Resilience.CircuitBreakerEnabled = false;
        var handler = new FaultInjectingHandler { ChooseFault = (_, _) => S3Fault.ConnectionReset };
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(async () => await store.CreateUploadAsync("never"));

        Assert.IsType<IOException>(error.InnerException, exactMatch: false);
        Assert.Equal(3, handler.RequestCount);
        Assert.Equal(2, logger.WithEventId(RetryEventId).Count);
    }

    [Fact]
    public async Task AccessDenied_NotRetried()
    {
        var options = S3TestStores.CreateOptions(_server);
        var handler = new FaultInjectingHandler { ChooseFault = (_, _) => S3Fault.AccessDenied };
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);

        var error = await Assert.ThrowsAsync<AmazonS3Exception>(async () => await store.CreateUploadAsync("denied"));

        Assert.Equal(HttpStatusCode.Forbidden, error.StatusCode);
        Assert.Equal("AccessDenied", error.ErrorCode);
        Assert.Equal(1, handler.RequestCount);
        Assert.Empty(logger.WithEventId(RetryEventId));
    }

    [Fact]
    public async Task NoSuchKey_NotRetried()
    {
        var content = "stored, then reported missing"u8.ToArray();
        var digest = Digest.Compute(content);
        var options = S3TestStores.CreateOptions(_server);
        var handler = new FaultInjectingHandler();
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);
        await UploadAsync(store, "present", digest, content);
        handler.ChooseFault = (request, _) => request.Method == HttpMethod.Get ? S3Fault.NoSuchKey : S3Fault.None;
        var before = handler.RequestCount;

        // s3rver itself sometimes fails a request of the upload above, which is retried; only later retries count.
        var retriesBefore = logger.WithEventId(RetryEventId).Count;

        // HeadObject finds the blob, then GetObject returns 404 NoSuchKey, as when the blob is deleted in between.
        var stream = await store.OpenReadAsync(digest);

        Assert.Null(stream);
        Assert.Equal(["HEAD", "GET"], handler.Requests.Skip(before).Select(request => request.Method));
        Assert.Equal(retriesBefore, logger.WithEventId(RetryEventId).Count);
    }

    [Fact]
    public async Task Circuit_OpensAndFailsFast()
    {
        var options = S3TestStores.CreateOptions(_server);
        options.Resilience.MaxRetryAttempts = 1;
        options.Resilience.MinimumThroughput = 2;
        options.Resilience.SamplingDuration = TimeSpan.FromSeconds(30);
        options.Resilience.BreakDuration = TimeSpan.FromSeconds(30);
        var handler = new FaultInjectingHandler { ChooseFault = (_, _) => S3Fault.SlowDown };
        var logger = new CapturingLogger();
        using var store = S3TestStores.CreateStore(options, handler, logger);
        var digest = Digest.Compute("never stored"u8.ToArray());

        // Two failed attempts within the sampling window reach the minimum throughput with a failure ratio of 1.
        var first = await Assert.ThrowsAsync<StorageUnavailableException>(async () => await store.StatAsync(digest));
        var requestsBeforeOpenCircuit = handler.RequestCount;
        await Assert.ThrowsAsync<BrokenCircuitException>(async () => await store.StatAsync(digest));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, Assert.IsType<AmazonS3Exception>(first.InnerException).StatusCode);
        Assert.Equal(2, requestsBeforeOpenCircuit);
        Assert.Equal(requestsBeforeOpenCircuit, handler.RequestCount);
        Assert.Single(logger.WithEventId(CircuitOpenedEventId));
    }

    /// <summary>Lists the requests and the log, for assertion messages.</summary>
    private static string Describe(IEnumerable<RecordedRequest> requests, CapturingLogger logger) =>
        "Requests:\n" + string.Join("\n", requests.Select(request => $"  {request.Sequence} {request.Method} {request.PathAndQuery} {request.Fault}"))
        + "\nLog:\n" + string.Join("\n", logger.Entries.Select(entry => $"  {entry.EventId} {entry.Level}: {entry.Message}"));

    private static async Task UploadAsync(S3BlobStore store, string uploadId, Digest digest, byte[] content)
    {
        await store.CreateUploadAsync(uploadId);
        await using (var writer = await store.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await store.CommitUploadAsync(uploadId, digest);
    }
}

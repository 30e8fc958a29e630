using System.Security.Cryptography;
using Azure;
using Dtr.Digests;
using Dtr.Resilience;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// Shows that the store's resilience pipeline retries transient Blob service faults on every call, that a retried
/// call whose first attempt had already succeeded is recognised, and that other faults surface at once.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobFaultTests
{
    private readonly AzuriteFixture _server;
    private readonly string _prefix = "faults-" + Guid.NewGuid().ToString("N");

    public AzureBlobFaultTests(AzuriteFixture server)
    {
        _server = server;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Upload_CompletesDespiteFirstAttempt503(bool afterSending)
    {
        // Every distinct request fails once with 503 ServerBusy: before it reaches Azurite, or after Azurite applied
        // it (a lost response). A call made outside the pipeline, or a repeat that is not recognised, fails the test.
        var faults = FaultInjectionTransport.FailFirstAttempts(503, afterSending);
        var store = CreateStore(faults);
        var content = new byte[(5 * AzureBlobStorageOptions.MinBlockSizeBytes / 2) + 321];
        new Random(17).NextBytes(content);
        var digest = Digest.Compute(content);

        await store.CreateUploadAsync("flaky");
        await using (var writer = await store.OpenUploadWriterAsync("flaky"))
        {
            await writer.WriteAsync(content.AsMemory(0, 1_000_000));
            await writer.FlushAsync();
        }

        await using (var writer = await store.OpenUploadWriterAsync("flaky"))
        {
            foreach (var chunk in content[1_000_000..].Chunk(400_000))
            {
                await writer.WriteAsync(chunk);
            }

            await writer.FlushAsync();
        }

        Assert.Equal(content.Length, await store.GetUploadLengthAsync("flaky"));
        await using (var reader = await store.OpenUploadReaderAsync("flaky"))
        {
            Assert.Equal(digest, await HashAsync(reader));
        }

        var info = await store.CommitUploadAsync("flaky", digest);

        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(new BlobInfo(digest, content.Length), await store.StatAsync(digest));
        await using (var stored = await store.OpenReadAsync(digest))
        {
            Assert.NotNull(stored);
            Assert.Equal(digest, await HashAsync(stored));
        }

        Assert.Null(await store.GetUploadLengthAsync("flaky"));
        Assert.Contains(faults.Injected, key => key.Contains("comp=block&", StringComparison.Ordinal));
        Assert.Contains(faults.Injected, key => key.Contains("comp=blocklist", StringComparison.Ordinal));
        Assert.All(faults.Injected, key => Assert.True(faults.Attempts[key] >= 2, $"The request '{key}' was not retried."));
    }

    [Fact]
    public async Task List_RetriesEachPage()
    {
        var store = CreateStore(FaultInjectionTransport.FailFirstAttempts(500, afterSending: false), listPageSize: 1);
        for (var i = 0; i < 3; i++)
        {
            var content = BitConverter.GetBytes(i);
            await store.CreateUploadAsync($"listed-{i}");
            await using (var writer = await store.OpenUploadWriterAsync($"listed-{i}"))
            {
                await writer.WriteAsync(content);
                await writer.FlushAsync();
            }

            await store.CommitUploadAsync($"listed-{i}", Digest.Compute(content));
        }

        var listed = new List<BlobInfo>();
        await foreach (var blob in store.ListAsync())
        {
            listed.Add(blob);
        }

        Assert.Equal(3, listed.Count);
    }

    [Fact]
    public async Task Forbidden_NotRetried()
    {
        var faults = new FaultInjectionTransport((key, _) => key.Contains("comp=block&", StringComparison.Ordinal) ? 403 : null, afterSending: false);
        var store = CreateStore(faults);
        await store.CreateUploadAsync("denied");
        await using var writer = await store.OpenUploadWriterAsync("denied");
        await writer.WriteAsync(new byte[1000]);

        var exception = await Assert.ThrowsAsync<RequestFailedException>(async () => await writer.FlushAsync());

        Assert.Equal(403, exception.Status);
        var stageKey = Assert.Single(faults.Injected);
        Assert.Equal(1, faults.Attempts[stageKey]);
        Assert.Equal(0, await store.GetUploadLengthAsync("denied"));
    }

    [Fact]
    public async Task ContainerNotFound_NotRetried()
    {
        var faults = new FaultInjectionTransport((_, _) => null, afterSending: false);
        var options = CreateOptions(faults);
        options.ContainerName = "absent-" + Guid.NewGuid().ToString("N")[..12];
        options.CreateContainerIfMissing = false;
        var store = AzuriteStores.CreateStore(options);

        var exception = await Assert.ThrowsAsync<RequestFailedException>(async () => await store.CreateUploadAsync("nowhere"));

        Assert.Equal(404, exception.Status);
        Assert.Equal("ContainerNotFound", exception.ErrorCode);
        Assert.Equal(1, Assert.Single(faults.Attempts).Value);
    }

    [Fact]
    public async Task Retries_StopAfterMaxAttempts()
    {
        var faults = new FaultInjectionTransport((key, _) => key.StartsWith("HEAD ", StringComparison.Ordinal) ? 503 : null, afterSending: false);
        var store = CreateStore(faults);

        var exception = await Assert.ThrowsAsync<StorageUnavailableException>(async () => await store.StatAsync(Digest.Compute("x"u8)));

        Assert.Equal(503, Assert.IsType<RequestFailedException>(exception.InnerException).Status);
        Assert.Equal(1 + 3, Assert.Single(faults.Attempts, attempt => attempt.Key.StartsWith("HEAD ", StringComparison.Ordinal)).Value);
    }

    [Theory]
    [InlineData(408, true)]
    [InlineData(429, true)]
    [InlineData(500, true)]
    [InlineData(502, true)]
    [InlineData(503, true)]
    [InlineData(504, true)]
    [InlineData(400, false)]
    [InlineData(403, false)]
    [InlineData(404, false)]
    [InlineData(409, false)]
    [InlineData(412, false)]
    public void IsTransient_ByStatus(int status, bool transient)
    {
        Assert.Equal(transient, AzureBlobTransientFaults.IsTransient(new RequestFailedException(status, "status " + status)));
    }

    [Fact]
    public void IsTransient_ConnectionFailures()
    {
        Assert.True(AzureBlobTransientFaults.IsTransient(new RequestFailedException("reset", new HttpRequestException("reset"))));
        Assert.True(AzureBlobTransientFaults.IsTransient(new RequestFailedException("reset", new IOException("reset"))));
        Assert.True(AzureBlobTransientFaults.IsTransient(new HttpRequestException("refused")));
        Assert.True(AzureBlobTransientFaults.IsTransient(new IOException("connection reset by peer")));
        Assert.False(AzureBlobTransientFaults.IsTransient(new RequestFailedException("no response", new InvalidOperationException("bug"))));
        Assert.False(AzureBlobTransientFaults.IsTransient(new InvalidOperationException("bug")));
    }

    private static async Task<Digest> HashAsync(Stream stream)
    {
        var hash = await SHA256.HashDataAsync(stream);
        return Digest.Parse("sha256:" + Convert.ToHexStringLower(hash));
    }

    private AzureBlobStorageOptions CreateOptions(FaultInjectionTransport faults)
    {
        var options = AzuriteStores.CreateOptions(_server, _prefix);
        options.Resilience = new StorageResilienceOptions
        {
            MaxRetryAttempts = 3,
            BaseDelay = TimeSpan.FromMilliseconds(1),
            MaxDelay = TimeSpan.FromMilliseconds(10),

            // Every call fails once here, which would open a breaker at its default failure ratio of one half.
            CircuitBreakerEnabled = false,
        };
        options.ConfigureClientOptions = clientOptions => clientOptions.Transport = faults;
        return options;
    }

    private AzureBlobStore CreateStore(FaultInjectionTransport faults, int listPageSize = AzureBlobStore.DefaultListPageSize)
    {
        var options = CreateOptions(faults);
        var store = AzuriteStores.CreateStore(options);
        return listPageSize == AzureBlobStore.DefaultListPageSize
            ? store
            : new AzureBlobStore(store.Container, options, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance) { ListPageSize = listPageSize };
    }
}

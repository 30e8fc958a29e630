using System.Net;
using System.Net.Http.Headers;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Metadata;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

/// <summary>
/// Two registry hosts that share one data folder, and so one SQLite database file and one filesystem blob store, as
/// hosts behind a load balancer without sticky sessions share their database and storage. Each test sends the
/// requests of one upload to both hosts.
/// </summary>
public sealed class MultiHostUploadTests : IAsyncLifetime
{
    // RegistryLog.UploadLeaseWaiting and RegistryLog.UploadRehashed.
    private const int LeaseWaitingEventId = 3016;
    private const int RehashedEventId = 3014;

    // The smallest buffer the options allow, so that a body of a few buffers reaches storage in several writes.
    private const int BufferBytes = 4096;

    private static readonly TimeSpan s_leaseDuration = TimeSpan.FromMinutes(2);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2025, 3, 4, 5, 6, 7, TimeSpan.Zero));
    private readonly SharedStorageHost _first;
    private readonly SharedStorageHost _second;
    private readonly RegistryClient _firstClient;
    private readonly RegistryClient _secondClient;

    public MultiHostUploadTests()
    {
        var dataDirectory = Path.Combine(Path.GetTempPath(), "dtr-multi-host-" + Guid.NewGuid().ToString("N"));
        _first = new SharedStorageHost(dataDirectory, _clock);
        _second = new SharedStorageHost(dataDirectory, _clock);
        _firstClient = _first.CreateRegistryClient();
        _secondClient = _second.CreateRegistryClient();
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _firstClient.Dispose();
        _secondClient.Dispose();
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task AlternatingHosts_ChunkedUploadCompletes()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(5 * 5000, 41);
        var digest = TestContent.Sha256(blob);
        RegistryClient[] clients = [_firstClient, _secondClient];
        var location = await _firstClient.StartUploadAsync(repository);

        for (var chunk = 0; chunk < 4; chunk++)
        {
            using var patch = await PatchChunkAsync(clients[chunk % 2], location, blob, chunk * 5000, 5000);
            Assert.True(patch.StatusCode == HttpStatusCode.Accepted, $"PATCH {chunk} returned {await DescribeAsync(patch)}");
            Assert.Equal($"0-{(chunk + 1) * 5000 - 1}", Header(patch, "Range"));
            location = patch.Headers.Location!.ToString();
        }

        // The first host hashed the first chunk, then saw the second host append, so it must hash from storage.
        var lastChunk = Binary(blob[20000..]);
        using var put = await _firstClient.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), lastChunk, [("Content-Range", "20000-24999")]);

        Assert.True(put.StatusCode == HttpStatusCode.Created, $"PUT returned {await DescribeAsync(put)}");
        Assert.Equal(blob, await DownloadAsync(_secondClient, repository, digest));
        Assert.Contains(_first.Logs.Records, record => record.EventId.Id == RehashedEventId);
    }

    [Fact]
    public async Task ConcurrentPatches_SameOffsetSecondRejected()
    {
        var repository = TestContent.UniqueRepository();
        var first = TestContent.RandomBytes(4 * BufferBytes, 42);
        var second = TestContent.RandomBytes(4 * BufferBytes, 43);
        var location = await _firstClient.StartUploadAsync(repository);
        var firstBody = new GatedContent(first, 2 * BufferBytes);

        var firstPatch = SendPatchAsync(_firstClient, location, firstBody, start: 0);
        await WaitForLengthAsync(_secondClient, location, 2 * BufferBytes);
        var secondPatch = SendPatchAsync(_secondClient, location, Binary(second), start: 0);
        await _second.WaitForLogAsync(LeaseWaitingEventId);
        firstBody.Open();

        using var firstResponse = await firstPatch;
        using var secondResponse = await AdvanceClockUntilDoneAsync(secondPatch, TimeSpan.FromMilliseconds(50));
        Assert.True(firstResponse.StatusCode == HttpStatusCode.Accepted, $"The first PATCH returned {await DescribeAsync(firstResponse)}");
        await AssertErrorAsync(secondResponse, HttpStatusCode.RequestedRangeNotSatisfiable, "BLOB_UPLOAD_INVALID");
        Assert.Equal($"0-{first.Length - 1}", Header(secondResponse, "Range"));
        await CompleteAndCheckAsync(_secondClient, repository, location, first);
    }

    [Fact]
    public async Task ConcurrentPatches_StreamedSecondAppliedAfter()
    {
        var repository = TestContent.UniqueRepository();
        var first = TestContent.RandomBytes(4 * BufferBytes, 44);
        var second = TestContent.RandomBytes(3 * BufferBytes, 45);
        var location = await _firstClient.StartUploadAsync(repository);
        var firstBody = new GatedContent(first, 2 * BufferBytes);

        // Without the lease, the second host would start writing at the first host's partial length, and the
        // first host would then write over those bytes.
        var firstPatch = SendPatchAsync(_firstClient, location, firstBody, start: 0);
        await WaitForLengthAsync(_secondClient, location, 2 * BufferBytes);
        var secondPatch = SendPatchAsync(_secondClient, location, Binary(second), start: null);
        await _second.WaitForLogAsync(LeaseWaitingEventId);
        firstBody.Open();

        using var firstResponse = await firstPatch;
        using var secondResponse = await AdvanceClockUntilDoneAsync(secondPatch, TimeSpan.FromMilliseconds(50));
        Assert.True(firstResponse.StatusCode == HttpStatusCode.Accepted, $"The first PATCH returned {await DescribeAsync(firstResponse)}");
        Assert.True(secondResponse.StatusCode == HttpStatusCode.Accepted, $"The second PATCH returned {await DescribeAsync(secondResponse)}");
        Assert.Equal($"0-{first.Length + second.Length - 1}", Header(secondResponse, "Range"));
        await CompleteAndCheckAsync(_firstClient, repository, location, [.. first, .. second]);
    }

    [Fact]
    public async Task CrashedHolderLease_ExpiresAndUploadContinues()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(3000, 46);
        var location = await _firstClient.StartUploadAsync(repository);
        var uploadId = UploadIdOf(location);
        var now = _clock.GetUtcNow();
        var store = _first.Services.GetRequiredService<IMetadataStore>();
        Assert.True(await store.TryAcquireUploadLeaseAsync(uploadId, "crashed-host", now, now.AddSeconds(30)));

        var patch = PatchChunkAsync(_secondClient, location, blob, 0, blob.Length);
        await _second.WaitForLogAsync(LeaseWaitingEventId);
        Assert.False(patch.IsCompleted);
        _clock.Advance(TimeSpan.FromSeconds(31));
        using var response = await AdvanceClockUntilDoneAsync(patch, TimeSpan.FromMilliseconds(100));

        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"PATCH returned {await DescribeAsync(response)}");
        Assert.Equal($"0-{blob.Length - 1}", Header(response, "Range"));
        await CompleteAndCheckAsync(_firstClient, repository, location, blob);
    }

    [Fact]
    public async Task HeldLease_WaitTimesOutWithError()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(3000, 47);
        var location = await _firstClient.StartUploadAsync(repository);
        var uploadId = UploadIdOf(location);
        var now = _clock.GetUtcNow();
        var store = _first.Services.GetRequiredService<IMetadataStore>();
        Assert.True(await store.TryAcquireUploadLeaseAsync(uploadId, "stuck-host", now, now.AddHours(1)));

        var patch = PatchChunkAsync(_secondClient, location, blob, 0, blob.Length);
        await _second.WaitForLogAsync(LeaseWaitingEventId);
        using var response = await AdvanceClockUntilDoneAsync(patch, TimeSpan.FromSeconds(5));

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "BLOB_UPLOAD_INVALID");
        Assert.Contains("retry", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.True(_clock.GetUtcNow() - now >= s_leaseDuration, "The request gave up before one lease duration passed.");
        using var status = await _secondClient.GetAsync(location);
        Assert.Equal("0-0", Header(status, "Range"));
    }

    [Theory]
    [InlineData(121, 0)]
    [InlineData(61, 60)]
    public async Task LostLease_StopsWriting(int elapsedSeconds, int intruderClockAheadSeconds)
    {
        // First case: the writer's lease expired while its client stalled, and another request took it. Second case:
        // the renewal is due, but a host whose clock runs ahead already took the lease, so the renewal fails.
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(4 * BufferBytes, 48);
        var location = await _firstClient.StartUploadAsync(repository);
        var body = new GatedContent(blob, 2 * BufferBytes);

        var patch = SendPatchAsync(_firstClient, location, body, start: 0);
        await WaitForLengthAsync(_secondClient, location, 2 * BufferBytes);
        _clock.Advance(TimeSpan.FromSeconds(elapsedSeconds));
        var intruderNow = _clock.GetUtcNow().AddSeconds(intruderClockAheadSeconds);
        var store = _second.Services.GetRequiredService<IMetadataStore>();
        Assert.True(await store.TryAcquireUploadLeaseAsync(UploadIdOf(location), "intruder", intruderNow, intruderNow + s_leaseDuration));
        body.Open();
        using var response = await patch;

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "BLOB_UPLOAD_INVALID");
        using var status = await _secondClient.GetAsync(location);
        Assert.Equal($"0-{2 * BufferBytes - 1}", Header(status, "Range"));
    }

    /// <summary>Advances the shared clock by <paramref name="step"/> every 10 ms until the request completes.</summary>
    private async Task<HttpResponseMessage> AdvanceClockUntilDoneAsync(Task<HttpResponseMessage> request, TimeSpan step)
    {
        // A lease wait polls on the fake clock, so the clock must keep moving for every later poll to run.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!request.IsCompleted)
        {
            timeout.Token.ThrowIfCancellationRequested();
            _clock.Advance(step);
            await Task.WhenAny(request, Task.Delay(10, CancellationToken.None));
        }

        return await request;
    }

    private static Task<HttpResponseMessage> PatchChunkAsync(RegistryClient client, string location, byte[] blob, int offset, int length) =>
        SendPatchAsync(client, location, Binary(blob[offset..(offset + length)]), offset);

    private static Task<HttpResponseMessage> SendPatchAsync(RegistryClient client, string location, HttpContent content, long? start)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        var length = content.Headers.ContentLength ?? throw new InvalidOperationException("The PATCH body needs a known length.");
        (string Name, string Value)[] headers = start is { } first ? [("Content-Range", $"{first}-{first + length - 1}")] : [];
        return client.SendAsync(HttpMethod.Patch, location, content, headers);
    }

    /// <summary>Polls the upload's status until it contains <paramref name="length"/> bytes.</summary>
    private static async Task WaitForLengthAsync(RegistryClient client, string location, long length)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var expected = $"0-{length - 1}";
        while (true)
        {
            using var status = await client.GetAsync(location);
            if (Header(status, "Range") == expected)
            {
                return;
            }

            await Task.Delay(10, timeout.Token);
        }
    }

    private static async Task CompleteAndCheckAsync(RegistryClient client, string repository, string location, byte[] expected)
    {
        var digest = TestContent.Sha256(expected);
        using var put = await client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest));
        Assert.True(put.StatusCode == HttpStatusCode.Created, $"PUT with digest {digest} returned {await DescribeAsync(put)}");
        Assert.Equal(expected, await DownloadAsync(client, repository, digest));
    }

    private static async Task<byte[]> DownloadAsync(RegistryClient client, string repository, string digest)
    {
        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET blob {digest} returned {await DescribeAsync(response)}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static string UploadIdOf(string location) => new Uri(new Uri("http://registry/"), location).Segments[^1].TrimEnd('/');

    /// <summary>One of the hosts: the sample host on a shared data folder, with the shared clock and Debug logs kept.</summary>
    private sealed class SharedStorageHost : RegistryFactory
    {
        private readonly TimeProvider _clock;

        public SharedStorageHost(string dataDirectory, TimeProvider clock)
            : base(dataDirectory)
        {
            _clock = clock;
            Settings = new Dictionary<string, string?>
            {
                ["Registry:UploadBufferBytes"] = BufferBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Registry:UploadLeaseDuration"] = s_leaseDuration.ToString(),
            };
        }

        public TestLogProvider Logs { get; } = new();

        /// <summary>Waits until this host logged <paramref name="eventId"/>, or fails after 30 seconds.</summary>
        public async Task WaitForLogAsync(int eventId)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!Logs.Records.Any(record => record.EventId.Id == eventId))
            {
                await Task.Delay(10, timeout.Token);
            }
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging =>
            {
                logging.AddProvider(Logs);
                logging.AddFilter<TestLogProvider>("Dtr", LogLevel.Debug);
            });
            builder.ConfigureTestServices(services => services.AddSingleton(_clock));
        }
    }

    /// <summary>
    /// A request body that sends its first <c>openAfter</c> bytes at once and the rest only after <see cref="Open"/>,
    /// so a test can act while the registry is in the middle of the body.
    /// </summary>
    private sealed class GatedContent(byte[] content, int openAfter) : HttpContent
    {
        private readonly TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Open() => _gate.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.WriteAsync(content.AsMemory(0, openAfter));
            await stream.FlushAsync();
            await _gate.Task;
            await stream.WriteAsync(content.AsMemory(openAfter));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = content.Length;
            return true;
        }
    }
}

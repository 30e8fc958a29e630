using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Telemetry;

public sealed class RegistryMetricsTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;
    private readonly ConcurrentQueue<Measurement> _measurements = new();
    private readonly MeterListener _listener = new();

    public RegistryMetricsTests(RegistryFactory factory)
    {
        _client = factory.CreateRegistryClient();

        // Only this host's meters: other test classes run registries of their own in parallel.
        var scope = factory.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == RegistryTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _client.Dispose();
    }

    [Fact]
    public async Task PushAndPull_RecordRequestsAndBytes()
    {
        var repository = TestContent.UniqueRepository();
        var chunk = TestContent.RandomBytes(1000, 7);
        await PatchUploadAsync(repository, chunk);
        var manifest = await _client.PushImageAsync(repository, "v1", seed: 3);
        var layer = TestContent.RandomBytes(64, 3);
        var config = TestContent.Json("""{"architecture":"amd64","os":"linux","seed":3}""");

        using var pull = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        using var blob = await _client.GetAsync($"/v2/{repository}/blobs/{TestContent.Sha256(layer)}");
        Assert.Equal(layer, await blob.Content.ReadAsByteArrayAsync());
        using var missing = await _client.GetAsync($"/v2/{repository}/manifests/absent");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // The handler records a request after its response is written, which the client may see first.
        await WaitForAsync(() => Count("dtr.registry.requests", "manifest.get", 404) == 1);

        Assert.Equal(1, Count("dtr.registry.requests", "upload.patch", 202));
        Assert.Equal(2, Count("dtr.registry.requests", "upload.start", 201));
        Assert.Equal(1, Count("dtr.registry.requests", "manifest.put", 201));
        Assert.Equal(1, Count("dtr.registry.requests", "manifest.get", 200));
        Assert.Equal(1, Count("dtr.registry.requests", "blob.get", 200));
        Assert.Equal(1, Measurements("dtr.registry.request.duration").Count(m => m.Operation == "manifest.put" && m.Value > 0));

        Assert.Equal(chunk.Length, Sum("dtr.registry.bytes.received", "upload.patch"));
        Assert.Equal(config.Length + layer.Length, Sum("dtr.registry.bytes.received", "upload.start"));
        Assert.Equal(manifest.Bytes.Length, Sum("dtr.registry.bytes.received", "manifest.put"));
        Assert.Equal(manifest.Bytes.Length, Sum("dtr.registry.bytes.sent", "manifest.get"));
        Assert.Equal(layer.Length, Sum("dtr.registry.bytes.sent", "blob.get"));

        Assert.Equal(1, Measurements("dtr.registry.pushes").Sum(m => m.Value));
        Assert.Equal(1, Measurements("dtr.registry.pulls").Sum(m => m.Value));
        Assert.Equal(2, Measurements("dtr.registry.uploads.completed").Sum(m => m.Value));

        var active = Measurements("dtr.registry.uploads.active");
        Assert.Equal(3, active.Count(m => m.Value == 1));
        Assert.Equal(0, active.Sum(m => m.Value));
    }

    [Fact]
    public async Task HeadRequest_IsNoPull()
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushImageAsync(repository, "v1", seed: 4);

        using var head = await _client.HeadAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);

        await WaitForAsync(() => Count("dtr.registry.requests", "manifest.head", 200) == 1);
        Assert.Empty(Measurements("dtr.registry.pulls"));
        Assert.Equal(0, Sum("dtr.registry.bytes.sent", "manifest.head"));
    }

    [Fact]
    public async Task UnknownPath_CountsAsUnknown()
    {
        using var response = await _client.GetAsync("/v2/a/b/not-an-endpoint");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        await WaitForAsync(() => Count("dtr.registry.requests", "unknown", 404) == 1);
    }

    [Fact]
    public async Task UnsupportedMethod_CountsAsUnknown()
    {
        using var response = await _client.SendAsync(HttpMethod.Post, "/v2/");
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);

        await WaitForAsync(() => Count("dtr.registry.requests", "unknown", 405) == 1);
        Assert.Equal(0, Count("dtr.registry.requests", "base", 405));
    }

    private const string OperationTag = "dtr.operation";

    private async Task PatchUploadAsync(string repository, byte[] chunk)
    {
        var location = await _client.StartUploadAsync(repository);
        var content = new ByteArrayContent(chunk);
        content.Headers.ContentType = new MediaTypeHeaderValue(RegistryClient.OctetStream);
        using var patch = await _client.SendAsync(HttpMethod.Patch, location, content);
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
        _measurements.Enqueue(new Measurement(instrument.Name, value, tags.ToArray()));

    private List<Measurement> Measurements(string instrument) =>
        _measurements.Where(m => m.Instrument == instrument).ToList();

    private int Count(string instrument, string operation, int statusCode) =>
        Measurements(instrument).Count(m => m.Operation == operation && Equals(m.Tag("http.response.status_code"), statusCode));

    private double Sum(string instrument, string operation) =>
        Measurements(instrument).Where(m => m.Operation == operation).Sum(m => m.Value);

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The expected measurement was not recorded within 10 seconds.");
            await Task.Delay(20);
        }
    }

    private sealed record Measurement(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)
    {
        public string? Operation => Tag(OperationTag) as string;

        public object? Tag(string name) => Tags.FirstOrDefault(tag => tag.Key == name).Value;
    }
}

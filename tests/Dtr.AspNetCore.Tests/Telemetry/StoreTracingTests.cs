using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Telemetry;

public sealed class StoreTracingTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryFactory _factory;
    private readonly RegistryClient _client;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly ActivityListener _listener;

    public StoreTracingTests(RegistryFactory factory)
    {
        _factory = factory;
        _client = factory.CreateRegistryClient();
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RegistryTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose()
    {
        _listener.Dispose();
        _client.Dispose();
    }

    [Fact]
    public async Task ManifestPutAndBlobRead_HaveSpans()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "v1", seed: 5);
        var layerDigest = TestContent.Sha256(TestContent.RandomBytes(64, 5));

        using var blob = await _client.GetAsync($"/v2/{repository}/blobs/{layerDigest}");
        Assert.Equal(HttpStatusCode.OK, blob.StatusCode);

        var put = Assert.Single(Spans("metadata_store.put_manifest", manifest.Digest));
        Assert.Equal(ActivityStatusCode.Unset, put.Status);
        Assert.Equal(ActivityKind.Client, put.Kind);

        var read = Assert.Single(Spans("blob_store.open_read", layerDigest));
        Assert.Equal(ActivityStatusCode.Unset, read.Status);
        Assert.Single(Spans("blob_store.commit_upload", layerDigest));
    }

    [Fact]
    public async Task MissingManifest_SpanEndsWithoutError()
    {
        var repository = TestContent.UniqueRepository();

        using var response = await _client.GetAsync($"/v2/{repository}/manifests/absent");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);

        var get = Assert.Single(_stopped, span => span.OperationName == "metadata_store.get_manifest" && Equals(span.GetTagItem("dtr.repository"), repository));
        Assert.Equal(ActivityStatusCode.Unset, get.Status);
    }

    [Fact]
    public async Task FailedStoreCall_SpanHasError()
    {
        var blobs = _factory.Services.GetRequiredService<IBlobStore>();
        var uploadId = "missing-" + Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await blobs.OpenUploadReaderAsync(uploadId));

        var span = Assert.Single(_stopped, span => span.OperationName == "blob_store.open_upload_reader" && Equals(span.GetTagItem("dtr.upload.id"), uploadId));
        Assert.Equal(ActivityStatusCode.Error, span.Status);
        Assert.Contains(uploadId, span.StatusDescription);
        Assert.Contains(span.Events, e => e.Name == "exception");
    }

    private List<Activity> Spans(string name, string digest) =>
        _stopped.Where(span => span.OperationName == name && Equals(span.GetTagItem("dtr.digest"), digest)).ToList();
}

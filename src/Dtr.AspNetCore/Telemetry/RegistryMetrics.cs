using System.Diagnostics;
using System.Diagnostics.Metrics;
using Dtr.Telemetry;

namespace Dtr.AspNetCore.Telemetry;

/// <summary>The instruments of the <c>/v2</c> API, on the meter <see cref="RegistryTelemetry.MeterName"/>.</summary>
internal sealed class RegistryMetrics
{
    /// <summary>The tag that names the API operation, such as <c>blob.get</c> or <c>manifest.put</c>.</summary>
    public const string OperationTag = "dtr.operation";

    /// <summary>The tag with the response's HTTP status code, as the OpenTelemetry HTTP conventions name it.</summary>
    public const string StatusCodeTag = "http.response.status_code";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _bytesReceived;
    private readonly Counter<long> _bytesSent;
    private readonly Counter<long> _pushes;
    private readonly Counter<long> _pulls;
    private readonly UpDownCounter<long> _activeUploads;
    private readonly Counter<long> _completedUploads;

    public RegistryMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(RegistryTelemetry.MeterName);
        _requests = meter.CreateCounter<long>("dtr.registry.requests", "{request}", "Requests to the /v2 API, by operation and response status code.");
        _duration = meter.CreateHistogram<double>(
            "dtr.registry.request.duration",
            "s",
            "Time from the start of a /v2 request until its response was written, by operation and status code.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _bytesReceived = meter.CreateCounter<long>("dtr.registry.bytes.received", "By", "Bytes of blob upload and manifest request bodies that the registry read in full, by operation.");
        _bytesSent = meter.CreateCounter<long>("dtr.registry.bytes.sent", "By", "Bytes of blob and manifest response bodies that the registry wrote, by operation.");
        _pushes = meter.CreateCounter<long>("dtr.registry.pushes", "{manifest}", "Manifests stored by a PUT.");
        _pulls = meter.CreateCounter<long>("dtr.registry.pulls", "{manifest}", "Manifests sent in answer to a GET.");
        _activeUploads = meter.CreateUpDownCounter<long>("dtr.registry.uploads.active", "{request}", "Upload requests (PATCH or PUT with a body) writing data on this host now.");
        _completedUploads = meter.CreateCounter<long>("dtr.registry.uploads.completed", "{blob}", "Blob uploads verified and stored in the blob store. Cross-repository mounts are not counted.");
    }

    /// <summary>Records a finished request with its operation, status code and duration in seconds.</summary>
    public void RequestFinished(string operation, int statusCode, double seconds)
    {
        if (!_requests.Enabled && !_duration.Enabled)
        {
            return;
        }

        var tags = new TagList
        {
            { OperationTag, operation },
            { StatusCodeTag, statusCode },
        };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }

    /// <summary>Adds <paramref name="bytes"/> received in the body of an <paramref name="operation"/> request.</summary>
    public void BytesReceived(string operation, long bytes)
    {
        if (bytes > 0)
        {
            _bytesReceived.Add(bytes, new KeyValuePair<string, object?>(OperationTag, operation));
        }
    }

    /// <summary>Adds <paramref name="bytes"/> sent in the body of an <paramref name="operation"/> response.</summary>
    public void BytesSent(string operation, long bytes)
    {
        if (bytes > 0)
        {
            _bytesSent.Add(bytes, new KeyValuePair<string, object?>(OperationTag, operation));
        }
    }

    /// <summary>Counts a stored manifest.</summary>
    public void ManifestPushed() => _pushes.Add(1);

    /// <summary>Counts a manifest sent in a response body.</summary>
    public void ManifestPulled() => _pulls.Add(1);

    /// <summary>Counts a blob upload that was verified and stored.</summary>
    public void UploadCompleted() => _completedUploads.Add(1);

    /// <summary>Counts an upload request that starts writing data. Dispose the result when the request stops writing.</summary>
    public ActiveUpload UploadStarted()
    {
        _activeUploads.Add(1);
        return new ActiveUpload(_activeUploads);
    }

    /// <summary>Decrements <c>dtr.registry.uploads.active</c> when disposed.</summary>
    public readonly struct ActiveUpload(UpDownCounter<long> counter) : IDisposable
    {
        public void Dispose() => counter.Add(-1);
    }
}

using System.Diagnostics.Metrics;
using Dtr.Telemetry;

namespace Dtr.Scanning.Service;

/// <summary>The scanning instruments, on the meter <see cref="RegistryTelemetry.MeterName"/>.</summary>
internal sealed class ScanningMetrics
{
    /// <summary>The tag with the outcome of a scan job: <c>succeeded</c> or <c>failed</c>.</summary>
    public const string OutcomeTag = "dtr.scan.outcome";

    private readonly Histogram<double> _duration;
    private readonly ObservableGauge<int> _queueLength;
    private volatile int _lastQueueLength;

    /// <summary>The meter of the instruments.</summary>
    internal Meter Meter { get; }

    /// <param name="meters">The host's meter factory. Without one, the instruments get a meter of their own.</param>
    public ScanningMetrics(IMeterFactory? meters = null)
    {
        var meter = meters?.Create(RegistryTelemetry.MeterName) ?? new Meter(RegistryTelemetry.MeterName);
        Meter = meter;
        _duration = meter.CreateHistogram<double>(
            "dtr.scan.duration",
            "s",
            "Time a claimed scan job took on this host, by outcome.",
            tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] });
        _queueLength = meter.CreateObservableGauge(
            "dtr.scan.queue.length",
            () => _lastQueueLength,
            "{job}",
            "Scan jobs queued or running in the scan store, as the scan worker last counted them.");
    }

    /// <summary>
    /// Whether a listener reads the queue length. The worker counts the queue only then, because counting is a
    /// store query.
    /// </summary>
    public bool QueueLengthEnabled => _queueLength.Enabled;

    /// <summary>Stores the queue length that the gauge reports until the next count.</summary>
    public void SetQueueLength(int jobs) => _lastQueueLength = jobs;

    /// <summary>Records the duration of a scan job that ended.</summary>
    public void ScanEnded(bool succeeded, double seconds) =>
        _duration.Record(seconds, new KeyValuePair<string, object?>(OutcomeTag, succeeded ? "succeeded" : "failed"));
}

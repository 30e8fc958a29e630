using System.Diagnostics.Metrics;
using Dtr.Metadata;
using Dtr.Telemetry;

namespace Dtr.Gc;

/// <summary>The garbage collection instruments, on the meter <see cref="RegistryTelemetry.MeterName"/>.</summary>
internal sealed class GarbageCollectionMetrics
{
    /// <summary>The tag with the run's final status, such as <c>completed</c> or <c>budget_exhausted</c>.</summary>
    public const string StatusTag = "dtr.gc.status";

    /// <summary>The tag that is true for a dry run, which deletes nothing.</summary>
    public const string DryRunTag = "dtr.gc.dry_run";

    private readonly Counter<long> _runs;
    private readonly Counter<long> _bytesFreed;

    /// <summary>The meter of the instruments.</summary>
    internal Meter Meter { get; }

    /// <param name="meters">The host's meter factory. Without one, the instruments get a meter of their own.</param>
    public GarbageCollectionMetrics(IMeterFactory? meters = null)
    {
        var meter = meters?.Create(RegistryTelemetry.MeterName) ?? new Meter(RegistryTelemetry.MeterName);
        Meter = meter;
        _runs = meter.CreateCounter<long>("dtr.gc.runs", "{run}", "Garbage collection runs that ended on this host, by final status.");
        _bytesFreed = meter.CreateCounter<long>("dtr.gc.bytes_freed", "By", "Blob bytes that garbage collection deleted from the blob store.");
    }

    /// <summary>Records a run that ended with <paramref name="status"/> and freed <paramref name="bytesFreed"/> bytes.</summary>
    public void RunEnded(GarbageCollectionStatus status, bool dryRun, long bytesFreed)
    {
        _runs.Add(1, new(StatusTag, StatusName(status)), new(DryRunTag, dryRun));
        if (!dryRun && bytesFreed > 0)
        {
            _bytesFreed.Add(bytesFreed);
        }
    }

    private static string StatusName(GarbageCollectionStatus status) => status switch
    {
        GarbageCollectionStatus.Running => "running",
        GarbageCollectionStatus.Completed => "completed",
        GarbageCollectionStatus.BudgetExhausted => "budget_exhausted",
        GarbageCollectionStatus.Cancelled => "cancelled",
        GarbageCollectionStatus.Failed => "failed",
        GarbageCollectionStatus.Interrupted => "interrupted",
        _ => "unknown",
    };
}

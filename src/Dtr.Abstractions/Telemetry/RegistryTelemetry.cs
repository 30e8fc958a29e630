using System.Diagnostics;

namespace Dtr.Telemetry;

/// <summary>
/// The names under which the registry publishes its metrics and traces. With OpenTelemetry, a host subscribes with
/// <c>.WithMetrics(metrics =&gt; metrics.AddMeter(RegistryTelemetry.MeterName))</c> and
/// <c>.WithTracing(tracing =&gt; tracing.AddSource(RegistryTelemetry.ActivitySourceName))</c>.
/// </summary>
public static class RegistryTelemetry
{
    /// <summary>The name of the <see cref="System.Diagnostics.Metrics.Meter"/> that every registry instrument belongs to.</summary>
    public const string MeterName = "Dtr.Registry";

    /// <summary>The name of the <see cref="System.Diagnostics.ActivitySource"/> of the blob and metadata store spans.</summary>
    public const string ActivitySourceName = "Dtr.Registry";

    /// <summary>The source of the store spans. It creates no activity unless a listener is attached.</summary>
    internal static ActivitySource ActivitySource { get; } = new(ActivitySourceName);
}

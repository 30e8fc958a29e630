using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dtr.AspNetCore.Health;

/// <summary>
/// Readiness check of the blob store: runs its <see cref="IBlobStoreHealthProbe"/>, or its
/// <see cref="IBlobStoreStartupCheck"/> when it has no probe. A store with neither passes.
/// </summary>
internal sealed class BlobStoreHealthCheck : IHealthCheck
{
    private readonly IBlobStore _blobs;

    public BlobStoreHealthCheck(IBlobStore blobs) => _blobs = blobs;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var kind = RegistryHealthChecks.DescribeKind(_blobs);
        try
        {
            switch (ITracingDecorator.Unwrap(_blobs))
            {
                case IBlobStoreHealthProbe probe:
                    await probe.ProbeAsync(cancellationToken);
                    return HealthCheckResult.Healthy($"The {kind} blob store accepted a write.");
                case IBlobStoreStartupCheck check:
                    await check.CheckAsync(cancellationToken);
                    return HealthCheckResult.Healthy($"The {kind} blob store answered a listing request.");
                default:
                    return HealthCheckResult.Healthy($"The {kind} blob store has no check, so it is assumed ready.");
            }
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            // The response is anonymous, so it gets a fixed text. The readiness endpoint logs the exception when the result changes.
            return HealthCheckResult.Unhealthy($"The {kind} blob store failed its check ({error.GetType().Name}). The host's log has the error.", error);
        }
    }
}

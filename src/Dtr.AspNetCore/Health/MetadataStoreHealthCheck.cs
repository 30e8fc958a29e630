using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dtr.AspNetCore.Health;

/// <summary>
/// Readiness check of the metadata store: lists at most one repository, which reads the database through the
/// store's own connection handling and resilience pipeline.
/// </summary>
internal sealed class MetadataStoreHealthCheck : IHealthCheck
{
    private readonly IMetadataStore _metadata;

    public MetadataStoreHealthCheck(IMetadataStore metadata) => _metadata = metadata;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var kind = RegistryHealthChecks.DescribeKind(_metadata);
        try
        {
            await _metadata.ListRepositoriesAsync(last: null, limit: 1, cancellationToken);
            return HealthCheckResult.Healthy($"The {kind} metadata store answered a query.");
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            // The response is anonymous, so it gets a fixed text. The readiness endpoint logs the exception when the result changes.
            return HealthCheckResult.Unhealthy($"The {kind} metadata store failed a query ({error.GetType().Name}). The host's log has the error.", error);
        }
    }
}

using Dtr.AspNetCore.Health;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Maps the liveness and readiness endpoints that load balancers and orchestrators poll.
/// </summary>
public static class RegistryHealthCheckEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps two anonymous GET and HEAD endpoints. <paramref name="livePath"/> runs no checks and returns 200 with the
    /// text <c>Healthy</c> while the process serves requests. <paramref name="readyPath"/> runs the checks tagged
    /// <c>ready</c>, which <c>AddDockerRegistry</c> adds for the metadata store and the blob store, and returns 200
    /// when all pass and 503 when one fails, with a JSON report of each check.
    /// </summary>
    /// <returns>A builder that applies conventions, such as <c>RequireHost</c>, to both endpoints.</returns>
    public static IEndpointConventionBuilder MapRegistryHealthChecks(
        this IEndpointRouteBuilder endpoints,
        string livePath = "/healthz/live",
        string readyPath = "/healthz/ready")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentException.ThrowIfNullOrWhiteSpace(livePath);
        ArgumentException.ThrowIfNullOrWhiteSpace(readyPath);
        if (string.Equals(livePath, readyPath, StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException($"The liveness and readiness paths must differ, but both are '{livePath}'.", nameof(readyPath));
        }

        var group = endpoints.MapGroup(string.Empty);
        group.MapHealthChecks(livePath, new HealthCheckOptions { Predicate = _ => false })
            .WithDisplayName("Registry liveness");
        group.MapHealthChecks(readyPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(RegistryHealthChecks.ReadyTag),
            ResponseWriter = RegistryHealthChecks.WriteReportAsync,
        }).WithDisplayName("Registry readiness");

        group.WithMetadata(new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]));
        group.AllowAnonymous();
        return group;
    }
}

using Dtr.AspNetCore.Endpoints;
using Dtr.AspNetCore.Management;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Microsoft.AspNetCore.Builder;

/// <summary>
/// Maps the OCI distribution API (<c>/v2/…</c>) into an application's endpoints.
/// </summary>
public static class RegistryEndpointRouteBuilderExtensions
{
    /// <summary>
    /// Maps every <c>/v2/…</c> endpoint of the OCI distribution specification v1.1, the token endpoint
    /// <c>/auth/token</c>, and the management API under
    /// <see cref="Dtr.AspNetCore.Configuration.RegistryOptions.ManagementApiPrefix"/>. The returned builder applies
    /// conventions (host filters, rate limiting, authorization) to the <c>/v2</c> endpoints only.
    /// </summary>
    public static IEndpointConventionBuilder MapRegistry(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var handler = endpoints.ServiceProvider.GetRequiredService<RegistryRequestHandler>();
        var group = endpoints.MapGroup("/v2");

        // One catch-all route: repository names contain slashes, so the handler splits the path itself.
        group.Map("/{**path}", context => handler.HandleAsync(context, RemainingPath(context)))
            .WithDisplayName("OCI distribution API");
        group.Map("", context => handler.HandleAsync(context, ""))
            .WithDisplayName("OCI distribution API version check");
        TokenEndpoints.Map(endpoints);
        endpoints.MapRegistryManagement();
        return group;
    }

    private static string RemainingPath(HttpContext context)
    {
        // The raw path keeps an encoded '/' (%2F) encoded, so it cannot change how the path splits.
        var path = context.Request.Path.Value ?? "";
        var prefix = "/v2";
        return path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : path;
    }
}

using Dtr.AspNetCore.Configuration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.OpenApi;

namespace Dtr.AspNetCore.Management;

/// <summary>Maps the management REST API under <see cref="RegistryOptions.ManagementApiPrefix"/>.</summary>
internal static class ManagementEndpoints
{
    /// <summary>The name of the OpenAPI document that describes the management API.</summary>
    public const string OpenApiDocumentName = "dtr-management";

    /// <summary>The media type of request bodies.</summary>
    public const string JsonContentType = "application/json";

    /// <summary>
    /// Listed beside <see cref="JsonContentType"/> in each endpoint's accepted types, so routing lets any body reach
    /// the handler, which rejects a non-JSON one with a problem details 415 instead of routing's empty 415. The
    /// OpenAPI document drops it again.
    /// </summary>
    public const string AnyContentType = "*/*";

    /// <summary>
    /// Returns the configured prefix. Routes are mapped before the host starts, so invalid options must not throw
    /// here: the default prefix is used, and the host then fails at start with the full list of problems.
    /// </summary>
    private static string ReadPrefix(IServiceProvider services)
    {
        try
        {
            return services.GetRequiredService<IOptions<RegistryOptions>>().Value.ManagementApiPrefix;
        }
        catch (OptionsValidationException)
        {
            return new RegistryOptions().ManagementApiPrefix;
        }
    }

    /// <summary>Maps every management endpoint and <c>&lt;prefix&gt;/openapi.json</c>.</summary>
    public static void MapRegistryManagement(this IEndpointRouteBuilder endpoints)
    {
        var prefix = NormalizePrefix(ReadPrefix(endpoints.ServiceProvider));

        var group = endpoints.MapGroup(prefix)
            .WithGroupName(OpenApiDocumentName)
            // The filter is a container singleton. AddEndpointFilter<TFilter>() would build an activation factory
            // with System.Linq.Expressions when the routes are mapped, which loads and JIT-compiles that library.
            .AddEndpointFilter((invocation, next) => invocation.HttpContext.RequestServices
                .GetRequiredService<ManagementRequestFilter>().InvokeAsync(invocation, next))
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        UserEndpoints.Map(group);
        OrganizationEndpoints.Map(group);
        Scanning.ScanningEndpoints.Map(group);
        ImageEndpoints.Map(group);
        RepositoryEndpoints.Map(group);
        GarbageCollection.GarbageCollectionEndpoints.Map(group);
        Settings.SettingsEndpoints.Map(group);
        Tls.CertificateEndpoints.Map(group);
        Tls.ClientBundleEndpoints.Map(group);
        AuditEndpoints.Map(group);
        WebhookEndpoints.Map(group);

        // Signing in is what a caller without credentials does, so the session endpoints authenticate themselves.
        SessionEndpoints.Map(endpoints.MapGroup(prefix).WithGroupName(OpenApiDocumentName));

        // The description of the API is public, so this endpoint sits outside the authenticated group.
        endpoints.MapGet(prefix + "/openapi.json", WriteOpenApiDocumentAsync)
            .WithName("GetManagementOpenApiDocument")
            .ExcludeFromDescription();
    }

    /// <summary>Returns the configured prefix with one leading '/' and no trailing '/'.</summary>
    public static string NormalizePrefix(string? prefix)
    {
        var trimmed = (prefix ?? "").Trim().Trim('/');
        return "/" + trimmed;
    }

    /// <summary>Returns the prefix of the management API, for building <c>Location</c> headers.</summary>
    public static string Prefix(HttpContext context) =>
        NormalizePrefix(context.RequestServices.GetRequiredService<IOptions<RegistryOptions>>().Value.ManagementApiPrefix);

    private static async Task WriteOpenApiDocumentAsync(HttpContext context)
    {
        var provider = context.RequestServices.GetRequiredKeyedService<IOpenApiDocumentProvider>(OpenApiDocumentName);
        var document = await provider.GetOpenApiDocumentAsync(context.RequestAborted);

        using var text = new StringWriter(System.Globalization.CultureInfo.InvariantCulture);
        document.SerializeAsV31(new OpenApiJsonWriter(text));
        context.Response.ContentType = "application/json;charset=utf-8";
        await context.Response.WriteAsync(text.ToString(), context.RequestAborted);
    }
}

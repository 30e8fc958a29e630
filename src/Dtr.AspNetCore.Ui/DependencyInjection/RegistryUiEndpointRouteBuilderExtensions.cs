using Dtr.AspNetCore.Ui;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Microsoft.AspNetCore.Builder;

/// <summary>Maps the registry's web interface into an application's endpoints.</summary>
public static class RegistryUiEndpointRouteBuilderExtensions
{
    private static readonly string[] ReadMethods = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>
    /// Serves the web interface under <see cref="RegistryUiOptions.Path"/> (default <c>/ui</c>). The interface is a
    /// set of static pages embedded in this package that call the management API mapped by <c>MapRegistry()</c>, so
    /// the host must map that too. The returned builder applies conventions to the interface's endpoints.
    /// </summary>
    /// <param name="configure">Changes the defaults of <see cref="RegistryUiOptions"/>, for example to bind them from configuration.</param>
    /// <exception cref="ArgumentException">The path does not start with '/' or contains a query, fragment or "..".</exception>
    public static IEndpointConventionBuilder MapRegistryUi(this IEndpointRouteBuilder endpoints, Action<RegistryUiOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(endpoints);

        var options = new RegistryUiOptions();
        configure?.Invoke(options);
        var path = RegistryUiPath.Normalize(options.Path);
        var handler = new RegistryUiHandler(options, path);

        var group = endpoints.MapGroup(path).ExcludeFromDescription();
        group.MapMethods("/assets/{**file}", ReadMethods, (HttpContext context, string? file) => handler.ServeAssetAsync(context, file));
        if (options.SingleSignOnScheme is not null)
        {
            group.MapGet("/sso", handler.SingleSignOnAsync);
        }

        group.MapMethods("", ReadMethods, handler.ServeBaseAsync);
        group.MapMethods("/{**route}", ReadMethods, handler.ServeShellAsync);
        return group;
    }
}

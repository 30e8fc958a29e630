using System.Text;
using System.Text.Encodings.Web;
using Dtr.AspNetCore.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Ui;

/// <summary>Serves the interface's shell page and embedded assets, with the security headers of every response.</summary>
internal sealed class RegistryUiHandler
{
    private const string ShellTemplate = "index.html";

    // The pages load scripts, styles and images from this origin only and call only this origin's API. The shell has
    // no inline script or style, so no 'unsafe-inline' is needed.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    private readonly RegistryUiOptions _options;
    private readonly string _path;

    public RegistryUiHandler(RegistryUiOptions options, string path)
    {
        _options = options;
        _path = path;
    }

    /// <summary>The value of the shell's <c>&lt;base href&gt;</c>: the interface's path with a trailing '/'.</summary>
    public string BaseHref => _path == "/" ? "/" : _path + "/";

    /// <summary>Writes an embedded asset, or 404 when there is none at that path. A matching If-None-Match gets 304.</summary>
    public Task ServeAssetAsync(HttpContext context, string file)
    {
        // The shell is a template, served only with its values filled in.
        if (file == ShellTemplate || UiAssets.Instance.Find(file) is not { } asset)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        AddSecurityHeaders(context.Response);
        var headers = context.Response.GetTypedHeaders();
        headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.Headers.IfNoneMatch.Any(value => value is not null && value.Contains(asset.ETag, StringComparison.Ordinal)))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }

        context.Response.ContentType = asset.ContentType;
        context.Response.ContentLength = asset.Content.Length;
        return context.Response.Body.WriteAsync(asset.Content, context.RequestAborted).AsTask();
    }

    /// <summary>
    /// Redirects the path without its trailing '/' to the path with it, because the pages' relative links resolve
    /// against that base.
    /// </summary>
    public void RedirectToBase(HttpContext context) =>
        context.Response.Redirect(context.Request.PathBase + BaseHref + context.Request.QueryString);

    /// <summary>Writes the shell page, which loads the application script that renders the route in the browser.</summary>
    public async Task ServeShellAsync(HttpContext context)
    {
        var html = RenderShell(context);
        AddSecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html, context.RequestAborted);
    }

    private string RenderShell(HttpContext context)
    {
        var template = Encoding.UTF8.GetString(UiAssets.Instance.Find(ShellTemplate)!.Content);
        var registry = context.RequestServices.GetRequiredService<IOptions<RegistryOptions>>().Value;
        var encoder = HtmlEncoder.Default;
        return template
            .Replace("{{base}}", encoder.Encode(BaseHref), StringComparison.Ordinal)
            .Replace("{{api}}", encoder.Encode(NormalizeApiPrefix(registry.ManagementApiPrefix)), StringComparison.Ordinal)
            .Replace("{{product}}", encoder.Encode(_options.ProductName), StringComparison.Ordinal)
            .Replace("{{sso}}", _options.SingleSignOnScheme is null ? "" : encoder.Encode(_options.SingleSignOnDisplayName), StringComparison.Ordinal);
    }

    private static string NormalizeApiPrefix(string? prefix) => "/" + (prefix ?? "").Trim().Trim('/');

    private static void AddSecurityHeaders(HttpResponse response)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers["Referrer-Policy"] = "same-origin";
    }
}

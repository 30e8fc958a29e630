using System.Text;
using System.Text.RegularExpressions;
using System.Text.Encodings.Web;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Settings;
using Dtr.Identity;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Ui;

/// <summary>Serves the interface's shell page and embedded assets, with the security headers of every response.</summary>
internal sealed partial class RegistryUiHandler
{
    private const string ShellTemplate = "index.html";

    // The pages load scripts, styles and images from this origin only and call only this origin's API. The shell has
    // no inline script or style, so no 'unsafe-inline' is needed.
    private const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    // The first path segments of the pages for system administrators. Their shell is served with status 403 to a
    // signed-in user who is not one, so the refusal does not depend on the script.
    private static readonly string[] AdministratorRoutes = ["users", "settings"];

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
    public Task ServeAssetAsync(HttpContext context, string? file)
    {
        file ??= "";
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
    /// <remarks>Routing matches the base path's route with and without the trailing '/', so this serves the shell for the latter.</remarks>
    public Task ServeBaseAsync(HttpContext context)
    {
        if (context.Request.Path.Value?.EndsWith('/') == true)
        {
            return ServeShellAsync(context);
        }

        context.Response.Redirect(context.Request.PathBase + BaseHref + context.Request.QueryString);
        return Task.CompletedTask;
    }

    /// <summary>Writes the shell page, which loads the application script that renders the route in the browser.</summary>
    public async Task ServeShellAsync(HttpContext context)
    {
        if (IsAdministratorRoute(context.Request.RouteValues["route"] as string))
        {
            var caller = await context.RequestServices.GetRequiredService<RegistrySessions>().TryReadSessionAsync(context);
            if (caller is { IsAuthenticated: true, IsAdmin: false })
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
            }
        }

        var html = RenderShell(context);
        AddSecurityHeaders(context.Response);
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentType = "text/html; charset=utf-8";
        await context.Response.WriteAsync(html, context.RequestAborted);
    }

    /// <summary>
    /// Signs in through the host's single sign-on scheme: challenges it when the request is not signed in there, then
    /// maps its principal to a registry user with the host's <c>IRegistryUserMapper</c>, starts a session and returns
    /// to the requested page. A principal that maps to no active user goes back to the sign-in page with a message.
    /// </summary>
    public async Task SingleSignOnAsync(HttpContext context)
    {
        var scheme = _options.SingleSignOnScheme!;
        var returnUrl = SafeReturnUrl(context.Request.Query["returnUrl"]);
        var result = await context.AuthenticateAsync(scheme);
        if (result.Principal?.Identity?.IsAuthenticated != true)
        {
            var properties = new AuthenticationProperties
            {
                RedirectUri = context.Request.PathBase + BaseHref + "sso?returnUrl=" + Uri.EscapeDataString(returnUrl),
            };
            await context.ChallengeAsync(scheme, properties);
            return;
        }

        context.User = result.Principal;
        var authenticator = context.RequestServices.GetRequiredService<RegistryAuthenticator>();
        var outcome = await authenticator.AuthenticateHostUserAsync(context, context.RequestAborted);
        var identity = context.RequestServices.GetRequiredService<IIdentityStore>();
        var user = outcome.Caller is { IsAuthenticated: true } caller
            ? await identity.GetUserAsync(caller.UserName!, context.RequestAborted)
            : null;
        if (user is null || outcome.TokenSubject is null)
        {
            const string message = "Single sign-on succeeded, but your account is not linked to an active registry user. Ask an administrator to create or activate your user.";
            context.Response.Redirect(context.Request.PathBase + BaseHref + "signin?error=" + Uri.EscapeDataString(message));
            return;
        }

        await context.RequestServices.GetRequiredService<RegistrySessions>().SignInAsync(context, user, outcome.TokenSubject);
        context.Response.Redirect(context.Request.PathBase + BaseHref + returnUrl);
    }

    /// <summary>
    /// Returns a page path relative to the interface's base, or "repositories" for anything that could lead to another
    /// site or outside the interface.
    /// </summary>
    internal static string SafeReturnUrl(string? returnUrl)
    {
        // Digests in image pages contain ':', so only a leading scheme ("https:", "javascript:") is rejected.
        var value = returnUrl ?? "";
        var isRelativePage = value.Length > 0 && char.IsAsciiLetterOrDigit(value[0])
            && !value.Contains("//", StringComparison.Ordinal) && !value.Contains('\\', StringComparison.Ordinal)
            && !value.Contains("..", StringComparison.Ordinal) && !value.Any(char.IsControl)
            && !LeadingScheme().IsMatch(value);
        return isRelativePage ? value : "repositories";
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9+.-]*:")]
    private static partial Regex LeadingScheme();

    private static bool IsAdministratorRoute(string? route)
    {
        var first = (route ?? "").Trim('/').Split('/', 2)[0];
        return AdministratorRoutes.Contains(first, StringComparer.Ordinal);
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
            .Replace("{{registryHost}}", encoder.Encode(RegistryHost(context)), StringComparison.Ordinal)
            .Replace("{{sso}}", _options.SingleSignOnScheme is null ? "" : encoder.Encode(_options.SingleSignOnDisplayName), StringComparison.Ordinal);
    }

    /// <summary>
    /// Returns the host and port of the registry's public address for pull commands, or "" when none is set and the
    /// page's own host applies.
    /// </summary>
    private static string RegistryHost(HttpContext context)
    {
        var publicBase = context.RequestServices.GetRequiredService<RegistrySettings>().Current.PublicBase;
        return publicBase is not null && Uri.TryCreate(publicBase, UriKind.Absolute, out var address) ? address.Authority : "";
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

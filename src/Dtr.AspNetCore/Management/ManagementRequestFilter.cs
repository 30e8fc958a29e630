using System.Globalization;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Tls;
using Dtr.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Polly;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Runs before every management endpoint: authenticates the caller, then turns the failures that handlers throw
/// into problem details responses.
/// </summary>
internal sealed class ManagementRequestFilter : IEndpointFilter
{
    /// <summary>The <c>WWW-Authenticate</c> challenge of a 401: HTTP basic with a password or an access token.</summary>
    public const string BasicChallenge = "Basic realm=\"Dtr\"";

    /// <summary>The message of the 403 for a bearer token without the <c>registry:management:*</c> scope.</summary>
    public const string MissingManagementScopeMessage =
        "The bearer token does not grant access to the management API. Request a token with scope 'registry:management:*' from /auth/token, or use HTTP basic authentication with a password or a personal access token.";

    /// <summary>The message of the 403 for a change that a browser sent from another site's page.</summary>
    public const string CrossSiteMessage =
        "The management API rejects changes that a browser sends from another site's page (Sec-Fetch-Site cross-site or same-site, or an Origin of another host). Send the request from the registry's own pages or from a client that is not a browser.";

    private static readonly object CallerKey = new();

    private static readonly object CredentialKey = new();

    private static readonly object SessionCredentialKey = new();

    private static readonly object AuditRepositoryKey = new();

    private readonly RegistryOptions _options;
    private readonly ILogger<ManagementRequestFilter> _logger;

    public ManagementRequestFilter(IOptions<RegistryOptions> options, ILogger<ManagementRequestFilter> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Returns the caller that this filter authenticated for the request.</summary>
    public static RegistryCaller GetCaller(HttpContext context) =>
        context.Items[CallerKey] as RegistryCaller
        ?? throw new InvalidOperationException("The management request filter did not run before this handler.");

    /// <summary>
    /// Returns how the caller authenticated. It is <see cref="CredentialKind.None"/> when authentication is off and
    /// every caller is an anonymous administrator.
    /// </summary>
    public static CredentialKind GetCredential(HttpContext context) =>
        context.Items[CredentialKey] as CredentialKind?
        ?? throw new InvalidOperationException("The management request filter did not run before this handler.");

    /// <summary>
    /// Returns how the user signed in to start the browser session of this request, or <see cref="CredentialKind.None"/>
    /// when the request did not authenticate with a session.
    /// </summary>
    public static CredentialKind GetSessionCredential(HttpContext context) =>
        context.Items[SessionCredentialKey] as CredentialKind? ?? CredentialKind.None;

    /// <summary>
    /// Sets the repository that the audit entry of this request names, for a route whose path does not contain the
    /// repository name, such as the creation of a repository, whose name is in the request body.
    /// </summary>
    public static void SetAuditRepository(HttpContext context, string repository) =>
        context.Items[AuditRepositoryKey] = repository;

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        var (caller, credential, rejection) = await AuthenticateAsync(context);
        // A rejected client certificate is recorded for reads too. The failed sign-in limit counts wrong passwords
        // but not certificates, so without this entry a rejected certificate would show only in the server log.
        var isChange = !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && !HttpMethods.IsOptions(context.Request.Method);
        if (isChange || ClientCertificateRejection.Get(context) is not null)
        {
            RecordChangeWhenCompleted(context, caller?.UserName);
        }

        if (rejection is not null || caller is null)
        {
            return rejection;
        }

        context.Items[CallerKey] = caller;
        context.Items[CredentialKey] = credential;
        try
        {
            return await next(invocation);
        }
        catch (ManagementProblem problem)
        {
            ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, problem.Status, problem.Message);
            return problem.ToResult();
        }
        catch (IdentityConflictException conflict)
        {
            ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, StatusCodes.Status409Conflict, conflict.Message);
            return ManagementProblem.Conflict(conflict.Message).ToResult();
        }
        catch (IdentityNotFoundException notFound)
        {
            ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, StatusCodes.Status404NotFound, notFound.Message);
            return ManagementProblem.NotFound(notFound.Message).ToResult();
        }
        catch (ExecutionRejectedException unavailable)
        {
            // A store's resilience pipeline gave up, so the failure is temporary.
            ManagementLog.StoreUnavailable(_logger, context.Request.Method, context.Request.Path, unavailable);
            return ManagementProblem.Unavailable("The registry's storage is not responding; retry the request in a few seconds.").ToResult();
        }
    }

    /// <summary>
    /// Records the change in the audit log once the response is sent, with its final status. The action is the method
    /// and route pattern, and the detail is the request path, followed by the reason and certificate when a client
    /// certificate was rejected. Request bodies and headers are never recorded.
    /// </summary>
    private static void RecordChangeWhenCompleted(HttpContext context, string? actor)
    {
        var audit = context.RequestServices.GetService<Audit.AuditLog>();
        if (audit is null)
        {
            return;
        }

        var pattern = (context.GetEndpoint() as Microsoft.AspNetCore.Routing.RouteEndpoint)?.RoutePattern.RawText ?? context.Request.Path.Value ?? "";
        // A collection route mapped as "" in its group ends in a slash that clients do not send.
        if (pattern.Length > 1)
        {
            pattern = pattern.TrimEnd('/');
        }

        var values = context.Request.RouteValues;
        // NOTE: for routes that end in {**repo}, the value also contains the sub-resource after the repository name.
        var repository = values.TryGetValue("namespace", out var owner) && values.TryGetValue("repo", out var repo)
            ? $"{owner}/{repo}"
            : null;
        var action = $"{context.Request.Method} {pattern}";
        var path = context.Request.Path.Value;
        context.Response.OnCompleted(() =>
        {
            var named = context.Items[AuditRepositoryKey] as string ?? repository;
            var detail = path;
            var recordedActor = actor;
            if (ClientCertificateRejection.Get(context) is { } rejection)
            {
                recordedActor ??= rejection.UserName;
                detail = $"{path}: {rejection.Detail}";
            }

            audit.Record(context, recordedActor, named, action, context.Response.StatusCode, detail);
            return Task.CompletedTask;
        });
    }

    /// <summary>
    /// Returns the signed-in caller and how they authenticated, or the 401, 403 or 429 response. A 403 for a known
    /// user (a token without the management scope, a cross-site change with a session cookie, a missing antiforgery
    /// token) comes with that user as the caller, so that the audit log names them. With
    /// authentication turned off (<c>Registry:Auth:Enabled=false</c>) every caller is an anonymous administrator,
    /// as on the <c>/v2</c> API. A request without an <c>Authorization</c> header but with the session cookie is
    /// authenticated by its browser session.
    /// </summary>
    private async ValueTask<(RegistryCaller? Caller, CredentialKind Credential, IResult? Rejection)> AuthenticateAsync(HttpContext context)
    {
        if (IsCrossSiteChange(context))
        {
            ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, StatusCodes.Status403Forbidden, CrossSiteMessage);
            return (await ReadCrossSiteActorAsync(context), CredentialKind.None, ManagementProblem.Forbidden(CrossSiteMessage).ToResult());
        }

        if (!_options.Auth.Enabled)
        {
            return (new RegistryCaller(null, IsAdmin: true), CredentialKind.None, null);
        }

        if (StringValues.IsNullOrEmpty(context.Request.Headers.Authorization) && context.Request.Cookies.ContainsKey(RegistrySessions.CookieName))
        {
            return await AuthenticateSessionAsync(context);
        }

        var authenticator = context.RequestServices.GetRequiredService<IRegistryAuthenticator>();
        var outcome = await authenticator.AuthenticateAsync(context, allowBasic: true, context.RequestAborted);
        if (outcome.Caller is { IsAuthenticated: true } caller)
        {
            // A bearer token is scoped, so one issued for pulling and pushing must not also manage users and tokens.
            var credential = outcome.Credential;
            if ((credential == CredentialKind.Bearer || outcome.TokenAccess is not null) && !TokenScope.GrantsManagement(outcome.TokenAccess))
            {
                ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, StatusCodes.Status403Forbidden, MissingManagementScopeMessage);
                return (caller, credential, ManagementProblem.Forbidden(MissingManagementScopeMessage).ToResult());
            }

            return (caller, credential, null);
        }

        if (outcome.RetryAfter is { } retryAfter)
        {
            return (null, CredentialKind.None, TooManySignIns(context, retryAfter, outcome.FailureMessage));
        }

        var detail = outcome.FailureMessage
            ?? "The management API requires authentication. Send HTTP basic credentials (a password or a personal access token) or a bearer token from /auth/token with scope 'registry:management:*'.";
        // A browser shows its own sign-in dialog for a basic challenge, and then sends the typed credentials with every
        // request, also with requests that other sites' pages make. Scripts of the web interface mark their requests,
        // so they get the 401 without the challenge and show their sign-in page instead.
        if (!IsScriptRequest(context.Request))
        {
            context.Response.Headers.WWWAuthenticate = BasicChallenge;
        }

        return (null, CredentialKind.None, TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized));
    }

    /// <summary>
    /// Returns whether a browser sent this change from another site's page. Browsers attach basic credentials and
    /// cookies to such requests on their own, so they are rejected whatever the credential. The <c>Sec-Fetch-Site</c>
    /// request header decides when present. Browsers leave it out of plain HTTP requests to names other than loopback,
    /// so then an <c>Origin</c> header whose host is neither the request's host nor the public address's decides.
    /// Clients that are not browsers send neither header.
    /// </summary>
    /// <remarks>
    /// NOTE: ports are compared only when the request's <c>Host</c> header has one, because a proxy that ends TLS may
    /// forward the browser's https origin to a plain HTTP listener.
    /// </remarks>
    internal static bool IsCrossSiteChange(HttpContext context)
    {
        var request = context.Request;
        if (!RegistrySessions.RequiresCsrfToken(request.Method))
        {
            return false;
        }

        var site = request.Headers["Sec-Fetch-Site"].ToString();
        if (site.Length > 0)
        {
            return site.Equals("cross-site", StringComparison.OrdinalIgnoreCase) || site.Equals("same-site", StringComparison.OrdinalIgnoreCase);
        }

        var origin = request.Headers.Origin.ToString();
        if (origin.Length == 0)
        {
            return false;
        }

        // "null" is the origin of sandboxed frames and of redirects across origins.
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var originUri))
        {
            return true;
        }

        if (IsSameHost(originUri, request.Host.Host, request.Host.Port))
        {
            return false;
        }

        var publicBase = context.RequestServices.GetService<Settings.RegistrySettings>()?.Current.PublicBase;
        return publicBase is null
            || !Uri.TryCreate(publicBase, UriKind.Absolute, out var publicUri)
            || !IsSameHost(originUri, publicUri.Host, publicUri.Port);
    }

    /// <summary>
    /// Returns the user of a cross-site change's session cookie, for the audit log, or null. Only the cookie is read:
    /// checking an <c>Authorization</c> header here would count a wrong password as a failed sign-in for a request
    /// that is rejected anyway.
    /// </summary>
    private async ValueTask<RegistryCaller?> ReadCrossSiteActorAsync(HttpContext context)
    {
        if (!_options.Auth.Enabled || !StringValues.IsNullOrEmpty(context.Request.Headers.Authorization))
        {
            // NOTE: a cross-site change with basic credentials that the browser remembered is recorded without an actor.
            return null;
        }

        var sessions = context.RequestServices.GetRequiredService<RegistrySessions>();
        return (await sessions.ReadAsync(context, context.RequestAborted)).Caller;
    }

    private static bool IsSameHost(Uri origin, string host, int? port) =>
        string.Equals(origin.Host, host, StringComparison.OrdinalIgnoreCase) && (port is null || port == origin.Port);

    /// <summary>Returns whether the request comes from a script that handles a 401 itself (<c>X-Requested-With: XMLHttpRequest</c>).</summary>
    internal static bool IsScriptRequest(HttpRequest request) =>
        request.Headers.XRequestedWith.ToString().Equals("XMLHttpRequest", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Returns the 429 problem for a sign-in that the failed sign-in limit rejected, and sets <c>Retry-After</c>.
    /// </summary>
    internal static IResult TooManySignIns(HttpContext context, TimeSpan retryAfter, string? message)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(
            detail: message ?? $"Too many failed sign-ins. Try again in {seconds} seconds.",
            statusCode: StatusCodes.Status429TooManyRequests,
            title: "Too Many Requests",
            type: "https://tools.ietf.org/html/rfc6585#section-4");
    }

    /// <summary>
    /// Authenticates a request by its session cookie. An invalid session gets a 401 without a basic challenge, so
    /// browsers show no sign-in dialog, and its cookie is deleted. An unsafe request must carry the session's
    /// antiforgery token in <c>X-CSRF-Token</c>, or it gets a 403.
    /// </summary>
    private async ValueTask<(RegistryCaller? Caller, CredentialKind Credential, IResult? Rejection)> AuthenticateSessionAsync(HttpContext context)
    {
        var sessions = context.RequestServices.GetRequiredService<RegistrySessions>();
        var session = await sessions.ReadAsync(context, context.RequestAborted);
        var request = context.Request;
        if (session.Caller is null)
        {
            sessions.ExpireCookie(context);
            ManagementLog.RequestRejected(_logger, request.Method, request.Path, StatusCodes.Status401Unauthorized, RegistrySessions.InvalidSessionMessage);
            return (null, CredentialKind.None, TypedResults.Problem(detail: RegistrySessions.InvalidSessionMessage, statusCode: StatusCodes.Status401Unauthorized));
        }

        if (RegistrySessions.RequiresCsrfToken(request.Method) && !sessions.VerifyCsrfToken(context, session))
        {
            return (session.Caller, CredentialKind.Session, ManagementProblem.Forbidden(RegistrySessions.InvalidCsrfTokenMessage).ToResult());
        }

        context.Items[SessionCredentialKey] = session.SignInCredential;
        return (session.Caller, CredentialKind.Session, null);
    }
}

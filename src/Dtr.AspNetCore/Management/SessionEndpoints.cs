using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Sign-in, session status and sign-out of browser sessions: <c>{prefix}/session</c>. These endpoints sit outside
/// <see cref="ManagementRequestFilter"/>, because signing in is what a caller without credentials does.
/// <see cref="RegistrySessions"/> describes the cookie and its antiforgery token.
/// </summary>
internal sealed class SessionEndpoints
{
    private readonly RegistrySessions _sessions;
    private readonly IServiceProvider _services;
    private readonly RegistryOptions _options;
    private readonly ILogger<SessionEndpoints> _logger;

    public SessionEndpoints(RegistrySessions sessions, IServiceProvider services, IOptions<RegistryOptions> options, ILogger<SessionEndpoints> logger)
    {
        _sessions = sessions;
        _services = services;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Maps the session endpoints on a group under the management prefix that does not authenticate.</summary>
    public static void Map(IEndpointRouteBuilder group)
    {
        var session = group.MapGroup("/session").WithTags("Session");

        session.MapPost("", ([FromServices] SessionEndpoints e, HttpContext c) => e.SignInAsync(c))
            .WithName("SignIn").WithSummary("Sign in with a user name and a password or personal access token; sets the session cookie")
            .Accepts<SignInRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<SessionResponse>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);

        session.MapGet("", ([FromServices] SessionEndpoints e, HttpContext c) => e.GetAsync(c))
            .WithName("GetSession").WithSummary("Get the signed-in user and the antiforgery token of the session cookie")
            .Produces<SessionResponse>()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

        session.MapDelete("", ([FromServices] SessionEndpoints e, HttpContext c) => e.SignOutAsync(c))
            .WithName("SignOut").WithSummary("Sign out: delete the session cookie (needs the X-CSRF-Token header while signed in)")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    private Task<IResult> SignInAsync(HttpContext context) => RunAsync(context, async () =>
    {
        if (!_options.Auth.Enabled)
        {
            throw ManagementProblem.NotFound("Sign-in is not available because authentication is off on this registry (Registry:Auth:Enabled is false), so every caller is an administrator.");
        }

        var request = await ManagementInput.ReadBodyAsync<SignInRequest>(context);
        var userName = RequireField(request.UserName, "userName");
        var password = RequireField(request.Password, "password");

        var authenticator = _services.GetRequiredService<RegistryAuthenticator>();
        var outcome = await authenticator.VerifyCredentialsAsync(userName, password, RegistryAuthenticator.ClientAddress(context), context.RequestAborted);
        if (outcome.RetryAfter is { } retryAfter)
        {
            return ManagementRequestFilter.TooManySignIns(context, retryAfter, outcome.FailureMessage);
        }

        // The account is read again for the session, and may have been deleted or deactivated in between.
        var subject = outcome.TokenSubject;
        var user = subject is null ? null : await _services.GetRequiredService<IIdentityStore>().GetUserAsync(subject.UserName, context.RequestAborted);
        if (user is not { IsActive: true } || subject is null)
        {
            return Unauthorized(context, outcome.FailureMessage ?? RegistryAuthenticator.InvalidCredentialsMessage);
        }

        return TypedResults.Ok(await _sessions.SignInAsync(context, user, subject));
    });

    private Task<IResult> GetAsync(HttpContext context) => RunAsync(context, async () =>
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!_options.Auth.Enabled)
        {
            return TypedResults.Ok(new SessionResponse(null, IsAdmin: true, AuthenticationEnabled: false, null, null));
        }

        var session = await _sessions.ReadAsync(context, context.RequestAborted);
        if (session.Caller is not null)
        {
            return TypedResults.Ok(RegistrySessions.Describe(session));
        }

        if (!session.CookiePresent)
        {
            return Unauthorized(context, $"You are not signed in; sign in with POST {ManagementEndpoints.Prefix(context)}/session.");
        }

        _sessions.ExpireCookie(context);
        return Unauthorized(context, RegistrySessions.InvalidSessionMessage);
    });

    private Task<IResult> SignOutAsync(HttpContext context) => RunAsync(context, async () =>
    {
        if (!_options.Auth.Enabled)
        {
            return TypedResults.NoContent();
        }

        var session = await _sessions.ReadAsync(context, context.RequestAborted);
        if (session.Caller is not null)
        {
            // Without this check, a page of another origin could sign the user out.
            if (!_sessions.VerifyCsrfToken(context, session))
            {
                throw ManagementProblem.Forbidden(RegistrySessions.InvalidCsrfTokenMessage);
            }

            _sessions.LogSignOut(context, session);
        }

        if (session.CookiePresent)
        {
            _sessions.ExpireCookie(context);
        }

        return TypedResults.NoContent();
    });

    /// <summary>
    /// Runs a handler and turns its <see cref="ManagementProblem"/> and storage failures into problem details, as
    /// <see cref="ManagementRequestFilter"/> does for the authenticated endpoints.
    /// </summary>
    private async Task<IResult> RunAsync(HttpContext context, Func<Task<IResult>> handler)
    {
        try
        {
            return await handler();
        }
        catch (ManagementProblem problem)
        {
            ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, problem.Status, problem.Message);
            return problem.ToResult();
        }
        catch (ExecutionRejectedException unavailable)
        {
            ManagementLog.StoreUnavailable(_logger, context.Request.Method, context.Request.Path, unavailable);
            return ManagementProblem.Unavailable("The registry's storage is not responding; retry the request in a few seconds.").ToResult();
        }
    }

    /// <summary>Returns a 401 problem without a <c>WWW-Authenticate</c> challenge, so browsers show no sign-in dialog.</summary>
    private IResult Unauthorized(HttpContext context, string detail)
    {
        ManagementLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, StatusCodes.Status401Unauthorized, detail);
        return TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status401Unauthorized);
    }

    private static string RequireField(string? value, string field) =>
        string.IsNullOrEmpty(value) ? throw ManagementProblem.Invalid(field, $"The {field} field is missing or empty.") : value;
}

/// <summary>The body of <c>POST {prefix}/session</c>.</summary>
/// <param name="UserName">The user name.</param>
/// <param name="Password">The user's password or one of the user's personal access tokens.</param>
internal sealed record SignInRequest(string? UserName, string? Password);

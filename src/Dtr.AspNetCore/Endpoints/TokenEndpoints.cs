using System.Globalization;
using System.Text.Json;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// The token endpoint of the Docker token authentication flow, <c>/auth/token</c>. <c>GET</c> takes optional basic
/// authentication and <c>service</c>, <c>scope</c> and <c>offline_token</c> parameters; <c>POST</c> takes an OAuth 2
/// form with <c>grant_type=password</c> or <c>grant_type=refresh_token</c>. Both grant the requested actions the
/// caller is allowed, and never fail for requesting more: a denied or unknown scope gets an empty action list.
/// </summary>
internal sealed class TokenEndpoints
{
    private readonly RegistryOptions _options;
    private readonly IServiceProvider _services;
    private readonly ILogger<TokenEndpoints> _logger;

    public TokenEndpoints(IOptions<RegistryOptions> options, IServiceProvider services, ILogger<TokenEndpoints> logger)
    {
        _options = options.Value;
        _services = services;
        _logger = logger;
    }

    /// <summary>Maps <c>GET</c> and <c>POST</c> <c>/auth/token</c>.</summary>
    public static IEndpointConventionBuilder Map(IEndpointRouteBuilder endpoints)
    {
        var handler = endpoints.ServiceProvider.GetRequiredService<TokenEndpoints>();
        return endpoints.MapMethods(RegistryAccessGate.TokenEndpointPath, [HttpMethods.Get, HttpMethods.Post], handler.HandleAsync)
            .WithDisplayName("Registry token endpoint");
    }

    /// <summary>Handles one token request.</summary>
    public async Task HandleAsync(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-store";
        if (!_options.Auth.Enabled)
        {
            await WriteErrorAsync(context, StatusCodes.Status404NotFound, "NOT_FOUND", "Token authentication is disabled on this registry (Registry:Auth:Enabled is false).");
            return;
        }

        var service = HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType
            ? (await context.Request.ReadFormAsync(context.RequestAborted))["service"].ToString()
            : context.Request.Query["service"].ToString();
        if (!string.IsNullOrEmpty(service) && !string.Equals(service, _options.Auth.Service, StringComparison.Ordinal))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_REQUEST", $"Unknown service '{service}'; this registry's service is '{_options.Auth.Service}'.");
            return;
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            await HandlePostAsync(context);
        }
        else
        {
            await HandleGetAsync(context);
        }
    }

    private async Task HandleGetAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        var authenticator = _services.GetRequiredService<RegistryAuthenticator>();
        AuthenticationOutcome outcome;
        if (RegistryAuthenticator.TryReadBasic(context.Request.Headers.Authorization.ToString(), out var credentials))
        {
            outcome = credentials is { } pair
                ? await authenticator.VerifyCredentialsAsync(pair.UserName, pair.Password, RegistryAuthenticator.ClientAddress(context), cancellationToken)
                : AuthenticationOutcome.Failure("The basic authorization header is malformed; send base64 of 'user:password'.");
        }
        else
        {
            outcome = await authenticator.AuthenticateHostUserAsync(context, cancellationToken);
        }

        if (!outcome.Succeeded)
        {
            await WriteAuthenticationFailureAsync(context, outcome);
            return;
        }

        var query = context.Request.Query;
        var offline = string.Equals(query["offline_token"], "true", StringComparison.OrdinalIgnoreCase);
        await WriteTokensAsync(context, outcome.Caller!, TokenScope.ParseAll(query["scope"]), offline, includeScope: false);
    }

    private async Task HandlePostAsync(HttpContext context)
    {
        var cancellationToken = context.RequestAborted;
        if (!context.Request.HasFormContentType)
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_REQUEST", "Send the token request as application/x-www-form-urlencoded.");
            return;
        }

        var form = await context.Request.ReadFormAsync(cancellationToken);
        var grantType = form["grant_type"].ToString();
        var scopes = TokenScope.ParseAll(form["scope"]);
        switch (grantType)
        {
            case "password":
                var userName = form["username"].ToString();
                var password = form["password"].ToString();
                if (string.IsNullOrEmpty(userName) || string.IsNullOrEmpty(password))
                {
                    await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_REQUEST", "The password grant needs the username and password fields.");
                    return;
                }

                var authenticator = _services.GetRequiredService<RegistryAuthenticator>();
                var outcome = await authenticator.VerifyCredentialsAsync(userName, password, RegistryAuthenticator.ClientAddress(context), cancellationToken);
                if (!outcome.Succeeded)
                {
                    await WriteAuthenticationFailureAsync(context, outcome);
                    return;
                }

                var offline = string.Equals(form["access_type"], "offline", StringComparison.Ordinal);
                await WriteTokensAsync(context, outcome.Caller!, scopes, offline, includeScope: true);
                return;

            case "refresh_token":
                var caller = await ValidateRefreshTokenAsync(context, form["refresh_token"].ToString(), cancellationToken);
                if (caller is not null)
                {
                    await WriteTokensAsync(context, caller, scopes, offline: false, includeScope: true);
                }

                return;

            default:
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "UNSUPPORTED_GRANT_TYPE", $"The grant type '{grantType}' is not supported; use password or refresh_token.");
                return;
        }
    }

    private async Task<RegistryCaller?> ValidateRefreshTokenAsync(HttpContext context, string refreshToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(refreshToken))
        {
            await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "INVALID_REQUEST", "The refresh_token grant needs the refresh_token field.");
            return null;
        }

        var validation = await _services.GetRequiredService<RegistryTokenService>().ValidateRefreshTokenAsync(refreshToken);
        if (!validation.IsValid)
        {
            SecurityLog.TokenRejected(_logger, RegistryAuthenticator.ClientAddress(context), "refresh token: " + validation.Error);
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHORIZED", $"The refresh token is invalid: {validation.Error}. Sign in again.");
            return null;
        }

        var user = await _services.GetRequiredService<IIdentityStore>().GetUserAsync(validation.Subject!, cancellationToken);
        if (user is not { IsActive: true })
        {
            SecurityLog.TokenRejected(_logger, RegistryAuthenticator.ClientAddress(context), $"refresh token of user {validation.Subject}, who does not exist or is inactive");
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHORIZED", "The refresh token's user does not exist or is inactive.");
            return null;
        }

        return new RegistryCaller(user.Name, user.IsAdmin);
    }

    private async Task WriteTokensAsync(HttpContext context, RegistryCaller caller, List<TokenScope> requested, bool offline, bool includeScope)
    {
        var granted = await GrantAsync(context, caller, requested);
        var tokens = _services.GetRequiredService<RegistryTokenService>();
        var access = tokens.IssueAccessToken(caller, granted);
        var refresh = offline && caller.UserName is { } userName ? tokens.IssueRefreshToken(userName) : null;
        SecurityLog.TokenIssued(_logger, caller.UserName ?? "anonymous", FormatScopes(granted), FormatScopes(requested));

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("token", access.Token);
            writer.WriteString("access_token", access.Token);
            writer.WriteNumber("expires_in", (long)access.Lifetime.TotalSeconds);
            writer.WriteString("issued_at", access.IssuedAt.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            if (includeScope)
            {
                writer.WriteString("scope", FormatScopes(granted.Where(scope => scope.Actions.Count > 0)));
            }

            if (refresh is not null)
            {
                writer.WriteString("refresh_token", refresh.Token);
            }

            writer.WriteEndObject();
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    /// <summary>
    /// Intersects each requested scope with what the caller may do. Scopes of the same resource are merged; scopes of
    /// unknown types and invalid repository names get no actions.
    /// </summary>
    private async Task<List<TokenScope>> GrantAsync(HttpContext context, RegistryCaller caller, List<TokenScope> requested)
    {
        var merged = new List<(string Type, string Name, RegistryActions Actions)>();
        foreach (var scope in requested)
        {
            var actions = RegistryActionNames.Parse(scope.Actions);
            var index = merged.FindIndex(entry => entry.Type == scope.Type && entry.Name == scope.Name);
            if (index < 0)
            {
                merged.Add((scope.Type, scope.Name, actions));
            }
            else
            {
                merged[index] = (scope.Type, scope.Name, merged[index].Actions | actions);
            }
        }

        var authorizer = _services.GetRequiredService<RegistryAuthorizer>();
        var granted = new List<TokenScope>(merged.Count);
        foreach (var (type, name, actions) in merged)
        {
            var allowed = RegistryActions.None;
            if (type == TokenScope.RepositoryType && RepositoryName.TryParse(name, out var repository))
            {
                allowed = (await authorizer.GetAccessAsync(caller, repository, context.RequestAborted)).Allowed;
            }
            else if (type == TokenScope.RegistryType && name == TokenScope.CatalogName)
            {
                // Anyone may list the catalog, which shows each caller only the repositories they may pull.
                allowed = RegistryActionNames.Everything;
            }

            var grantedActions = actions & allowed;
            if (grantedActions != actions)
            {
                SecurityLog.AccessDenied(
                    _logger,
                    caller.UserName ?? "anonymous",
                    RegistryActionNames.Format(actions & ~allowed),
                    name,
                    context.Request.Method,
                    context.Request.Path,
                    "not granted in the token");
            }

            granted.Add(new TokenScope(type, name, RegistryActionNames.ToNames(grantedActions)));
        }

        return granted;
    }

    private static async Task WriteAuthenticationFailureAsync(HttpContext context, AuthenticationOutcome outcome)
    {
        if (outcome.RetryAfter is { } retryAfter)
        {
            context.Response.Headers.RetryAfter = RegistryAccessGate.RetryAfterSeconds(retryAfter);
            await WriteErrorAsync(context, StatusCodes.Status429TooManyRequests, "TOOMANYREQUESTS", outcome.FailureMessage!);
            return;
        }

        await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHORIZED", outcome.FailureMessage!);
    }

    /// <summary>
    /// Writes an error in the OCI error body format, which Docker clients show to the user. Headers already set on
    /// the response, such as <c>Retry-After</c>, are kept.
    /// </summary>
    private static async Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("errors");
            writer.WriteStartObject();
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }

    private static string FormatScopes(IEnumerable<TokenScope> scopes) => string.Join(' ', scopes.Select(scope => scope.ToString()));
}

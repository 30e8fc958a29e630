using System.Globalization;
using System.Text.Json;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Tls;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// The token endpoint of the Docker token authentication flow, <c>/auth/token</c>. <c>GET</c> takes optional basic
/// authentication, or a TLS client certificate when no basic credentials are sent, and <c>service</c>, <c>scope</c> and <c>offline_token</c> parameters; <c>POST</c> takes an OAuth 2
/// form with <c>grant_type=password</c> or <c>grant_type=refresh_token</c>. Both grant the requested actions the
/// caller is allowed, and never fail for requesting more: a denied scope gets an empty action list, and a scope of an
/// invalid repository name or an unknown resource is left out.
/// </summary>
internal sealed class TokenEndpoints
{
    /// <summary>
    /// The maximum number of scopes in one token request, which bounds the repository lookups and the token size
    /// one request can cause. A pull or push requests a few scopes, so 64 leaves room for clients that batch them.
    /// </summary>
    internal const int MaxScopesPerRequest = 64;

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
        // Resolved per request, so invalid options surface as one validation error when the host starts.
        return endpoints.MapMethods(
                RegistryAccessGate.TokenEndpointPath,
                [HttpMethods.Get, HttpMethods.Post],
                context => context.RequestServices.GetRequiredService<TokenEndpoints>().HandleAsync(context))
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
            // Without basic credentials, a client certificate or the host's own sign-in names the user.
            outcome = await authenticator.AuthenticateWithoutHeaderAsync(context, cancellationToken);
        }

        if (!outcome.Succeeded)
        {
            await WriteAuthenticationFailureAsync(context, outcome);
            RecordRejectedCertificate(context);
            return;
        }

        var query = context.Request.Query;
        if (await ReadScopesAsync(context, query["scope"]) is not { } scopes)
        {
            return;
        }

        var offline = string.Equals(query["offline_token"], "true", StringComparison.OrdinalIgnoreCase);
        await WriteTokensAsync(context, outcome.Caller!, outcome.TokenSubject, scopes, offline, includeScope: false);
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
        if (await ReadScopesAsync(context, form["scope"]) is not { } scopes)
        {
            return;
        }

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
                await WriteTokensAsync(context, outcome.Caller!, outcome.TokenSubject, scopes, offline, includeScope: true);
                return;

            case "refresh_token":
                if (await ValidateRefreshTokenAsync(context, form["refresh_token"].ToString(), cancellationToken) is { } user)
                {
                    var caller = new RegistryCaller(user.Name, user.IsAdmin);
                    await WriteTokensAsync(context, caller, new TokenSubject(user.Name, user.CreatedAt), scopes, offline: false, includeScope: true);
                }

                return;

            default:
                await WriteErrorAsync(context, StatusCodes.Status400BadRequest, "UNSUPPORTED_GRANT_TYPE", $"The grant type '{grantType}' is not supported; use password or refresh_token.");
                return;
        }
    }

    /// <summary>
    /// Parses the <c>scope</c> parameters, or writes 400 and returns null when there are more than
    /// <see cref="MaxScopesPerRequest"/>.
    /// </summary>
    private static async Task<List<TokenScope>?> ReadScopesAsync(HttpContext context, StringValues values)
    {
        if (TokenScope.TryParseAll(values, MaxScopesPerRequest, out var scopes, out var count))
        {
            return scopes;
        }

        await WriteErrorAsync(
            context,
            StatusCodes.Status400BadRequest,
            "INVALID_REQUEST",
            $"The request has {count} scopes, but a token request may have at most {MaxScopesPerRequest}; request fewer scopes per token.");
        return null;
    }

    /// <summary>
    /// Returns the user of a valid refresh token, or writes 401 and returns null. Besides the signature and lifetime,
    /// the user must still be active and be the same account, and the personal access token or password the refresh
    /// token was issued for must not have been revoked or changed. A refresh token issued through the host's own
    /// authentication carries neither and stays valid until it expires.
    /// </summary>
    private async Task<User?> ValidateRefreshTokenAsync(HttpContext context, string refreshToken, CancellationToken cancellationToken)
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

        var identity = _services.GetRequiredService<IIdentityStore>();
        var (user, reason, message) = await TokenBinding.CheckAsync(identity, validation, "refresh token", cancellationToken);
        if (user is null)
        {
            SecurityLog.TokenRejected(_logger, RegistryAuthenticator.ClientAddress(context), reason!);
            await WriteErrorAsync(context, StatusCodes.Status401Unauthorized, "UNAUTHORIZED", message + " Sign in again.");
            return null;
        }

        return user;
    }

    /// <summary>
    /// Writes an access token with the granted scopes and, when <paramref name="offline"/> is set and the caller is a
    /// user, a refresh token bound to <paramref name="subject"/>.
    /// </summary>
    /// <param name="subject">The caller's account and credential, or null for an anonymous caller.</param>
    private async Task WriteTokensAsync(HttpContext context, RegistryCaller caller, TokenSubject? subject, List<TokenScope> requested, bool offline, bool includeScope)
    {
        var granted = await GrantAsync(context, caller, requested);
        var tokens = _services.GetRequiredService<RegistryTokenService>();
        var access = tokens.IssueAccessToken(subject, granted);
        var refresh = offline && subject is not null ? tokens.IssueRefreshToken(subject) : null;
        SecurityLog.TokenIssued(_logger, caller.UserName ?? "anonymous", FormatScopes(granted), FormatScopesForLog(requested));

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
    /// Intersects each requested scope with what the caller may do, and merges scopes of the same resource. Repository
    /// scopes with an invalid name and scopes of unknown resources are left out, so the token does not repeat names
    /// that cannot be granted anything. What was not granted is logged in one line per request.
    /// </summary>
    private async Task<List<TokenScope>> GrantAsync(HttpContext context, RegistryCaller caller, List<TokenScope> requested)
    {
        var authorizer = _services.GetRequiredService<RegistryAuthorizer>();
        var granted = new List<TokenScope>();
        var denied = new List<string>();
        var dropped = 0;
        foreach (var scope in Merge(requested))
        {
            if (scope.Type == TokenScope.RepositoryType && RepositoryName.TryParse(scope.Name, out var repository))
            {
                var actions = RegistryActionNames.Parse(scope.Actions);
                var allowed = (await authorizer.GetAccessAsync(caller, repository, context.RequestAborted)).Allowed;
                var missing = actions & ~allowed;
                if (missing != RegistryActions.None)
                {
                    denied.Add($"{scope.Type}:{SecurityLog.Truncate(scope.Name)}:{RegistryActionNames.Format(missing)}");
                }

                granted.Add(new TokenScope(scope.Type, scope.Name, RegistryActionNames.ToNames(actions & allowed)));
            }
            else if (scope.Type == TokenScope.RegistryType && IsRegistryResourceAllowed(scope.Name, caller) is { } isAllowed)
            {
                // Registry resources have one action, *, so only that is granted even when more is requested.
                List<string> grantedActions = isAllowed && scope.Actions.Contains(TokenScope.AllAction) ? [TokenScope.AllAction] : [];
                var missing = scope.Actions.Except(grantedActions, StringComparer.Ordinal).ToList();
                if (missing.Count > 0)
                {
                    denied.Add($"{scope.Type}:{scope.Name}:{SecurityLog.Truncate(string.Join(',', missing))}");
                }

                granted.Add(new TokenScope(scope.Type, scope.Name, grantedActions));
            }
            else
            {
                dropped++;
            }
        }

        if (denied.Count > 0 || dropped > 0)
        {
            SecurityLog.TokenScopesDenied(_logger, caller.UserName ?? "anonymous", denied.Count > 0 ? string.Join(' ', denied) : "nothing", dropped);
        }

        return granted;
    }

    /// <summary>
    /// Returns whether the caller may have <c>*</c> on a <c>registry</c> resource, or null for an unknown resource.
    /// Anyone may list the catalog, which shows each caller only the repositories they may pull. The management
    /// scope needs a signed-in user, and the management API checks the user's rights on each request.
    /// </summary>
    private static bool? IsRegistryResourceAllowed(string name, RegistryCaller caller) => name switch
    {
        TokenScope.CatalogName => true,
        TokenScope.ManagementName => caller.IsAuthenticated,
        _ => null,
    };

    /// <summary>Merges scopes of the same type and name into one, with the union of their actions in request order.</summary>
    private static List<TokenScope> Merge(List<TokenScope> requested)
    {
        var merged = new List<TokenScope>(requested.Count);
        foreach (var scope in requested)
        {
            var index = merged.FindIndex(entry => entry.Type == scope.Type && entry.Name == scope.Name);
            if (index < 0)
            {
                merged.Add(scope);
            }
            else
            {
                var actions = merged[index].Actions.Union(scope.Actions, StringComparer.Ordinal).ToList();
                merged[index] = merged[index] with { Actions = actions };
            }
        }

        return merged;
    }

    /// <summary>
    /// Records a rejected client certificate in the audit log as <c>access.denied</c>. Rejected passwords on this
    /// endpoint are logged and counted by the failed sign-in limit, but not audited.
    /// </summary>
    private static void RecordRejectedCertificate(HttpContext context)
    {
        if (ClientCertificateRejection.Get(context) is { } rejection && context.RequestServices.GetService<Audit.AuditLog>() is { } audit)
        {
            audit.Record(context, rejection.UserName, repository: null, "access.denied", context.Response.StatusCode, rejection.Detail);
        }
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

    /// <summary>Formats requested scopes with each part truncated, since the client chooses their length.</summary>
    private static string FormatScopesForLog(IEnumerable<TokenScope> scopes) => string.Join(
        ' ',
        scopes.Select(scope => $"{SecurityLog.Truncate(scope.Type)}:{SecurityLog.Truncate(scope.Name)}:{SecurityLog.Truncate(string.Join(',', scope.Actions))}"));
}

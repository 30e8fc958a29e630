using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Routing;
using Dtr.AspNetCore.Settings;
using Dtr.Errors;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Enforces authentication and repository permissions on every <c>/v2/…</c> request when
/// <see cref="RegistryAuthOptions.Enabled"/> is set. A rejected request gets a <see cref="RegistryException"/>:
/// 401 with a bearer challenge when new credentials or a new token could help, 403 <c>DENIED</c> when the
/// signed-in user lacks the right, 429 when sign-ins are rate-limited.
/// </summary>
internal sealed class RegistryAccessGate
{
    private readonly RegistryOptions _options;
    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<RegistryAccessGate> _logger;
    private readonly RegistrySettings _settings;

    // Resolved on first use, so a host with authentication off needs no identity store.
    private IRegistryAuthenticator? _authenticator;
    private RegistryAuthorizer? _authorizer;
    private IIdentityStore? _identity;

    public RegistryAccessGate(IOptions<RegistryOptions> options, RegistrySettings settings, IServiceProvider services, TimeProvider time, ILogger<RegistryAccessGate> logger)
    {
        _options = options.Value;
        _settings = settings;
        _services = services;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Authenticates the request and checks that the caller may do what the route and method need. For a repository
    /// without settings it also creates it on the first push (with <see cref="RegistryOptions.CreateRepositoryOnPush"/>)
    /// or rejects the request as the endpoint would for a missing repository.
    /// </summary>
    public async ValueTask<RequestAccess> AuthorizeAsync(HttpContext context, RegistryRouteKind kind, RepositoryName? repository)
    {
        if (!_options.Auth.Enabled)
        {
            return RequestAccess.Unrestricted;
        }

        var cancellationToken = context.RequestAborted;
        _authenticator ??= _services.GetRequiredService<IRegistryAuthenticator>();
        var outcome = await _authenticator.AuthenticateAsync(context, _options.Auth.AllowBasicAuthOnRegistryApi, cancellationToken);
        var required = RequiredActions(kind, context.Request.Method);
        if (!outcome.Succeeded)
        {
            throw RejectCredentials(context, outcome, kind, repository, required);
        }

        var access = new RequestAccess(this, outcome.Caller!, outcome.TokenAccess);
        context.Items[ActorKey] = access.Caller.UserName;
        if (kind == RegistryRouteKind.Base)
        {
            if (!access.Caller.IsAuthenticated && access.TokenAccess is null)
            {
                throw Challenge(context, scope: null, error: null, "Authentication is required; get a token from the token endpoint.");
            }

            return access;
        }

        if (kind == RegistryRouteKind.Catalog || repository is not { } name)
        {
            return access;
        }

        var repositoryAccess = await GetRepositoryAccessAsync(access, name, cancellationToken);
        var effective = access.Effective(repositoryAccess.Allowed, name);
        if ((effective & required) != required)
        {
            throw Deny(context, access, repositoryAccess.Allowed, name, required);
        }

        if (!repositoryAccess.Facts.RepositoryExists)
        {
            await HandleMissingRepositoryAsync(context, access.Caller, kind, name, required);
        }

        return access;
    }

    private static readonly object ActorKey = new();

    /// <summary>Returns the user name that the gate authenticated for the request, or null for anonymous callers.</summary>
    internal static string? GetActor(HttpContext context) => context.Items[ActorKey] as string;

    /// <summary>Returns whether the caller may pull <paramref name="source"/>, which must exist, for a cross-repository mount.</summary>
    internal async ValueTask<bool> CanPullAsync(RequestAccess access, RepositoryName source, CancellationToken cancellationToken)
    {
        var repositoryAccess = await GetRepositoryAccessAsync(access, source, cancellationToken);
        return repositoryAccess.Facts.RepositoryExists
            && access.Effective(repositoryAccess.Allowed, source).HasFlag(RegistryActions.Pull);
    }

    /// <summary>Returns the identity store, which exists whenever authentication is enabled.</summary>
    internal IIdentityStore Identity => _identity ??= _services.GetRequiredService<IIdentityStore>();

    internal ILogger Logger => _logger;

    private ValueTask<RepositoryAccess> GetRepositoryAccessAsync(RequestAccess access, RepositoryName repository, CancellationToken cancellationToken)
    {
        _authorizer ??= _services.GetRequiredService<RegistryAuthorizer>();
        return _authorizer.GetAccessAsync(access.Caller, repository, cancellationToken);
    }

    /// <summary>
    /// Returns the actions a route and method need. Pushing also needs pull, as Docker clients request
    /// <c>pull,push</c> and read the repository while pushing.
    /// </summary>
    internal static RegistryActions RequiredActions(RegistryRouteKind kind, string method) => kind switch
    {
        RegistryRouteKind.Manifest when HttpMethods.IsPut(method) => RegistryActions.Pull | RegistryActions.Push,
        RegistryRouteKind.Manifest or RegistryRouteKind.Blob when HttpMethods.IsDelete(method) => RegistryActions.Delete,
        RegistryRouteKind.UploadStart or RegistryRouteKind.Upload => RegistryActions.Pull | RegistryActions.Push,
        RegistryRouteKind.Base or RegistryRouteKind.Catalog or RegistryRouteKind.None => RegistryActions.None,
        _ => RegistryActions.Pull,
    };

    private async ValueTask HandleMissingRepositoryAsync(HttpContext context, RegistryCaller caller, RegistryRouteKind kind, RepositoryName repository, RegistryActions required)
    {
        var creates = kind == RegistryRouteKind.UploadStart || (kind == RegistryRouteKind.Manifest && HttpMethods.IsPut(context.Request.Method));
        if (required.HasFlag(RegistryActions.Push) && _settings.Current.Options.CreateRepositoryOnPush)
        {
            if (!creates)
            {
                // An upload session can only exist in a repository that its POST created.
                throw new RegistryException(OciErrorCode.BlobUploadUnknown, $"No such upload in repository '{repository}'.");
            }

            await CreateOnPushAsync(caller, repository, context.RequestAborted);
            return;
        }

        if (required.HasFlag(RegistryActions.Push))
        {
            throw new RegistryException(
                OciErrorCode.NameUnknown,
                $"repository '{repository}' does not exist; create it first with POST {_options.ManagementApiPrefix.TrimEnd('/')}/repositories/{Namespace(repository)}");
        }

        throw kind switch
        {
            RegistryRouteKind.Manifest => new RegistryException(OciErrorCode.ManifestUnknown, $"No manifest in repository '{repository}': the repository does not exist."),
            RegistryRouteKind.Blob => new RegistryException(OciErrorCode.BlobUnknown, $"No blob in repository '{repository}': the repository does not exist."),
            _ => new RegistryException(OciErrorCode.NameUnknown, $"The repository '{repository}' does not exist."),
        };
    }

    private async ValueTask CreateOnPushAsync(RegistryCaller caller, RepositoryName repository, CancellationToken cancellationToken)
    {
        var settings = new RepositorySettings(repository, RepositoryVisibility.Private, null, ScanOnPush: false, ImmutableTags: false, _time.GetUtcNow());
        try
        {
            await Identity.CreateRepositoryAsync(settings, cancellationToken);
            SecurityLog.RepositoryCreatedOnPush(_logger, repository.Value, caller.UserName ?? "anonymous");
        }
        catch (IdentityConflictException)
        {
            // A concurrent push created it first.
        }
        catch (IdentityNotFoundException)
        {
            throw new RegistryException(
                OciErrorCode.NameUnknown,
                $"Cannot create repository '{repository}' on push because no user or organization '{Namespace(repository)}' exists; create it first.");
        }
    }

    private RegistryException RejectCredentials(HttpContext context, AuthenticationOutcome outcome, RegistryRouteKind kind, RepositoryName? repository, RegistryActions required)
    {
        if (outcome.RetryAfter is { } retryAfter)
        {
            return new RegistryException(OciErrorCode.TooManyRequests, outcome.FailureMessage!)
            {
                Headers = new Dictionary<string, string> { ["Retry-After"] = RetryAfterSeconds(retryAfter) },
            };
        }

        var bearer = context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        return Challenge(context, Scope(kind, repository, required), bearer ? "invalid_token" : null, outcome.FailureMessage!);
    }

    private RegistryException Deny(HttpContext context, RequestAccess access, RegistryActions allowed, RepositoryName repository, RegistryActions required)
    {
        var caller = access.Caller;
        var actionText = RegistryActionNames.Format(required);
        var userText = caller.UserName ?? "anonymous";
        var scope = $"{TokenScope.RepositoryType}:{repository}:{actionText}";

        // An anonymous caller may gain access by signing in, so it gets a challenge. A token issued for another
        // repository or fewer actions gets one too, so that the client fetches a token with the needed scope.
        if (!caller.IsAuthenticated)
        {
            SecurityLog.AccessDenied(_logger, userText, actionText, repository.Value, context.Request.Method, context.Request.Path, "not signed in");
            var error = access.TokenAccess is null ? null : "insufficient_scope";
            return Challenge(context, scope, error, $"Authentication is required to {actionText} repository '{repository}'.");
        }

        if (access.TokenAccess is not null && (allowed & required) == required)
        {
            SecurityLog.AccessDenied(_logger, userText, actionText, repository.Value, context.Request.Method, context.Request.Path, "token lacks the scope");
            return Challenge(context, scope, "insufficient_scope", $"The token does not grant {actionText} on repository '{repository}'; request a token with that scope.");
        }

        var missing = required & ~allowed;
        SecurityLog.AccessDenied(_logger, userText, RegistryActionNames.Format(missing), repository.Value, context.Request.Method, context.Request.Path, "insufficient permissions");
        return new RegistryException(OciErrorCode.Denied, $"User '{userText}' may not {DescribeActions(missing)} repository '{repository}'.");
    }

    /// <summary>Describes actions as verbs for a sentence about a repository, such as "pull from or push to".</summary>
    private static string DescribeActions(RegistryActions actions)
    {
        var phrases = new List<string>(4);
        if (actions.HasFlag(RegistryActions.Pull))
        {
            phrases.Add("pull from");
        }

        if (actions.HasFlag(RegistryActions.Push))
        {
            phrases.Add("push to");
        }

        if (actions.HasFlag(RegistryActions.Delete))
        {
            phrases.Add("delete from");
        }

        if (actions.HasFlag(RegistryActions.All))
        {
            phrases.Add("administer");
        }

        return string.Join(" or ", phrases);
    }

    private RegistryException Challenge(HttpContext context, string? scope, string? error, string message)
    {
        var challenge = $"Bearer realm=\"{TokenRealm(context.Request)}\",service=\"{_options.Auth.Service}\"";
        if (scope is not null)
        {
            challenge += $",scope=\"{scope}\"";
        }

        if (error is not null)
        {
            challenge += $",error=\"{error}\"";
        }

        return new RegistryException(OciErrorCode.Unauthorized, message)
        {
            Headers = new Dictionary<string, string> { ["WWW-Authenticate"] = challenge },
        };
    }

    /// <summary>Returns the absolute URL of the token endpoint, from the public base URL or the request.</summary>
    internal string TokenRealm(HttpRequest request) =>
        (_settings.Current.PublicBase ?? request.Scheme + "://" + request.Host.ToUriComponent() + request.PathBase.ToUriComponent()) + TokenEndpointPath;

    /// <summary>The path of the token endpoint that <c>MapRegistry</c> maps.</summary>
    public const string TokenEndpointPath = "/auth/token";

    internal static string RetryAfterSeconds(TimeSpan retryAfter) =>
        Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string? Scope(RegistryRouteKind kind, RepositoryName? repository, RegistryActions required) =>
        repository is null || required == RegistryActions.None
            ? null
            : $"{TokenScope.RepositoryType}:{repository}:{RegistryActionNames.Format(required)}";

    private static string Namespace(RepositoryName repository)
    {
        var slash = repository.Value.IndexOf('/', StringComparison.Ordinal);
        return slash < 0 ? repository.Value : repository.Value[..slash];
    }
}

/// <summary>
/// Who sent a <c>/v2/</c> request and what a bearer token grants them, for endpoints that check more than the
/// route's own repository: the catalog and cross-repository mounts.
/// </summary>
internal sealed class RequestAccess
{
    private readonly RegistryAccessGate? _gate;

    internal RequestAccess(RegistryAccessGate? gate, RegistryCaller caller, IReadOnlyList<TokenScope>? tokenAccess)
    {
        _gate = gate;
        Caller = caller;
        TokenAccess = tokenAccess;
    }

    /// <summary>The access of every request when authentication is off.</summary>
    public static RequestAccess Unrestricted { get; } = new(null, RegistryCaller.Anonymous, null);

    /// <summary>Whether permissions are enforced; false when authentication is off.</summary>
    public bool IsEnforced => _gate is not null;

    public RegistryCaller Caller { get; }

    /// <summary>The scopes of the bearer token, or null when the request had none.</summary>
    public IReadOnlyList<TokenScope>? TokenAccess { get; }

    /// <summary>Returns the identity store when permissions are enforced.</summary>
    public IIdentityStore? Identity => _gate?.Identity;

    /// <summary>Returns whether the caller may pull <paramref name="source"/>; always true when nothing is enforced.</summary>
    public ValueTask<bool> CanPullAsync(RepositoryName source, CancellationToken cancellationToken) =>
        _gate is null ? ValueTask.FromResult(true) : _gate.CanPullAsync(this, source, cancellationToken);

    /// <summary>Narrows the allowed actions to what the bearer token grants on the repository, if there is a token.</summary>
    internal RegistryActions Effective(RegistryActions allowed, RepositoryName repository)
    {
        if (TokenAccess is null)
        {
            return allowed;
        }

        var granted = RegistryActions.None;
        foreach (var scope in TokenAccess)
        {
            if (scope.Type == TokenScope.RepositoryType && string.Equals(scope.Name, repository.Value, StringComparison.Ordinal))
            {
                granted |= RegistryActionNames.Parse(scope.Actions);
            }
        }

        return allowed & granted;
    }
}

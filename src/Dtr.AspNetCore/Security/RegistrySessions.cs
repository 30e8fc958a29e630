using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Dtr.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Browser sessions of the management API. A session is a cookie whose value is a session token: a JWT signed with
/// the registry's token signing key, with the <c>dtr-session+jwt</c> type. Every host that shares the signing key
/// accepts it, so no Data Protection key ring has to be shared. Like a refresh token, the token is bound to the
/// user's account and to the password or personal access token used to sign in. Deleting or deactivating the user,
/// changing the password or revoking the token therefore ends the session at the next request.
/// </summary>
/// <remarks>
/// The cookie is <c>HttpOnly</c> and <c>SameSite=Strict</c>, and each session carries a random antiforgery token in
/// its <c>csrf</c> claim. Scripts of the web interface read that token from the session response and send it in the
/// <c>X-CSRF-Token</c> header of every unsafe request. A page of another origin can neither read the token nor set
/// that header unless the host's CORS policy allows it. The registry adds no CORS policy. Sessions do not slide: a session ends
/// <see cref="RegistryAuthOptions.SessionLifetime"/> after sign-in.
/// </remarks>
internal sealed class RegistrySessions
{
    /// <summary>The name of the session cookie.</summary>
    public const string CookieName = "dtr_session";

    /// <summary>The request header that carries the session's antiforgery token on unsafe requests.</summary>
    public const string CsrfHeaderName = "X-CSRF-Token";

    /// <summary>The message of the 401 for a session cookie that is expired or no longer valid.</summary>
    public const string InvalidSessionMessage = "Your session has expired or is invalid; sign in again.";

    /// <summary>The message of the 403 for an unsafe request without the session's antiforgery token.</summary>
    public const string InvalidCsrfTokenMessage = "The request's antiforgery token is missing or invalid; reload the page and retry.";

    /// <summary>The session token kind named in log lines.</summary>
    private const string TokenKind = "session token";

    private readonly RegistryTokenService _tokens;
    private readonly IServiceProvider _services;
    private readonly RegistryAuthOptions _options;
    private readonly ILogger<RegistrySessions> _logger;

    public RegistrySessions(RegistryTokenService tokens, IServiceProvider services, IOptions<RegistryOptions> options, ILogger<RegistrySessions> logger)
    {
        _tokens = tokens;
        _services = services;
        _options = options.Value.Auth;
        _logger = logger;
    }

    /// <summary>
    /// Starts a session for <paramref name="user"/>: sets the session cookie on the response and returns the body of
    /// the session response, which contains the antiforgery token. A companion package calls this after it has
    /// authenticated the user itself, for example through the host's single sign-on.
    /// </summary>
    /// <param name="subject">The account and credential the session is bound to. A subject without a password stamp
    /// or access token id, as <see cref="RegistryAuthenticator.AuthenticateHostUserAsync"/> returns, stays valid
    /// until it expires or the account is deactivated or deleted.</param>
    /// <exception cref="ArgumentException"><paramref name="subject"/> names another user.</exception>
    public Task<SessionResponse> SignInAsync(HttpContext context, User user, TokenSubject subject)
    {
        if (!string.Equals(user.Name, subject.UserName, StringComparison.Ordinal))
        {
            throw new ArgumentException($"The token subject names user '{subject.UserName}', but the session is for user '{user.Name}'.", nameof(subject));
        }

        var csrfToken = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
        var issued = _tokens.IssueSessionToken(subject, csrfToken, _options.SessionLifetime);
        var expiresAt = issued.IssuedAt + issued.Lifetime;
        context.Response.Cookies.Append(CookieName, issued.Token, CreateCookieOptions(context, expiresAt));
        context.Response.Headers.CacheControl = "no-store";

        SecurityLog.SessionStarted(_logger, user.Name, RegistryAuthenticator.ClientAddress(context), DescribeCredential(subject), expiresAt);
        return Task.FromResult(new SessionResponse(user.Name, user.IsAdmin, AuthenticationEnabled: true, csrfToken, expiresAt.UtcDateTime));
    }

    /// <summary>
    /// Returns the caller of the request's session cookie, or null when the request has no valid session. With
    /// authentication turned off every caller is an anonymous administrator, so that caller is returned. Unlike the
    /// management API, this reads only the cookie: an <c>Authorization</c> header is not considered.
    /// </summary>
    public async ValueTask<RegistryCaller?> TryReadSessionAsync(HttpContext context)
    {
        if (!_options.Enabled)
        {
            return new RegistryCaller(null, IsAdmin: true);
        }

        var session = await ReadAsync(context, context.RequestAborted);
        return session.Caller;
    }

    /// <summary>
    /// Reads and validates the session cookie: the token's signature, type and lifetime, then the account and
    /// credential binding through <see cref="TokenBinding"/>. Logs why a cookie was rejected.
    /// </summary>
    public async ValueTask<SessionRead> ReadAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (!context.Request.Cookies.TryGetValue(CookieName, out var token) || string.IsNullOrEmpty(token))
        {
            return SessionRead.NoCookie;
        }

        var validation = await _tokens.ValidateSessionTokenAsync(token);
        if (!validation.IsValid)
        {
            SecurityLog.SessionRejected(_logger, RegistryAuthenticator.ClientAddress(context), validation.Error!);
            return SessionRead.Rejected;
        }

        var identity = _services.GetRequiredService<IIdentityStore>();
        var (user, reason, _) = await TokenBinding.CheckAsync(identity, validation, TokenKind, cancellationToken);
        if (user is null)
        {
            SecurityLog.SessionRejected(_logger, RegistryAuthenticator.ClientAddress(context), reason!);
            return SessionRead.Rejected;
        }

        return new SessionRead(true, new RegistryCaller(user.Name, user.IsAdmin), validation);
    }

    /// <summary>Returns the session response for a session that <see cref="ReadAsync"/> accepted.</summary>
    public static SessionResponse Describe(SessionRead session) => new(
        session.Caller!.UserName,
        session.Caller.IsAdmin,
        AuthenticationEnabled: true,
        session.Token!.CsrfToken,
        session.Token.ExpiresAt?.UtcDateTime);

    /// <summary>
    /// Returns whether a request with <paramref name="method"/> must carry the antiforgery token: every method but
    /// GET, HEAD, OPTIONS and TRACE, which must not change state.
    /// </summary>
    public static bool RequiresCsrfToken(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    /// <summary>
    /// Returns whether the request's <c>X-CSRF-Token</c> header equals the antiforgery token of
    /// <paramref name="session"/>, comparing in constant time. Logs a rejection.
    /// </summary>
    public bool VerifyCsrfToken(HttpContext context, SessionRead session)
    {
        var headers = context.Request.Headers[CsrfHeaderName];
        var expected = session.Token?.CsrfToken;
        string problem;
        if (headers.Count == 0 || string.IsNullOrEmpty(headers[0]))
        {
            problem = "missing";
        }
        else if (headers.Count > 1)
        {
            problem = "repeated";
        }
        else if (expected is null || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(headers[0]!), Encoding.UTF8.GetBytes(expected)))
        {
            problem = "wrong";
        }
        else
        {
            return true;
        }

        var request = context.Request;
        SecurityLog.AntiforgeryRejected(_logger, request.Method, request.Path, session.Caller?.UserName ?? "unknown", RegistryAuthenticator.ClientAddress(context), problem);
        return false;
    }

    /// <summary>Tells the browser to delete the session cookie.</summary>
    /// <remarks>
    /// NOTE: the session token itself stays valid until it expires, because the registry keeps no list of sessions.
    /// A copy of the cookie taken before sign-out still works until then, unless the password is changed or the
    /// personal access token it was started with is revoked.
    /// </remarks>
    public void ExpireCookie(HttpContext context)
    {
        context.Response.Cookies.Delete(CookieName, CreateCookieOptions(context, expires: null));
    }

    /// <summary>Logs the end of a session that <see cref="ReadAsync"/> accepted.</summary>
    public void LogSignOut(HttpContext context, SessionRead session) =>
        SecurityLog.SessionEnded(_logger, session.Caller?.UserName ?? "unknown", RegistryAuthenticator.ClientAddress(context));

    private CookieOptions CreateCookieOptions(HttpContext context, DateTimeOffset? expires) => new()
    {
        Path = "/",
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = _options.SessionCookieSecure == SessionCookieSecurePolicy.Always || context.Request.IsHttps,
        Expires = expires,
        IsEssential = true,
    };

    private static string DescribeCredential(TokenSubject subject) => subject switch
    {
        { PasswordStamp: not null } => "a password",
        { AccessTokenId: { } tokenId } => $"personal access token {tokenId}",
        _ => "the host's sign-in",
    };
}

/// <summary>The outcome of reading a request's session cookie.</summary>
/// <param name="CookiePresent">Whether the request had a session cookie.</param>
/// <param name="Caller">The session's user, or null when there is no cookie or it was rejected.</param>
/// <param name="Token">The validated session token, or null when <paramref name="Caller"/> is null.</param>
internal sealed record SessionRead(bool CookiePresent, RegistryCaller? Caller, TokenValidation? Token)
{
    public static SessionRead NoCookie { get; } = new(false, null, null);

    public static SessionRead Rejected { get; } = new(true, null, null);

    /// <summary>
    /// How the user signed in to start the session: <see cref="CredentialKind.Password"/>,
    /// <see cref="CredentialKind.AccessToken"/>, or <see cref="CredentialKind.Host"/> for a session that the host's
    /// own authentication started.
    /// </summary>
    public CredentialKind SignInCredential => Token switch
    {
        { PasswordStamp: not null } => CredentialKind.Password,
        { AccessTokenId: not null } => CredentialKind.AccessToken,
        _ => CredentialKind.Host,
    };
}

/// <summary>The body of the session responses of <c>{prefix}/session</c>.</summary>
/// <param name="UserName">The signed-in user, or null when authentication is off.</param>
/// <param name="IsAdmin">Whether the user is a system administrator; true when authentication is off.</param>
/// <param name="AuthenticationEnabled">Whether the registry requires sign-in (<c>Registry:Auth:Enabled</c>).</param>
/// <param name="CsrfToken">The value to send in the <c>X-CSRF-Token</c> header of unsafe requests, or null when
/// authentication is off.</param>
/// <param name="ExpiresAt">When the session ends, in UTC, or null when authentication is off.</param>
internal sealed record SessionResponse(string? UserName, bool IsAdmin, bool AuthenticationEnabled, string? CsrfToken, DateTime? ExpiresAt);

using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Finds out who sent a request: from a bearer token this registry issued, HTTP basic authentication (password or
/// personal access token), a TLS client certificate, or the host's own authentication through
/// <see cref="IRegistryUserMapper"/>.
/// </summary>
internal interface IRegistryAuthenticator
{
    /// <summary>
    /// Returns the caller, <see cref="RegistryCaller.Anonymous"/> when the request has no credentials, or a failure
    /// when it has credentials that are wrong, expired or rate-limited.
    /// </summary>
    /// <param name="allowBasic">Whether HTTP basic authentication is accepted on this endpoint.</param>
    ValueTask<AuthenticationOutcome> AuthenticateAsync(HttpContext context, bool allowBasic, CancellationToken cancellationToken);
}

/// <summary>The result of <see cref="IRegistryAuthenticator.AuthenticateAsync"/>.</summary>
/// <param name="Caller">The caller, when authentication succeeded or no credentials were sent.</param>
/// <param name="FailureMessage">Why the credentials were rejected, safe to show the client; null on success.</param>
/// <param name="RetryAfter">When rate-limited, how long the client must wait.</param>
internal sealed record AuthenticationOutcome(RegistryCaller? Caller, string? FailureMessage, TimeSpan? RetryAfter = null)
{
    public bool Succeeded => Caller is not null;

    /// <summary>
    /// The scopes granted by the bearer token the caller presented, or null when the request had no bearer token.
    /// A request with a bearer token may do only what the token grants.
    /// </summary>
    public IReadOnlyList<TokenScope>? TokenAccess { get; init; }

    /// <summary>
    /// How the caller proved who they are. It is <see cref="CredentialKind.None"/> for every anonymous caller, also
    /// one that sent an anonymous bearer token.
    /// </summary>
    public CredentialKind Credential { get; init; }

    /// <summary>
    /// The account and credential that tokens issued for this request are bound to. It is null for anonymous callers
    /// and for bearer tokens, from which the token endpoint issues nothing.
    /// </summary>
    public TokenSubject? TokenSubject { get; init; }

    public static AuthenticationOutcome Success(RegistryCaller caller) => new(caller, null);

    public static AuthenticationOutcome Failure(string message, TimeSpan? retryAfter = null) => new(null, message, retryAfter);
}

/// <summary>The kind of credential a request was authenticated with.</summary>
internal enum CredentialKind
{
    /// <summary>No credentials: an anonymous caller.</summary>
    None,

    /// <summary>HTTP basic authentication with the user's password.</summary>
    Password,

    /// <summary>HTTP basic authentication with a personal access token.</summary>
    AccessToken,

    /// <summary>A bearer token issued by the token endpoint.</summary>
    Bearer,

    /// <summary>The host's own authentication, mapped by <see cref="IRegistryUserMapper"/>.</summary>
    Host,

    /// <summary>The browser session cookie of the management API, issued by <see cref="RegistrySessions"/>.</summary>
    Session,

    /// <summary>A TLS client certificate from a trusted authority (<c>Registry:ClientCertificates</c>).</summary>
    ClientCertificate,
}

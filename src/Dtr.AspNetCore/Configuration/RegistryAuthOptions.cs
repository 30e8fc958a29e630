namespace Dtr.AspNetCore.Configuration;

/// <summary>
/// Authentication and authorization settings, bound from <c>Registry:Auth</c>.
/// </summary>
public sealed class RegistryAuthOptions
{
    /// <summary>
    /// Whether callers must authenticate and are checked against repository permissions. Default true. When false,
    /// every caller may do everything, which suits only a registry on a trusted loopback or test network.
    /// </summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The service name in <c>WWW-Authenticate</c> challenges and the audience of issued tokens. Default
    /// <c>dtr-registry</c>.
    /// </summary>
    public string Service { get; set; } = "dtr-registry";

    /// <summary>The issuer of the tokens this registry signs. Default <c>dtr-token-issuer</c>.</summary>
    public string Issuer { get; set; } = "dtr-token-issuer";

    /// <summary>How long an issued bearer token is valid. Default 5 minutes.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a refresh token (<c>offline_token=true</c>) is valid. Default 30 days.</summary>
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The clock skew tolerated when validating token times. Default 30 seconds.</summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The maximum number of verified access tokens kept in memory, so that a client sending the same bearer token
    /// again skips the signature verification. The key id, issuer, audience, lifetime and the user are still checked
    /// on every request. 0 turns the cache off. Default 10,000.
    /// </summary>
    public int TokenCacheSize { get; set; } = 10_000;

    /// <summary>
    /// The PEM file of the ECDSA P-256 key that signs tokens (ES256). When null, a key is generated at first start
    /// and kept as <c>token-signing-key.pem</c> in the data folder.
    /// </summary>
    public string? SigningKeyPath { get; set; }

    /// <summary>
    /// Whether <c>/v2/</c> also accepts HTTP basic authentication directly, for simple clients that cannot follow the
    /// token flow. Default false.
    /// </summary>
    public bool AllowBasicAuthOnRegistryApi { get; set; }

    /// <summary>
    /// The number of failed sign-ins allowed per client address in <see cref="FailedLoginWindow"/>. A user name may
    /// fail ten times as often, counted over all addresses. More get 429 with <c>Retry-After</c>. Default 10.
    /// </summary>
    public int FailedLoginLimit { get; set; } = 10;

    /// <summary>The window of <see cref="FailedLoginLimit"/>. Default 1 minute.</summary>
    public TimeSpan FailedLoginWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a browser session of the management API lasts after sign-in, from 5 minutes to 30 days. Sessions do
    /// not slide: after this time the user signs in again. Default 8 hours.
    /// </summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// When the session cookie gets the <c>Secure</c> attribute. Default <see cref="SessionCookieSecurePolicy.SameAsRequest"/>;
    /// set <see cref="SessionCookieSecurePolicy.Always"/> behind a proxy that ends TLS and forwards plain HTTP.
    /// </summary>
    public SessionCookieSecurePolicy SessionCookieSecure { get; set; } = SessionCookieSecurePolicy.SameAsRequest;
}

/// <summary>When the browser session cookie is marked <c>Secure</c>, so browsers send it only over HTTPS.</summary>
public enum SessionCookieSecurePolicy
{
    /// <summary>Secure when the sign-in request came over HTTPS.</summary>
    SameAsRequest,

    /// <summary>Always secure, also when the sign-in request came over plain HTTP.</summary>
    Always,
}

/// <summary>
/// The first system administrator, bound from <c>Registry:Admin</c>. It is created at start when no user exists.
/// </summary>
public sealed class RegistryAdminOptions
{
    /// <summary>The administrator's user name. Default <c>admin</c>.</summary>
    public string UserName { get; set; } = "admin";

    /// <summary>
    /// The administrator's password. When null, a random password is generated and written to the log once, at the
    /// start that creates the account.
    /// </summary>
    public string? Password { get; set; }
}

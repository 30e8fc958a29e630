using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dtr.AspNetCore.Tls;
using Dtr.Identity;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Authenticates requests from, in this order: a bearer access token this registry issued; HTTP basic
/// authentication with a password or personal access token, where the endpoint allows it; a TLS client certificate,
/// when <c>Registry:ClientCertificates:Enabled</c> is set; the host's own sign-in mapped through
/// <see cref="IRegistryUserMapper"/>. A request with none of them is anonymous.
/// </summary>
internal sealed class RegistryAuthenticator : IRegistryAuthenticator
{
    /// <summary>The message of every rejected user name and password, which does not tell which of the two was wrong.</summary>
    public const string InvalidCredentialsMessage = "The user name or password is incorrect.";

    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    // Verifying against this hash when the user has none keeps the response time the same whether or not the user exists.
    private static readonly Lazy<string> DummyPasswordHash = new(() => PasswordHashing.Hash(Guid.NewGuid().ToString("N")));

    private readonly IIdentityStore _identity;
    private readonly RegistryTokenService _tokens;
    private readonly FailedLoginLimiter _limiter;
    private readonly TimeProvider _time;
    private readonly ClientCertificateValidator _certificates;
    private readonly ILogger<RegistryAuthenticator> _logger;
    private readonly ConcurrentDictionary<string, DateTimeOffset> _lastTouched = new(StringComparer.Ordinal);

    public RegistryAuthenticator(
        IIdentityStore identity,
        RegistryTokenService tokens,
        FailedLoginLimiter limiter,
        ClientCertificateValidator certificates,
        TimeProvider time,
        ILogger<RegistryAuthenticator> logger)
    {
        _identity = identity;
        _tokens = tokens;
        _limiter = limiter;
        _certificates = certificates;
        _time = time;
        _logger = logger;
    }

    public async ValueTask<AuthenticationOutcome> AuthenticateAsync(HttpContext context, bool allowBasic, CancellationToken cancellationToken)
    {
        var header = context.Request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return await AuthenticateBearerAsync(context, header["Bearer ".Length..].Trim(), cancellationToken);
        }

        // Basic credentials where they are not accepted are ignored, so the request continues as anonymous.
        if (allowBasic && TryReadBasic(header, out var credentials))
        {
            return credentials is { } pair
                ? await VerifyCredentialsAsync(pair.UserName, pair.Password, ClientAddress(context), cancellationToken)
                : AuthenticationOutcome.Failure("The basic authorization header is malformed; send base64 of 'user:password'.");
        }

        return await AuthenticateWithoutHeaderAsync(context, cancellationToken);
    }

    /// <summary>
    /// Authenticates a request by what it carries besides the <c>Authorization</c> header: the TLS client certificate
    /// when there is one and client certificates are enabled, or else the host's own sign-in.
    /// </summary>
    public async ValueTask<AuthenticationOutcome> AuthenticateWithoutHeaderAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (_certificates.IsEnabled && context.Connection.ClientCertificate is { } certificate)
        {
            return await AuthenticateClientCertificateAsync(context, certificate, cancellationToken);
        }

        return await AuthenticateHostUserAsync(context, cancellationToken);
    }

    /// <summary>
    /// Checks a user name with a password or a personal access token, subject to the failed sign-in limit. A token
    /// is accepted only for the user who owns it.
    /// </summary>
    public async ValueTask<AuthenticationOutcome> VerifyCredentialsAsync(string userName, string password, string clientAddress, CancellationToken cancellationToken)
    {
        if (_limiter.CheckBlocked(userName, clientAddress) is { } retryAfter)
        {
            var seconds = (int)Math.Ceiling(retryAfter.TotalSeconds);
            SecurityLog.SignInThrottled(_logger, SecurityLog.Truncate(userName), clientAddress, seconds);
            return AuthenticationOutcome.Failure($"Too many failed sign-ins for this user or address; retry after {seconds} seconds.", retryAfter);
        }

        User? user;
        string reason;
        TokenSubject? subject = null;
        var isAccessToken = AccessTokens.TryParse(password, out var tokenId, out var secret);
        if (isAccessToken)
        {
            (user, reason) = await VerifyAccessTokenAsync(userName, tokenId!, secret!, cancellationToken);
            subject = user is null ? null : new TokenSubject(user.Name, user.CreatedAt, AccessTokenId: tokenId);
        }
        else
        {
            string? passwordHash;
            (user, reason, passwordHash) = await VerifyPasswordAsync(userName, password, cancellationToken);
            subject = user is null ? null : new TokenSubject(user.Name, user.CreatedAt, PasswordStamp: PasswordHashing.Stamp(passwordHash!));
        }

        if (user is null)
        {
            _limiter.RecordFailure(userName, clientAddress);
            SecurityLog.SignInFailed(_logger, SecurityLog.Truncate(userName), clientAddress, reason);
            return AuthenticationOutcome.Failure(InvalidCredentialsMessage);
        }

        return AuthenticationOutcome.Success(new RegistryCaller(user.Name, user.IsAdmin)) with
        {
            Credential = isAccessToken ? CredentialKind.AccessToken : CredentialKind.Password,
            TokenSubject = subject,
        };
    }

    /// <summary>Returns the client address the failed sign-in limit counts against.</summary>
    /// <remarks>
    /// NOTE: this is the connection's remote address. Behind a reverse proxy without the forwarded headers
    /// middleware, every client shares the proxy's address and so one per-address limit.
    /// </remarks>
    public static string ClientAddress(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>
    /// Reads a basic authorization header. Returns false when the header is not basic; returns true with null
    /// credentials when it is basic but malformed.
    /// </summary>
    public static bool TryReadBasic(string header, out (string UserName, string Password)? credentials)
    {
        credentials = null;
        if (!AuthenticationHeaderValue.TryParse(header, out var value) || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(value.Parameter ?? ""));
        }
        catch (FormatException)
        {
            return true;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return true;
        }

        credentials = (decoded[..colon], decoded[(colon + 1)..]);
        return true;
    }

    /// <summary>Maps the host's signed-in principal to an active registry user; anonymous when that fails.</summary>
    public async ValueTask<AuthenticationOutcome> AuthenticateHostUserAsync(HttpContext context, CancellationToken cancellationToken)
    {
        if (context.User.Identity?.IsAuthenticated != true || context.RequestServices?.GetService<IRegistryUserMapper>() is not { } mapper)
        {
            return AuthenticationOutcome.Success(RegistryCaller.Anonymous);
        }

        var userName = await mapper.MapAsync(context.User, context, cancellationToken);
        var user = userName is null ? null : await _identity.GetUserAsync(userName, cancellationToken);
        if (user is not { IsActive: true })
        {
            SecurityLog.HostUserUnmapped(_logger, ClientAddress(context));
            return AuthenticationOutcome.Success(RegistryCaller.Anonymous);
        }

        return AuthenticationOutcome.Success(new RegistryCaller(user.Name, user.IsAdmin)) with
        {
            Credential = CredentialKind.Host,
            TokenSubject = new TokenSubject(user.Name, user.CreatedAt),
        };
    }

    /// <summary>
    /// Authenticates the request as the active user that a valid client certificate names. A rejected certificate
    /// fails the request with 401 instead of making it anonymous, as a wrong password does, so that the client sees
    /// why. A certificate from the registry's own authority must also have been issued after the account was created,
    /// so that it does not pass to a later account of the same name.
    /// </summary>
    private async ValueTask<AuthenticationOutcome> AuthenticateClientCertificateAsync(HttpContext context, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var (validation, cached) = await ValidateForConnectionAsync(context, certificate, cancellationToken);
        string? reason = validation.Error;
        User? user = null;
        if (reason is null)
        {
            user = await _identity.GetUserAsync(validation.UserName!, cancellationToken);
            reason = user switch
            {
                null => $"the certificate names the user '{validation.UserName}', who does not exist",
                { IsActive: false } => $"the certificate's user '{validation.UserName}' is inactive",
                _ when validation.IssuedByRegistry && !ClientCertificateAuthority.IsIssuedToAccount(validation.NotBefore, user.CreatedAt) =>
                    $"the certificate was issued to an earlier account named '{validation.UserName}'",
                _ => null,
            };
        }

        if (reason is not null)
        {
            // A certificate that failed its own checks is logged once per connection, because it fails the same way on
            // every request. A rejection for the user's state is logged each time, since that state can change.
            if (!cached || validation.Error is null)
            {
                TlsLog.ClientCertificateRejected(_logger, SecurityLog.Truncate(certificate.Subject), CertificateDescription.ComputeSha256Thumbprint(certificate), ClientAddress(context), reason);
            }

            // The audit log, unlike the log above, gets an entry for every rejected request, as for a wrong password.
            // It names the user only when the certificate passed its own checks, so a trusted authority vouched for
            // the name. Anyone can put an administrator's name in an untrusted certificate.
            ClientCertificateRejection.Set(context, certificate, validation.UserName, reason);
            return AuthenticationOutcome.Failure($"The client certificate was rejected: {reason}.");
        }

        return AuthenticationOutcome.Success(new RegistryCaller(user!.Name, user.IsAdmin)) with
        {
            Credential = CredentialKind.ClientCertificate,
            TokenSubject = new TokenSubject(user.Name, user.CreatedAt),
        };
    }

    /// <summary>
    /// Validates the certificate once per TLS connection, because the client presents it in the handshake and it
    /// stays the same for every request on the connection. The user is still read on every request.
    /// </summary>
    /// <returns>The validation, and whether it was stored for the connection by an earlier request.</returns>
    private async ValueTask<(ClientCertificateValidation Validation, bool Cached)> ValidateForConnectionAsync(HttpContext context, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var items = context.Features.Get<IConnectionItemsFeature>()?.Items;
        if (items?.TryGetValue(ConnectionValidationKey, out var cached) == true
            && cached is CachedValidation { } entry
            && ReferenceEquals(entry.Certificate, certificate)
            && _time.GetUtcNow() <= entry.NotAfter)
        {
            return (entry.Validation, true);
        }

        var validation = await _certificates.ValidateAsync(certificate, cancellationToken);
        if (items is not null)
        {
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
            items[ConnectionValidationKey] = new CachedValidation(certificate, notAfter, validation);
        }

        return (validation, false);
    }

    private static readonly object ConnectionValidationKey = new();

    private sealed record CachedValidation(X509Certificate2 Certificate, DateTimeOffset NotAfter, ClientCertificateValidation Validation);

    private async ValueTask<AuthenticationOutcome> AuthenticateBearerAsync(HttpContext context, string token, CancellationToken cancellationToken)
    {
        var validation = await _tokens.ValidateAccessTokenAsync(token);
        if (!validation.IsValid)
        {
            SecurityLog.TokenRejected(_logger, ClientAddress(context), validation.Error!);
            return AuthenticationOutcome.Failure($"The bearer token is invalid: {validation.Error}.");
        }

        if (validation.Subject is null)
        {
            return AuthenticationOutcome.Success(RegistryCaller.Anonymous) with { TokenAccess = validation.Access };
        }

        // The user is read again so that deactivating a user or revoking administration takes effect at once.
        var user = await _identity.GetUserAsync(validation.Subject, cancellationToken);
        if (user is not { IsActive: true })
        {
            SecurityLog.TokenRejected(_logger, ClientAddress(context), $"user {validation.Subject} does not exist or is inactive");
            return AuthenticationOutcome.Failure("The bearer token's user does not exist or is inactive.");
        }

        if (!validation.IsIssuedTo(user))
        {
            SecurityLog.TokenRejected(_logger, ClientAddress(context), $"the token was issued to an earlier account named {validation.Subject}");
            return AuthenticationOutcome.Failure("The bearer token was issued to a deleted account with the same user name; sign in again.");
        }

        return AuthenticationOutcome.Success(new RegistryCaller(user.Name, user.IsAdmin)) with
        {
            TokenAccess = validation.Access,
            Credential = CredentialKind.Bearer,
        };
    }

    /// <summary>Checks a password; on success also returns the stored hash that it matched.</summary>
    private async ValueTask<(User? User, string Reason, string? PasswordHash)> VerifyPasswordAsync(string userName, string password, CancellationToken cancellationToken)
    {
        var hash = await _identity.GetPasswordHashAsync(userName, cancellationToken);
        var matches = PasswordHashing.Verify(hash ?? DummyPasswordHash.Value, password);
        if (hash is null || !matches)
        {
            return (null, hash is null ? "unknown user or no password" : "wrong password", null);
        }

        var (user, reason) = await GetActiveUserAsync(userName, cancellationToken);
        return (user, reason, hash);
    }

    private async ValueTask<(User? User, string Reason)> VerifyAccessTokenAsync(string userName, string tokenId, string secret, CancellationToken cancellationToken)
    {
        var stored = await _identity.FindAccessTokenAsync(tokenId, cancellationToken);
        if (stored is not { } found)
        {
            return (null, $"unknown access token {tokenId}");
        }

        if (!AccessTokens.VerifySecret(secret, found.SecretHash))
        {
            return (null, $"wrong secret for access token {tokenId}");
        }

        if (!string.Equals(found.Token.UserName, userName, StringComparison.OrdinalIgnoreCase))
        {
            return (null, $"access token {tokenId} belongs to another user");
        }

        var result = await GetActiveUserAsync(found.Token.UserName, cancellationToken);
        if (result.User is not null)
        {
            await TouchAsync(tokenId, cancellationToken);
        }

        return result;
    }

    private async ValueTask<(User? User, string Reason)> GetActiveUserAsync(string userName, CancellationToken cancellationToken)
    {
        var user = await _identity.GetUserAsync(userName, cancellationToken);
        return user switch
        {
            null => (null, "unknown user"),
            { IsActive: false } => (null, "user is inactive"),
            _ => (user, ""),
        };
    }

    /// <summary>
    /// Records the token's use at most once a minute per token in this process, so busy clients do not write on
    /// every request.
    /// </summary>
    private async ValueTask TouchAsync(string tokenId, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_lastTouched.TryGetValue(tokenId, out var last))
        {
            // Of concurrent requests with the same token, only the one whose update wins writes.
            if (now - last < TouchInterval || !_lastTouched.TryUpdate(tokenId, now, last))
            {
                return;
            }
        }
        else if (!_lastTouched.TryAdd(tokenId, now))
        {
            return;
        }

        try
        {
            await _identity.TouchAccessTokenAsync(tokenId, now, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // The sign-in itself succeeded; a missed last-used time is not worth failing the request for.
            SecurityLog.AccessTokenTouchFailed(_logger, tokenId, error);
        }
    }
}

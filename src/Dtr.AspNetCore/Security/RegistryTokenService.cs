using System.Buffers.Text;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Dtr.AspNetCore.Configuration;
using Dtr.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Issues and validates the registry's JSON Web Tokens, signed with ES256. Access tokens carry the granted scopes
/// in the <c>access</c> claim of the Docker token specification and are sent as bearer tokens to <c>/v2/</c>.
/// Refresh tokens carry the user and the credential they were issued for, and are accepted only by the token
/// endpoint's <c>refresh_token</c> grant. Session tokens are the browser session cookie of the management API: they
/// carry the same user and credential binding as refresh tokens plus an antiforgery token. Tokens of a user also carry the account's creation time, so that they stop
/// working when the account is deleted, even if another account with the same name is created later.
/// </summary>
internal sealed class RegistryTokenService
{
    /// <summary>The <c>typ</c> header of access tokens.</summary>
    public const string AccessTokenType = "JWT";

    /// <summary>The <c>typ</c> header of refresh tokens, so no validator that expects <c>JWT</c> accepts one.</summary>
    public const string RefreshTokenType = "dtr-refresh+jwt";

    /// <summary>The <c>typ</c> header of session tokens, so neither the token endpoint nor <c>/v2</c> accepts one.</summary>
    public const string SessionTokenType = "dtr-session+jwt";

    /// <summary>The claim that distinguishes the token kinds even where the header is not checked.</summary>
    public const string TokenUseClaim = "token_use";

    public const string AccessClaim = "access";

    /// <summary>The claim with the creation time of the subject's account, in Unix milliseconds.</summary>
    public const string UserCreatedClaim = "uct";

    /// <summary>The refresh token claim with the id of the personal access token the user signed in with.</summary>
    public const string AccessTokenIdClaim = "pat";

    /// <summary>
    /// The refresh token claim with the <see cref="PasswordHashing.Stamp"/> of the password hash the user signed in
    /// with.
    /// </summary>
    public const string PasswordStampClaim = "pst";

    /// <summary>The session token claim with the antiforgery token that unsafe requests must echo in a header.</summary>
    public const string CsrfClaim = "csrf";

    private const string AccessUse = "access";
    private const string RefreshUse = "refresh";
    private const string SessionUse = "session";

    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false, SetDefaultTimesOnTokenCreation = false };
    private readonly SigningKeyProvider _keys;
    private readonly VerifiedTokenCache _verified;
    private readonly RegistryAuthOptions _options;
    private readonly TimeProvider _time;

    public RegistryTokenService(SigningKeyProvider keys, VerifiedTokenCache verified, IOptions<RegistryOptions> options, TimeProvider time)
    {
        _keys = keys;
        _verified = verified;
        _options = options.Value.Auth;
        _time = time;
    }

    /// <summary>Issues an access token with the granted scopes, for a user or, when <paramref name="subject"/> is null, anonymous.</summary>
    public IssuedToken IssueAccessToken(TokenSubject? subject, IReadOnlyList<TokenScope> access)
    {
        var accessClaim = JsonSerializer.SerializeToElement(
            access.Select(scope => new Dictionary<string, object>
            {
                ["type"] = scope.Type,
                ["name"] = scope.Name,
                ["actions"] = scope.Actions,
            }).ToList());

        var claims = new Dictionary<string, object>
        {
            [TokenUseClaim] = AccessUse,
            [AccessClaim] = accessClaim,
        };
        if (subject is not null)
        {
            claims[UserCreatedClaim] = subject.UserCreatedAt.ToUnixTimeMilliseconds();
        }

        return Issue(subject?.UserName, claims, AccessTokenType, _options.TokenLifetime);
    }

    /// <summary>
    /// Issues a refresh token for a user, valid for <see cref="RegistryAuthOptions.RefreshTokenLifetime"/>, bound to
    /// the personal access token or password in <paramref name="subject"/> when it has one.
    /// </summary>
    public IssuedToken IssueRefreshToken(TokenSubject subject) =>
        Issue(subject.UserName, BoundClaims(subject, RefreshUse), RefreshTokenType, _options.RefreshTokenLifetime);

    /// <summary>
    /// Issues a session token for a user, valid for <paramref name="lifetime"/>, bound like a refresh token and
    /// carrying <paramref name="csrfToken"/> in the <c>csrf</c> claim.
    /// </summary>
    public IssuedToken IssueSessionToken(TokenSubject subject, string csrfToken, TimeSpan lifetime)
    {
        var claims = BoundClaims(subject, SessionUse);
        claims[CsrfClaim] = csrfToken;
        return Issue(subject.UserName, claims, SessionTokenType, lifetime);
    }

    /// <summary>
    /// Validates an access token: ES256 signature by this registry's key, issuer, audience, lifetime within the clock
    /// skew, its kind, and a user creation time when it has a subject. Returns the subject (null for an anonymous token)
    /// and the granted scopes, or a failure reason. The caller must check that the subject's account still exists with
    /// that creation time, through <see cref="TokenValidation.IsIssuedTo"/>.
    /// </summary>
    /// <remarks>
    /// A token that passed this validation before is taken from <see cref="VerifiedTokenCache"/> without verifying its
    /// signature or parsing it again, but only after its signing key id, issuer, audience and lifetime pass the checks
    /// again. A cached token that fails one of them goes through full validation, which reports the reason.
    /// </remarks>
    public async ValueTask<TokenValidation> ValidateAccessTokenAsync(string token)
    {
        var key = _keys.SecurityKey;
        if (_verified.Find(token) is { } cached && IsStillValid(cached, key))
        {
            return cached.Validation;
        }

        var result = await ValidateAsync(token, key, AccessTokenType, AccessUse);
        if (result.Error is not null)
        {
            return new TokenValidation(null, [], result.Error);
        }

        var jwt = result.Token!;
        var validation = ReadAccessToken(jwt);
        if (validation.IsValid)
        {
            _verified.Add(token, new VerifiedAccessToken(key.KeyId, jwt.Issuer, jwt.Audiences.ToArray(), jwt.ValidFrom, jwt.ValidTo, validation), _options.ClockSkew);
        }

        return validation;
    }

    /// <summary>
    /// Validates a refresh token like an access token and returns its user and the credential it is bound to, or a
    /// failure reason. The caller must check that the account and the credential are still current.
    /// </summary>
    public ValueTask<TokenValidation> ValidateRefreshTokenAsync(string token) =>
        ValidateBoundTokenAsync(token, RefreshTokenType, RefreshUse, "refresh token");

    /// <summary>
    /// Validates a session token like a refresh token, and also returns its antiforgery token and expiry time. The
    /// caller must check that the account and the credential are still current.
    /// </summary>
    public async ValueTask<TokenValidation> ValidateSessionTokenAsync(string token)
    {
        var validation = await ValidateBoundTokenAsync(token, SessionTokenType, SessionUse, "session token");
        if (!validation.IsValid)
        {
            return validation;
        }

        return string.IsNullOrEmpty(validation.CsrfToken)
            ? new TokenValidation(null, [], "the session token has no antiforgery token")
            : validation;
    }

    /// <summary>Returns the claims that bind a refresh or session token to its account and credential.</summary>
    private static Dictionary<string, object> BoundClaims(TokenSubject subject, string tokenUse)
    {
        var claims = new Dictionary<string, object>
        {
            [TokenUseClaim] = tokenUse,
            [UserCreatedClaim] = subject.UserCreatedAt.ToUnixTimeMilliseconds(),
        };
        if (subject.AccessTokenId is not null)
        {
            claims[AccessTokenIdClaim] = subject.AccessTokenId;
        }

        if (subject.PasswordStamp is not null)
        {
            claims[PasswordStampClaim] = subject.PasswordStamp;
        }

        return claims;
    }

    private async ValueTask<TokenValidation> ValidateBoundTokenAsync(string token, string tokenType, string tokenUse, string kind)
    {
        var result = await ValidateAsync(token, _keys.SecurityKey, tokenType, tokenUse);
        if (result.Error is not null)
        {
            return new TokenValidation(null, [], result.Error);
        }

        var jwt = result.Token!;
        if (Subject(jwt) is not { } subject)
        {
            return new TokenValidation(null, [], $"the {kind} has no subject");
        }

        if (UserCreatedAt(jwt) is not { } userCreatedAt)
        {
            return new TokenValidation(null, [], $"the {kind} has no user creation time");
        }

        return new TokenValidation(subject, [], null)
        {
            UserCreatedAt = userCreatedAt,
            AccessTokenId = jwt.TryGetPayloadValue<string>(AccessTokenIdClaim, out var tokenId) ? tokenId : null,
            PasswordStamp = jwt.TryGetPayloadValue<string>(PasswordStampClaim, out var stamp) ? stamp : null,
            CsrfToken = jwt.TryGetPayloadValue<string>(CsrfClaim, out var csrf) ? csrf : null,
            ExpiresAt = new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero),
        };
    }

    private IssuedToken Issue(string? subject, Dictionary<string, object> claims, string tokenType, TimeSpan lifetime)
    {
        var now = _time.GetUtcNow();

        // JWT times have one-second resolution; truncating here keeps issued_at equal to the iat claim.
        now = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var identity = new ClaimsIdentity();
        if (subject is not null)
        {
            identity.AddClaim(new Claim(JwtRegisteredClaimNames.Sub, subject));
        }

        identity.AddClaim(new Claim(JwtRegisteredClaimNames.Jti, Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16))));
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Service,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            Subject = identity,
            Claims = claims,
            TokenType = tokenType,
            SigningCredentials = new SigningCredentials(_keys.SecurityKey, SecurityAlgorithms.EcdsaSha256),
        };

        return new IssuedToken(_handler.CreateToken(descriptor), now, lifetime);
    }

    private async Task<(JsonWebToken? Token, string? Error)> ValidateAsync(string token, ECDsaSecurityKey key, string tokenType, string tokenUse)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = _options.Issuer,
            ValidAudience = _options.Service,
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            ValidTypes = [tokenType],
            IssuerSigningKey = key,
            RequireSignedTokens = true,
            RequireAudience = true,
            ValidateIssuer = true,
            ValidateAudience = true,

            // The library reads the system clock, so the lifetime is checked below against the injected TimeProvider.
            ValidateLifetime = false,
            ValidateIssuerSigningKey = true,
        };

        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid || result.SecurityToken is not JsonWebToken jwt)
        {
            return (null, DescribeFailure(result.Exception));
        }

        // ValidTo and ValidFrom are DateTime.MinValue when the claim is missing.
        if (!jwt.TryGetPayloadValue<long>(JwtRegisteredClaimNames.Exp, out _))
        {
            return (null, "the token has no expiration time");
        }

        if (CheckLifetime(jwt.ValidFrom, jwt.ValidTo) is { } lifetimeError)
        {
            return (null, lifetimeError);
        }

        if (!jwt.TryGetPayloadValue<string>(TokenUseClaim, out var use) || use != tokenUse)
        {
            return (null, $"the token's {TokenUseClaim} claim is not '{tokenUse}'");
        }

        return (jwt, null);
    }

    private string? CheckLifetime(DateTime validFrom, DateTime validTo)
    {
        var now = _time.GetUtcNow().UtcDateTime;
        if (validTo + _options.ClockSkew < now)
        {
            return "the token has expired";
        }

        if (validFrom - _options.ClockSkew > now)
        {
            return "the token is not valid yet";
        }

        return null;
    }

    /// <summary>
    /// Checks a cached token against the current signing key, issuer, audience and clock, which may have changed
    /// since it was verified.
    /// </summary>
    private bool IsStillValid(VerifiedAccessToken cached, ECDsaSecurityKey key)
    {
        if (!string.Equals(cached.KeyId, key.KeyId, StringComparison.Ordinal)
            || !string.Equals(cached.Issuer, _options.Issuer, StringComparison.Ordinal))
        {
            return false;
        }

        return cached.Audiences.Contains(_options.Service, StringComparer.Ordinal)
            && CheckLifetime(cached.ValidFrom, cached.ValidTo) is null;
    }

    /// <summary>Reads the subject, user creation time and scopes of an access token whose signature and times passed.</summary>
    private static TokenValidation ReadAccessToken(JsonWebToken token)
    {
        var access = ReadAccessClaim(token);
        if (access is null)
        {
            return new TokenValidation(null, [], "the access claim is malformed");
        }

        var subject = Subject(token);
        if (subject is null)
        {
            return new TokenValidation(null, access, null);
        }

        return UserCreatedAt(token) is { } userCreatedAt
            ? new TokenValidation(subject, access, null) { UserCreatedAt = userCreatedAt }
            : new TokenValidation(null, [], "the token has no user creation time");
    }

    private static long? UserCreatedAt(JsonWebToken token) =>
        token.TryGetPayloadValue<long>(UserCreatedClaim, out var milliseconds) ? milliseconds : null;

    private static string? Subject(JsonWebToken token) =>
        token.TryGetPayloadValue<string>(JwtRegisteredClaimNames.Sub, out var subject) && !string.IsNullOrEmpty(subject) ? subject : null;

    /// <summary>
    /// Reads the <c>access</c> claim from the signed payload; returns null when its shape is wrong. The lists are
    /// read-only because <see cref="VerifiedTokenCache"/> shares them between requests.
    /// </summary>
    private static IReadOnlyList<TokenScope>? ReadAccessClaim(JsonWebToken token)
    {
        using var payload = JsonDocument.Parse(Base64Url.DecodeFromChars(token.EncodedPayload));
        if (!payload.RootElement.TryGetProperty(AccessClaim, out var access))
        {
            return [];
        }

        if (access.ValueKind != JsonValueKind.Array)
        {
            return null;
        }

        var scopes = new List<TokenScope>();
        foreach (var entry in access.EnumerateArray())
        {
            if (entry.ValueKind != JsonValueKind.Object
                || !entry.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !entry.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String
                || !entry.TryGetProperty("actions", out var actions) || actions.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var actionNames = new List<string>();
            foreach (var action in actions.EnumerateArray())
            {
                if (action.ValueKind != JsonValueKind.String)
                {
                    return null;
                }

                actionNames.Add(action.GetString()!);
            }

            scopes.Add(new TokenScope(type.GetString()!, name.GetString()!, actionNames.AsReadOnly()));
        }

        return scopes.AsReadOnly();
    }

    private static string DescribeFailure(Exception? error) => error switch
    {
        SecurityTokenInvalidAudienceException => "the token is for another service",
        SecurityTokenInvalidIssuerException => "the token has another issuer",
        SecurityTokenInvalidAlgorithmException => "the token is not signed with ES256",
        SecurityTokenInvalidTypeException => "the token has the wrong type",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "the token signature is invalid",
        SecurityTokenMalformedException or ArgumentException => "the token is malformed",
        _ => "the token is invalid",
    };
}

/// <summary>A signed token with the times a token response reports.</summary>
/// <param name="Token">The compact JWT.</param>
/// <param name="IssuedAt">The <c>iat</c> time.</param>
/// <param name="Lifetime">How long the token is valid after <paramref name="IssuedAt"/>.</param>
internal sealed record IssuedToken(string Token, DateTimeOffset IssuedAt, TimeSpan Lifetime);

/// <summary>The outcome of validating a token.</summary>
/// <param name="Subject">The user name, or null for an anonymous access token or a failure.</param>
/// <param name="Access">The granted scopes of an access token.</param>
/// <param name="Error">Why the token was rejected, or null when it is valid.</param>
internal sealed record TokenValidation(string? Subject, IReadOnlyList<TokenScope> Access, string? Error)
{
    public bool IsValid => Error is null;

    /// <summary>The creation time of the subject's account in Unix milliseconds, from the <c>uct</c> claim.</summary>
    public long? UserCreatedAt { get; init; }

    /// <summary>The personal access token a refresh token is bound to, from the <c>pat</c> claim.</summary>
    public string? AccessTokenId { get; init; }

    /// <summary>The password stamp a refresh token is bound to, from the <c>pst</c> claim.</summary>
    public string? PasswordStamp { get; init; }

    /// <summary>The antiforgery token of a session token, from the <c>csrf</c> claim.</summary>
    public string? CsrfToken { get; init; }

    /// <summary>The expiry time of a refresh or session token, from the <c>exp</c> claim.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>
    /// Returns whether the token was issued to <paramref name="user"/>'s account, and not to a deleted account that had
    /// the same name.
    /// </summary>
    /// <remarks>
    /// NOTE: creation times have millisecond resolution, so an account deleted and re-created with the same name
    /// within one millisecond would still match.
    /// </remarks>
    public bool IsIssuedTo(User user) =>
        string.Equals(Subject, user.Name, StringComparison.Ordinal) && UserCreatedAt == user.CreatedAt.ToUnixTimeMilliseconds();
}

/// <summary>The user account a token is issued to, and for a refresh or session token, the credential it is bound to.</summary>
/// <param name="UserName">The user name, which becomes the <c>sub</c> claim.</param>
/// <param name="UserCreatedAt">When the account was created; a re-created account with the same name differs.</param>
/// <param name="AccessTokenId">The personal access token the user signed in with, or null.</param>
/// <param name="PasswordStamp">The <see cref="PasswordHashing.Stamp"/> of the password the user signed in with, or null.</param>
internal sealed record TokenSubject(string UserName, DateTimeOffset UserCreatedAt, string? AccessTokenId = null, string? PasswordStamp = null);

using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dtr.AspNetCore.Configuration;
using Dtr.Names;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tls;

/// <summary>
/// Checks a TLS client certificate and finds the registry user it names. The chain must end in one of the trusted
/// roots of <c>Registry:ClientCertificates:TrustedCaPaths</c> or in the registry's own client authority, and the
/// machine's root store is never used. The certificate must be valid now and have the TLS client authentication
/// extended key usage.
/// </summary>
/// <remarks>
/// NOTE: revocation lists and OCSP are not checked, and no certificate is downloaded from the addresses a certificate
/// names. To revoke a certificate, deactivate or delete its user, or remove its authority from the trusted files.
/// </remarks>
internal sealed class ClientCertificateValidator
{
    /// <summary>The object identifier of the Microsoft user principal name in a subject alternative name.</summary>
    private const string UserPrincipalNameOid = "1.3.6.1.4.1.311.20.2.3";

    private const string SubjectAlternativeNameOid = "2.5.29.17";

    private readonly RegistryOptions _options;
    private readonly ClientCertificateAuthority _authority;
    private readonly TimeProvider _time;
    private readonly Lazy<TrustedCertificates> _trusted;

    public ClientCertificateValidator(IOptions<RegistryOptions> options, ClientCertificateAuthority authority, TimeProvider time)
    {
        _options = options.Value;
        _authority = authority;
        _time = time;
        _trusted = new Lazy<TrustedCertificates>(() => LoadTrusted(_options.ClientCertificates.TrustedCaPaths));
    }

    /// <summary>Whether client certificates are accepted as credentials.</summary>
    public bool IsEnabled => _options.Auth.Enabled && _options.ClientCertificates.Enabled;

    /// <summary>
    /// Validates <paramref name="certificate"/> and returns the user name it maps to, or the reason it was rejected.
    /// The reason names the failed check and is safe to show the client.
    /// </summary>
    public async ValueTask<ClientCertificateValidation> ValidateAsync(X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (now < notBefore)
        {
            return ClientCertificateValidation.Rejected($"the certificate is not valid before {notBefore:u}");
        }

        if (now > notAfter)
        {
            return ClientCertificateValidation.Rejected($"the certificate expired at {notAfter:u}");
        }

        // RFC 5280 (section 4.2.1.12) lets a certificate without the extension serve any purpose, but this registry
        // requires client certificates to list TLS client authentication.
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usages is null || !usages.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == ClientCertificateAuthority.ClientAuthenticationOid))
        {
            return ClientCertificateValidation.Rejected("the certificate's extended key usage does not include TLS client authentication (1.3.6.1.5.5.7.3.2)");
        }

        var registryAuthority = ClientCertificateAuthority.IsEnabled(_options) ? await _authority.GetCertificateAsync(cancellationToken) : null;
        var (trusted, issuedByRegistry, error) = BuildChain(certificate, registryAuthority, now);
        if (!trusted)
        {
            return ClientCertificateValidation.Rejected(error!);
        }

        // The registry's own certificates carry the user name as common name, whatever UserNameSource is set to.
        var source = issuedByRegistry ? ClientCertificateUserNameSource.CommonName : _options.ClientCertificates.UserNameSource;
        var (userName, mappingError) = MapUserName(certificate, source, _options.ClientCertificates.RequiredDomain);
        return userName is null
            ? ClientCertificateValidation.Rejected(mappingError!)
            : new ClientCertificateValidation(userName, issuedByRegistry, notBefore, null);
    }

    /// <summary>
    /// Loads the trusted certificates now, so that a missing or unreadable file stops the host at start instead of
    /// failing the first request.
    /// </summary>
    public void EnsureLoadedAtStart()
    {
        if (IsEnabled)
        {
            _ = _trusted.Value;
        }
    }

    /// <summary>
    /// Returns the user name in <paramref name="certificate"/> according to <paramref name="source"/>, or the reason
    /// there is none. The name must be a valid registry user name.
    /// </summary>
    internal static (string? UserName, string? Error) MapUserName(X509Certificate2 certificate, ClientCertificateUserNameSource source, string? requiredDomain)
    {
        string? value;
        string field;
        switch (source)
        {
            case ClientCertificateUserNameSource.Email:
                field = "e-mail address";
                value = EnumerateEmailAddresses(certificate).FirstOrDefault()
                    ?? NullIfEmpty(certificate.GetNameInfo(X509NameType.EmailName, forIssuer: false));
                break;
            case ClientCertificateUserNameSource.UserPrincipalName:
                field = "user principal name";
                value = EnumerateUserPrincipalNames(certificate).FirstOrDefault();
                break;
            case ClientCertificateUserNameSource.DnsName:
                field = "DNS name";
                value = certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>()
                    .SelectMany(names => names.EnumerateDnsNames())
                    .FirstOrDefault()?.ToLowerInvariant();
                break;
            default:
                field = "common name";
                value = NullIfEmpty(certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false));
                break;
        }

        if (value is null)
        {
            return (null, $"the certificate has no {field}, which Registry:ClientCertificates:UserNameSource maps to the user name");
        }

        if (source is ClientCertificateUserNameSource.Email or ClientCertificateUserNameSource.UserPrincipalName)
        {
            var at = value.LastIndexOf('@');
            if (at <= 0)
            {
                return (null, $"the certificate's {field} '{Shorten(value)}' is not of the form name@domain");
            }

            var domain = value[(at + 1)..];
            if (requiredDomain is not null && !string.Equals(domain, requiredDomain, StringComparison.OrdinalIgnoreCase))
            {
                return (null, $"the certificate's {field} '{Shorten(value)}' is not in the domain {requiredDomain}");
            }

            value = value[..at].ToLowerInvariant();
        }

        if (!RepositoryName.IsValidComponent(value) || value.Length > 64)
        {
            return (null, $"the certificate's {field} '{Shorten(value)}' is not a valid registry user name");
        }

        return (value, null);
    }

    /// <summary>
    /// Builds the certificate's chain to a trusted root at <paramref name="now"/>, without revocation checks or
    /// downloads, and returns whether it ends in <paramref name="registryAuthority"/>.
    /// </summary>
    private (bool Trusted, bool IssuedByRegistry, string? Error) BuildChain(X509Certificate2 certificate, X509Certificate2? registryAuthority, DateTimeOffset now)
    {
        var trusted = _trusted.Value;
        using var chain = new X509Chain();
        var policy = chain.ChainPolicy;
        policy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        policy.CustomTrustStore.AddRange(trusted.Roots);
        if (registryAuthority is not null)
        {
            policy.CustomTrustStore.Add(registryAuthority);
        }

        policy.ExtraStore.AddRange(trusted.Intermediates);
        policy.RevocationMode = X509RevocationMode.NoCheck;
        policy.DisableCertificateDownloads = true;
        policy.VerificationTime = now.UtcDateTime;
        policy.VerificationTimeIgnored = false;
        policy.ApplicationPolicy.Add(new Oid(ClientCertificateAuthority.ClientAuthenticationOid));

        if (!chain.Build(certificate))
        {
            var problems = chain.ChainStatus
                .Where(status => status.Status != X509ChainStatusFlags.NoError)
                .Select(status => status.Status.ToString())
                .Distinct();
            return (false, false, $"the certificate does not chain to a trusted client certificate authority ({string.Join(", ", problems)})");
        }

        var root = chain.ChainElements[^1].Certificate;
        var issuedByRegistry = registryAuthority is not null && root.RawDataMemory.Span.SequenceEqual(registryAuthority.RawDataMemory.Span);
        return (true, issuedByRegistry, null);
    }

    /// <summary>
    /// Reads the PEM files of trusted authorities. Self-signed certificates become trust anchors, and the others help
    /// to build chains.
    /// </summary>
    /// <exception cref="InvalidOperationException">A file cannot be read or contains no certificate.</exception>
    internal static TrustedCertificates LoadTrusted(IEnumerable<string> paths)
    {
        var roots = new X509Certificate2Collection();
        var intermediates = new X509Certificate2Collection();
        foreach (var path in paths)
        {
            var certificates = ReadCertificates(path);
            foreach (var certificate in certificates)
            {
                if (certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
                {
                    roots.Add(certificate);
                }
                else
                {
                    intermediates.Add(certificate);
                }
            }
        }

        return new TrustedCertificates(roots, intermediates);
    }

    /// <summary>Reads every certificate of a PEM file, or returns why that failed, for the options validator.</summary>
    internal static string? CheckTrustedFile(string path)
    {
        try
        {
            var certificates = ReadCertificates(path);
            foreach (var certificate in certificates)
            {
                certificate.Dispose();
            }

            return null;
        }
        catch (InvalidOperationException error)
        {
            return error.Message;
        }
    }

    private static X509Certificate2Collection ReadCertificates(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(fullPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException(
                $"The trusted client CA file '{fullPath}' in Registry:ClientCertificates:TrustedCaPaths could not be read: {error.Message} Check the path and that the host's user may read the file.", error);
        }

        if (certificates.Count == 0)
        {
            throw new InvalidOperationException(
                $"The trusted client CA file '{fullPath}' in Registry:ClientCertificates:TrustedCaPaths contains no PEM certificate; it needs at least one '-----BEGIN CERTIFICATE-----' block.");
        }

        return certificates;
    }

    /// <summary>Returns the e-mail addresses (rfc822Name entries) of the subject alternative name extension.</summary>
    private static List<string> EnumerateEmailAddresses(X509Certificate2 certificate)
    {
        var rfc822NameTag = new Asn1Tag(TagClass.ContextSpecific, 1);
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid)
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (reader.HasData)
                {
                    if (reader.PeekTag() == rfc822NameTag)
                    {
                        names.Add(reader.ReadCharacterString(UniversalTagNumber.IA5String, rfc822NameTag));
                    }
                    else
                    {
                        reader.ReadEncodedValue();
                    }
                }
            }
            catch (AsnContentException)
            {
                // A malformed extension contributes no names.
            }
        }

        return names;
    }

    /// <summary>Returns the user principal names, the otherName entries of type 1.3.6.1.4.1.311.20.2.3 with a UTF8String value.</summary>
    private static IEnumerable<string> EnumerateUserPrincipalNames(X509Certificate2 certificate)
    {
        var otherNameTag = new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true);
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension.Oid?.Value != SubjectAlternativeNameOid)
            {
                continue;
            }

            try
            {
                var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
                while (reader.HasData)
                {
                    if (reader.PeekTag() != otherNameTag)
                    {
                        reader.ReadEncodedValue();
                        continue;
                    }

                    var otherName = reader.ReadSequence(otherNameTag);
                    var typeId = otherName.ReadObjectIdentifier();
                    var explicitValue = otherName.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true));
                    if (typeId == UserPrincipalNameOid && explicitValue.PeekTag() == new Asn1Tag(UniversalTagNumber.UTF8String))
                    {
                        names.Add(explicitValue.ReadCharacterString(UniversalTagNumber.UTF8String));
                    }
                }
            }
            catch (AsnContentException)
            {
                // A malformed extension contributes no names.
            }
        }

        return names;
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    /// <summary>Shortens a value from the certificate for messages, since the certificate's issuer chose its length.</summary>
    private static string Shorten(string value) => value.Length <= 80 ? value : value[..80] + "…";

    /// <summary>The trust anchors and the intermediate certificates from the trusted files.</summary>
    internal sealed record TrustedCertificates(X509Certificate2Collection Roots, X509Certificate2Collection Intermediates);
}

/// <summary>The outcome of <see cref="ClientCertificateValidator.ValidateAsync"/>.</summary>
/// <param name="UserName">The registry user the certificate names, or null when it was rejected.</param>
/// <param name="IssuedByRegistry">Whether the registry's own client authority issued the certificate.</param>
/// <param name="NotBefore">The start of the certificate's validity period.</param>
/// <param name="Error">Why the certificate was rejected, or null when it was accepted.</param>
internal sealed record ClientCertificateValidation(string? UserName, bool IssuedByRegistry, DateTimeOffset NotBefore, string? Error)
{
    public static ClientCertificateValidation Rejected(string error) => new(null, false, default, error);
}

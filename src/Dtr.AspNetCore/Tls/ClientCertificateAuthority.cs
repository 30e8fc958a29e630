using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tls;

/// <summary>
/// The registry's own client certificate authority, which signs the certificates of client bundles. Its certificate
/// and key are generated once and kept in <see cref="IKeyMaterialStore"/> under <see cref="KeyMaterialName"/>, so
/// every host that shares the metadata database signs with, and trusts, the same authority.
/// </summary>
internal sealed class ClientCertificateAuthority
{
    /// <summary>The name of the authority's certificate and key in <see cref="IKeyMaterialStore"/>.</summary>
    public const string KeyMaterialName = "client-ca";

    /// <summary>The object identifier of the TLS client authentication extended key usage (RFC 5280).</summary>
    public const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>How long the generated authority is valid. Certificates it issued stop working when it expires.</summary>
    private static readonly TimeSpan AuthorityValidity = TimeSpan.FromDays(20 * 365);

    private readonly IServiceProvider _services;
    private readonly TimeProvider _time;
    private readonly ILogger<ClientCertificateAuthority> _logger;
    private readonly SemaphoreSlim _loadLock = new(1, 1);
    private volatile X509Certificate2? _certificate;

    public ClientCertificateAuthority(IServiceProvider services, TimeProvider time, ILogger<ClientCertificateAuthority> logger)
    {
        _services = services;
        _time = time;
        _logger = logger;
    }

    /// <summary>Returns the authority's certificate with its private key, generating and storing it on first use.</summary>
    /// <exception cref="InvalidOperationException">No <see cref="IKeyMaterialStore"/> is registered, or the stored entry cannot be read.</exception>
    public async ValueTask<X509Certificate2> GetCertificateAsync(CancellationToken cancellationToken)
    {
        if (_certificate is { } loaded)
        {
            return loaded;
        }

        await _loadLock.WaitAsync(cancellationToken);
        try
        {
            _certificate ??= await LoadOrCreateAsync(cancellationToken);
            return _certificate;
        }
        finally
        {
            _loadLock.Release();
        }
    }

    /// <summary>
    /// Issues a client certificate with a new ECDSA P-256 key for <paramref name="userName"/>: the subject is
    /// <c>CN=</c><paramref name="userName"/>, the extended key usage is TLS client authentication only, and it is valid
    /// for <paramref name="validity"/>. The start of the validity period is never earlier than
    /// the second of <paramref name="accountCreatedAt"/>, which is how the registry distinguishes the certificate from
    /// one issued to an earlier account of the same name.
    /// </summary>
    public async ValueTask<X509Certificate2> IssueAsync(string userName, DateTimeOffset accountCreatedAt, TimeSpan validity, CancellationToken cancellationToken)
    {
        var authority = await GetCertificateAsync(cancellationToken);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(BuildSubject(userName), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthenticationOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // Backdated by a minute for clients whose clock is slightly behind, but not to before the second in which the
        // account was created.
        var now = _time.GetUtcNow();
        var notBefore = Max(TruncateToSeconds(now.AddMinutes(-1)), TruncateToSeconds(accountCreatedAt));
        var notAfter = TruncateToSeconds(now.Add(validity));
        var authorityNotAfter = new DateTimeOffset(authority.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        if (notAfter > authorityNotAfter)
        {
            notAfter = authorityNotAfter;
        }

        using var issued = request.Create(authority, notBefore, notAfter, CreateSerialNumber());
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>
    /// Returns whether a certificate that this authority issued, starting at <paramref name="notBefore"/>, may belong
    /// to the account created at <paramref name="accountCreatedAt"/>: it must not start before the account existed.
    /// </summary>
    /// <remarks>
    /// NOTE: X.509 times have whole seconds, so a certificate of an account that was deleted and re-created under
    /// the same name within the second of the certificate's start still passes.
    /// </remarks>
    public static bool IsIssuedToAccount(DateTimeOffset notBefore, DateTimeOffset accountCreatedAt) =>
        notBefore >= TruncateToSeconds(accountCreatedAt);

    private async Task<X509Certificate2> LoadOrCreateAsync(CancellationToken cancellationToken)
    {
        var store = _services.GetService<IKeyMaterialStore>()
            ?? throw new InvalidOperationException(
                "Registry:ClientCertificates:IssueBundles needs a metadata store that implements IKeyMaterialStore, such as the SQLite or PostgreSQL store, to keep the client certificate authority's key.");

        var stored = await store.GetKeyMaterialAsync(KeyMaterialName, cancellationToken);
        if (stored is null)
        {
            using var generated = CreateAuthority(_time.GetUtcNow());
            var pem = RegistryCertificateProvider.ExportPem(generated);

            // When another host stored its authority first, that one is returned and this one is dropped.
            stored = await store.GetOrAddKeyMaterialAsync(KeyMaterialName, pem, _time.GetUtcNow(), cancellationToken);
            if (stored.Value == pem)
            {
                TlsLog.ClientAuthorityGenerated(_logger, generated.Subject, CertificateDescription.ComputeSha256Thumbprint(generated), generated.NotAfter.ToUniversalTime());
            }
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(stored.Value, stored.Value);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"The client certificate authority stored as '{KeyMaterialName}' in the metadata database could not be read: {error.Message}", error);
        }

        TlsLog.ClientAuthorityLoaded(_logger, certificate.Subject, CertificateDescription.ComputeSha256Thumbprint(certificate), certificate.NotAfter.ToUniversalTime());
        return certificate;
    }

    /// <summary>
    /// Creates a self-signed ECDSA P-256 authority that may sign only end-entity certificates (path length 0) for TLS
    /// client authentication.
    /// </summary>
    private static X509Certificate2 CreateAuthority(DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

        // The random suffix keeps authorities of different registries apart in a client's certificate folder.
        var subject = new X500DistinguishedName($"CN=Dtr registry client CA {Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthenticationOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(TruncateToSeconds(now.AddMinutes(-1)), TruncateToSeconds(now.Add(AuthorityValidity)));
    }

    private static X500DistinguishedName BuildSubject(string userName)
    {
        var builder = new X500DistinguishedNameBuilder();
        builder.AddCommonName(userName);
        return builder.Build();
    }

    /// <summary>
    /// Returns a random 16-byte serial number (RFC 5280 allows up to 20). The first byte has its top bit clear, so
    /// the number is positive, and its second bit set, so the DER encoding keeps all 16 bytes.
    /// </summary>
    private static byte[] CreateSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    private static DateTimeOffset TruncateToSeconds(DateTimeOffset time) =>
        new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);

    private static DateTimeOffset Max(DateTimeOffset first, DateTimeOffset second) => first >= second ? first : second;

    /// <summary>Returns whether the options ask for the registry's own authority.</summary>
    public static bool IsEnabled(RegistryOptions options) =>
        options.Auth.Enabled && options.ClientCertificates.Enabled && options.ClientCertificates.IssueBundles;
}

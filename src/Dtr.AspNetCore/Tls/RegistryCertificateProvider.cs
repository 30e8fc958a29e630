using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tls;

/// <summary>Where the current HTTPS certificate came from.</summary>
public enum RegistryCertificateSource
{
    /// <summary>The files in <c>Registry:Tls:CertificatePath</c> and <c>KeyPath</c>, or <c>PfxPath</c>.</summary>
    Configured,

    /// <summary>
    /// A certificate uploaded through <c>PUT {prefix}/settings/certificate</c>, kept in the metadata database and in
    /// the data folder of the host that received it.
    /// </summary>
    Uploaded,

    /// <summary>A self-signed certificate that the registry generated in the data folder.</summary>
    Generated,
}

/// <summary>
/// The registry's HTTPS certificate, which can be replaced at run time. The first read loads, in this order, the
/// certificate uploaded through the management API (<c>tls/uploaded.pem</c> in the data folder), the configured
/// files, or the self-signed certificate in <c>tls/generated.pem</c>, which is generated when it is missing.
/// Kestrel reads <see cref="Current"/> at every TLS handshake through
/// <c>KestrelServerOptions.UseRegistryCertificate()</c>,
/// so a replacement applies to the next connection.
/// </summary>
public sealed class RegistryCertificateProvider
{
    /// <summary>The folder inside the data folder that contains the generated and uploaded certificates.</summary>
    public const string FolderName = "tls";

    /// <summary>
    /// The name under which the uploaded certificate and key are kept in <see cref="Dtr.Metadata.IKeyMaterialStore"/>,
    /// so that every host that shares the metadata database serves it.
    /// </summary>
    public const string SharedKeyMaterialName = "tls-certificate";

    internal const string UploadedFileName = "uploaded.pem";
    internal const string GeneratedFileName = "generated.pem";

    private static readonly TimeSpan GeneratedValidity = TimeSpan.FromDays(365);

    private readonly RegistryOptions _options;
    private readonly ILogger<RegistryCertificateProvider> _logger;
    private readonly Lock _loadLock = new();
    private volatile LoadedCertificate? _current;

    /// <summary>Creates the provider; nothing is loaded until the first read.</summary>
    public RegistryCertificateProvider(IOptions<RegistryOptions> options, ILogger<RegistryCertificateProvider> logger)
    {
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>The certificate with its private key that the next TLS handshake presents. Loads it on first use.</summary>
    public X509Certificate2 Current => EnsureLoaded().Certificate;

    /// <summary>Where <see cref="Current"/> came from.</summary>
    public RegistryCertificateSource Source => EnsureLoaded().Source;

    private string TlsDirectory => Path.Combine(Path.GetFullPath(_options.DataDirectory!), FolderName);

    /// <summary>
    /// Stores <paramref name="certificate"/>, which must have its private key, as <c>tls/uploaded.pem</c> with
    /// owner-only permissions and makes it <see cref="Current"/>. It stays in use across restarts until the file is
    /// deleted. The caller validates it first.
    /// </summary>
    /// <returns>The path of the stored file.</returns>
    public string Replace(X509Certificate2 certificate)
    {
        var path = Path.Combine(TlsDirectory, UploadedFileName);
        var pem = ExportPem(certificate);
        lock (_loadLock)
        {
            WriteOwnerOnly(path, pem);
            _current = new LoadedCertificate(ForServer(certificate), RegistryCertificateSource.Uploaded);
        }

        return path;
    }

    /// <summary>
    /// Makes the certificate and key in <paramref name="pem"/>, read from the shared store, <see cref="Current"/>
    /// unless it is the current certificate already. The data folder is not written, so at the next start the shared
    /// copy is applied again.
    /// </summary>
    /// <returns>Whether the certificate changed.</returns>
    /// <exception cref="InvalidOperationException">The text is not a PEM certificate with its private key.</exception>
    internal bool ApplyShared(string pem)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(pem, pem);
        }
        catch (Exception error) when (error is CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"The TLS certificate stored as '{SharedKeyMaterialName}' in the metadata database could not be read: {error.Message} Upload a certificate again.", error);
        }

        lock (_loadLock)
        {
            if (_current is { } current && current.Certificate.RawDataMemory.Span.SequenceEqual(certificate.RawDataMemory.Span))
            {
                certificate.Dispose();
                return false;
            }

            _current = new LoadedCertificate(ForServer(certificate), RegistryCertificateSource.Uploaded);
        }

        TlsLog.SharedCertificateApplied(_logger, certificate.Subject, CertificateDescription.ComputeSha256Thumbprint(certificate), certificate.NotAfter.ToUniversalTime());
        return true;
    }

    /// <summary>Loads the certificate unless it is loaded already. A host calls it at start, so a bad file stops the start.</summary>
    public void EnsureLoadedAtStart() => EnsureLoaded();

    private LoadedCertificate EnsureLoaded()
    {
        if (_current is { } loaded)
        {
            return loaded;
        }

        lock (_loadLock)
        {
            _current ??= Load();
            return _current;
        }
    }

    private LoadedCertificate Load()
    {
        var uploadedPath = Path.Combine(TlsDirectory, UploadedFileName);
        if (File.Exists(uploadedPath))
        {
            return LoadLogged(uploadedPath, () => ReadPem(uploadedPath, uploadedPath), RegistryCertificateSource.Uploaded);
        }

        var tls = _options.Tls;
        if (!string.IsNullOrEmpty(tls.PfxPath))
        {
            var pfxPath = Path.GetFullPath(tls.PfxPath);
            return LoadLogged(pfxPath, () => ReadPfx(pfxPath, tls.PfxPassword), RegistryCertificateSource.Configured);
        }

        if (!string.IsNullOrEmpty(tls.CertificatePath))
        {
            var certificatePath = Path.GetFullPath(tls.CertificatePath);
            var keyPath = string.IsNullOrEmpty(tls.KeyPath) ? certificatePath : Path.GetFullPath(tls.KeyPath);
            return LoadLogged(certificatePath, () => ReadPem(certificatePath, keyPath), RegistryCertificateSource.Configured);
        }

        var generatedPath = Path.Combine(TlsDirectory, GeneratedFileName);
        if (File.Exists(generatedPath))
        {
            return LoadLogged(generatedPath, () => ReadPem(generatedPath, generatedPath), RegistryCertificateSource.Generated);
        }

        return Generate(generatedPath);
    }

    private LoadedCertificate LoadLogged(string path, Func<X509Certificate2> read, RegistryCertificateSource source)
    {
        var certificate = read();
        var thumbprint = CertificateDescription.ComputeSha256Thumbprint(certificate);
        TlsLog.CertificateLoaded(_logger, certificate.Subject, thumbprint, certificate.NotAfter.ToUniversalTime(), path);
        if (certificate.NotAfter < DateTime.Now)
        {
            TlsLog.CertificateExpired(_logger, certificate.Subject, thumbprint, certificate.NotAfter.ToUniversalTime());
        }

        return new LoadedCertificate(ForServer(certificate), source);
    }

    private LoadedCertificate Generate(string path)
    {
        var certificate = CreateSelfSigned(_options.PublicBaseUrl?.Host);
        WriteOwnerOnly(path, ExportPem(certificate));
        TlsLog.CertificateGenerated(_logger, certificate.Subject, CertificateDescription.ComputeSha256Thumbprint(certificate), path);
        return new LoadedCertificate(ForServer(certificate), RegistryCertificateSource.Generated);
    }

    /// <summary>
    /// Creates a self-signed ECDSA P-256 server certificate valid for one year, for <c>localhost</c>, 127.0.0.1 and
    /// <paramref name="hostName"/> when it is given.
    /// </summary>
    internal static X509Certificate2 CreateSelfSigned(string? hostName)
    {
        var commonName = string.IsNullOrEmpty(hostName) ? "localhost" : hostName;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(new X500DistinguishedName("CN=" + commonName.Replace(",", "\\,", StringComparison.Ordinal)), key, HashAlgorithmName.SHA256);

        var names = new SubjectAlternativeNameBuilder();
        if (!string.IsNullOrEmpty(hostName) && !string.Equals(hostName, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (IPAddress.TryParse(hostName, out var address))
            {
                names.AddIpAddress(address);
            }
            else
            {
                names.AddDnsName(hostName);
            }
        }

        names.AddDnsName("localhost");
        if (hostName != "127.0.0.1")
        {
            names.AddIpAddress(IPAddress.Loopback);
        }

        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(CertificateDescription.ServerAuthenticationOid)], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        // Backdated by a minute so a client whose clock is slightly behind accepts it at once.
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-1), now.Add(GeneratedValidity));
    }

    /// <summary>Returns the certificate and its private key as PEM text, the certificate first.</summary>
    internal static string ExportPem(X509Certificate2 certificate)
    {
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetECDsaPrivateKey()
            ?? (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey()
            ?? throw new ArgumentException("The certificate has no ECDSA or RSA private key.", nameof(certificate));
        using (key)
        {
            return certificate.ExportCertificatePem() + "\n" + key.ExportPkcs8PrivateKeyPem() + "\n";
        }
    }

    // NOTE: only the first certificate of the file is loaded, so Kestrel sends no intermediate certificates unless
    // the machine's certificate store has them. Clients must trust the server certificate or its issuer directly.
    private static X509Certificate2 ReadPem(string certificatePath, string keyPath)
    {
        try
        {
            return X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException)
        {
            throw new InvalidOperationException(
                $"The TLS certificate '{certificatePath}' with the key '{keyPath}' could not be loaded: {error.Message} Check that both files are PEM and that the key is unencrypted and belongs to the certificate.", error);
        }
    }

    private static X509Certificate2 ReadPfx(string path, string? password)
    {
        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.Exportable);
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or CryptographicException)
        {
            throw new InvalidOperationException(
                $"The TLS certificate '{path}' could not be loaded: {error.Message} Check Registry:Tls:PfxPath and Registry:Tls:PfxPassword.", error);
        }

        if (!certificate.HasPrivateKey)
        {
            throw new InvalidOperationException($"The TLS certificate '{path}' contains no private key; export the PFX with its key.");
        }

        return certificate;
    }

    /// <summary>
    /// Returns a certificate that SslStream can use as a server certificate. On Windows, SChannel cannot use a key
    /// that was imported from PEM without a persisted key container, so the certificate goes through PKCS#12 there.
    /// </summary>
    private static X509Certificate2 ForServer(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    private static void WriteOwnerOnly(string path, string content)
    {
        var directory = Path.GetDirectoryName(path)!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
        }
        else
        {
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        // Written to a temporary file and renamed, so a crash never leaves half a key behind.
        var temporaryPath = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(temporaryPath, Encoding.ASCII, fileOptions))
        {
            writer.Write(content);
        }

        File.Move(temporaryPath, path, overwrite: true);
    }

    private sealed record LoadedCertificate(X509Certificate2 Certificate, RegistryCertificateSource Source);
}

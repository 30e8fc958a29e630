using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dtr.AspNetCore.Management;
using Dtr.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tls;

/// <summary>The body of <c>PUT {prefix}/settings/certificate</c>: either the two PEM members or the PFX members.</summary>
/// <param name="CertificatePem">The PEM server certificate; the first certificate in the text is used.</param>
/// <param name="KeyPem">The unencrypted PEM private key of the certificate.</param>
/// <param name="PfxBase64">A PKCS#12 file with the certificate and its key, in base64.</param>
/// <param name="Password">The password of the PKCS#12 file, or null when it has none.</param>
public sealed record CertificateUploadRequest(string? CertificatePem, string? KeyPem, string? PfxBase64, string? Password);

/// <summary>
/// <c>GET|PUT {prefix}/settings/certificate</c>: reading and replacing the HTTPS certificate of this host. Only
/// system administrators may use them.
/// </summary>
internal sealed class CertificateEndpoints
{
    private readonly RegistryCertificateProvider _provider;
    private readonly TimeProvider _time;
    private readonly ILogger<CertificateEndpoints> _logger;

    public CertificateEndpoints(RegistryCertificateProvider provider, ILogger<CertificateEndpoints> logger, TimeProvider? time = null)
    {
        _provider = provider;
        _logger = logger;
        _time = time ?? TimeProvider.System;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var certificate = group.MapGroup("/settings/certificate").WithTags("Settings");

        certificate.MapGet("", ([FromServices] CertificateEndpoints e, HttpContext c) => e.Get(c))
            .WithName("GetCertificate")
            .WithSummary("Get the HTTPS certificate that this host presents, without its key (system administrators)")
            .Produces<CertificateDescription>();

        certificate.MapPut("", ([FromServices] CertificateEndpoints e, HttpContext c) => e.PutAsync(c))
            .WithName("PutCertificate")
            .WithSummary("Replace the HTTPS certificate of every host that shares the metadata database; the next TLS connection presents it (system administrators)")
            .Accepts<CertificateUploadRequest>(ManagementEndpoints.JsonContentType)
            .Produces<CertificateDescription>().ProducesValidationProblem();
    }

    private IResult Get(HttpContext context)
    {
        ManagementAccess.RequireAdmin(ManagementRequestFilter.GetCaller(context), "read the TLS certificate");
        return TypedResults.Ok(CertificateDescription.Of(_provider.Current, _provider.Source) with { HttpsAddresses = ReadHttpsAddresses(context) });
    }

    /// <summary>Returns the server's listening addresses that use HTTPS, or none when the server does not report them.</summary>
    private static List<string> ReadHttpsAddresses(HttpContext context)
    {
        var addresses = context.RequestServices.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        return addresses.Where(address => address.StartsWith("https://", StringComparison.OrdinalIgnoreCase)).ToList();
    }

    private async Task<IResult> PutAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "replace the TLS certificate");
        var request = await ManagementInput.ReadBodyAsync<CertificateUploadRequest>(context);

        var certificate = Parse(request);
        Validate(certificate, _time.GetUtcNow());

        // Stored in the metadata database first, so that a failed write changes nothing. Other hosts that share the
        // database apply it within their settings refresh interval, and this host also keeps it in its data folder.
        if (context.RequestServices.GetService<IKeyMaterialStore>() is { } store)
        {
            await store.SetKeyMaterialAsync(RegistryCertificateProvider.SharedKeyMaterialName, RegistryCertificateProvider.ExportPem(certificate), _time.GetUtcNow(), context.RequestAborted);
        }

        var path = _provider.Replace(certificate);
        TlsLog.CertificateReplaced(_logger, caller.UserName ?? "(anonymous)", certificate.Subject,
            CertificateDescription.ComputeSha256Thumbprint(certificate), certificate.NotAfter.ToUniversalTime(), path);
        return TypedResults.Ok(CertificateDescription.Of(certificate, RegistryCertificateSource.Uploaded) with { HttpsAddresses = ReadHttpsAddresses(context) });
    }

    private static X509Certificate2 Parse(CertificateUploadRequest request)
    {
        var hasPem = request.CertificatePem is not null || request.KeyPem is not null;
        var hasPfx = request.PfxBase64 is not null;
        if (hasPem == hasPfx)
        {
            throw ManagementProblem.Invalid("$", "Send either 'certificatePem' and 'keyPem', or 'pfxBase64' with an optional 'password'.");
        }

        return hasPem ? ParsePem(request) : ParsePfx(request);
    }

    private static X509Certificate2 ParsePem(CertificateUploadRequest request)
    {
        if (string.IsNullOrWhiteSpace(request.CertificatePem))
        {
            throw ManagementProblem.Invalid("$.certificatePem", "'certificatePem' is missing; send the certificate as PEM text.");
        }

        if (string.IsNullOrWhiteSpace(request.KeyPem))
        {
            throw ManagementProblem.Invalid("$.keyPem", "'keyPem' is missing; send the unencrypted private key as PEM text.");
        }

        X509Certificate2 publicCertificate;
        try
        {
            publicCertificate = X509Certificate2.CreateFromPem(request.CertificatePem);
        }
        catch (CryptographicException error)
        {
            throw ManagementProblem.Invalid("$.certificatePem", $"'certificatePem' is not a valid PEM certificate: {error.Message}");
        }

        using (publicCertificate)
        {
            return AttachKey(publicCertificate, request.KeyPem);
        }
    }

    private static X509Certificate2 AttachKey(X509Certificate2 certificate, string keyPem)
    {
        using var rsaPublic = certificate.GetRSAPublicKey();
        using var ecdsaPublic = rsaPublic is null ? certificate.GetECDsaPublicKey() : null;
        if (rsaPublic is null && ecdsaPublic is null)
        {
            throw ManagementProblem.Invalid("$.certificatePem", "The certificate's key is neither RSA nor ECDSA; only those are supported.");
        }

        // "BEGIN ENCRYPTED PRIVATE KEY" is encrypted PKCS#8, and a Proc-Type header marks OpenSSL's older encrypted
        // PKCS#1 and SEC1 files, which the PEM reader would otherwise report as containing no PEM at all.
        if (keyPem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal)
            || keyPem.Contains("Proc-Type: 4,ENCRYPTED", StringComparison.Ordinal))
        {
            throw ManagementProblem.Invalid(
                "$.keyPem",
                "'keyPem' is an encrypted private key, and the registry accepts only unencrypted keys. Decrypt it first, for example with 'openssl pkey -in server.key -out server-decrypted.key', and send the decrypted file.");
        }

        var isRsa = rsaPublic is not null;
        AsymmetricAlgorithm key = isRsa ? RSA.Create() : ECDsa.Create();
        using (key)
        {
            try
            {
                key.ImportFromPem(keyPem);
            }
            catch (Exception error) when (error is ArgumentException or CryptographicException)
            {
                var formats = isRsa
                    ? "PKCS#8 ('BEGIN PRIVATE KEY') or PKCS#1 ('BEGIN RSA PRIVATE KEY')"
                    : "PKCS#8 ('BEGIN PRIVATE KEY') or SEC1 ('BEGIN EC PRIVATE KEY')";
                throw ManagementProblem.Invalid(
                    "$.keyPem",
                    $"'keyPem' is not a valid {(isRsa ? "RSA" : "ECDSA")} private key: {error.Message} The certificate has an {(isRsa ? "RSA" : "ECDSA")} key, so send its unencrypted private key in PEM as {formats}.");
            }

            try
            {
                return key is RSA rsa ? certificate.CopyWithPrivateKey(rsa) : certificate.CopyWithPrivateKey((ECDsa)key);
            }
            catch (Exception error) when (error is ArgumentException or CryptographicException)
            {
                throw ManagementProblem.Invalid("$.keyPem", $"'keyPem' does not belong to the certificate: {error.Message}");
            }
        }
    }

    private static X509Certificate2 ParsePfx(CertificateUploadRequest request)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(request.PfxBase64!);
        }
        catch (FormatException)
        {
            throw ManagementProblem.Invalid("$.pfxBase64", "'pfxBase64' is not valid base64.");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12(bytes, request.Password, X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException error)
        {
            throw ManagementProblem.Invalid("$.pfxBase64", $"'pfxBase64' could not be read as PKCS#12 with the given password: {error.Message}");
        }

        if (!certificate.HasPrivateKey)
        {
            certificate.Dispose();
            throw ManagementProblem.Invalid("$.pfxBase64", "The PKCS#12 file contains no private key; export it with the key.");
        }

        if (certificate.GetRSAPublicKey() is null && certificate.GetECDsaPublicKey() is null)
        {
            certificate.Dispose();
            throw ManagementProblem.Invalid("$.pfxBase64", "The certificate's key is neither RSA nor ECDSA; only those are supported.");
        }

        return certificate;
    }

    private static void Validate(X509Certificate2 certificate, DateTimeOffset now)
    {
        var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
        var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero);
        if (notAfter <= now)
        {
            throw ManagementProblem.Invalid("$", $"The certificate expired at {notAfter:u}; send a certificate that is valid now.");
        }

        if (notBefore > now)
        {
            throw ManagementProblem.Invalid("$", $"The certificate is not valid before {notBefore:u}; send a certificate that is valid now.");
        }

        // A certificate without the extension may be used for any purpose (RFC 5280, section 4.2.1.12).
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        if (usages is not null && !usages.EnhancedKeyUsages.Cast<Oid>().Any(oid => oid.Value == CertificateDescription.ServerAuthenticationOid))
        {
            throw ManagementProblem.Invalid("$", "The certificate's extended key usage does not include TLS server authentication (1.3.6.1.5.5.7.3.1).");
        }
    }
}

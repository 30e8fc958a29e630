namespace Dtr.AspNetCore.Configuration;

/// <summary>
/// The HTTPS certificate of the registry (<c>Registry:Tls</c>). Configure either a PEM certificate and key or a PFX
/// file. With neither, <see cref="Tls.RegistryCertificateProvider"/> generates a self-signed certificate in the data
/// folder.
/// </summary>
public sealed class RegistryTlsOptions
{
    /// <summary>
    /// Whether a host that reads this option serves HTTPS with the registry's certificate. The sample host also turns
    /// HTTPS on when a certificate is configured. Default false.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>The PEM file of the server certificate, optionally followed by its intermediate certificates.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM file of the certificate's private key (PKCS#8, PKCS#1 or SEC1), unencrypted.</summary>
    public string? KeyPath { get; set; }

    /// <summary>A PKCS#12 (PFX) file with the certificate and its private key, used instead of the PEM files.</summary>
    public string? PfxPath { get; set; }

    /// <summary>The password of <see cref="PfxPath"/>, or null when it has none.</summary>
    public string? PfxPassword { get; set; }

    /// <summary>Whether a certificate file is configured.</summary>
    public bool HasConfiguredCertificate => !string.IsNullOrEmpty(CertificatePath) || !string.IsNullOrEmpty(PfxPath);
}

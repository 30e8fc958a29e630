using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dtr.AspNetCore.Tls;

/// <summary>The public facts of a certificate that the management API returns; never its key.</summary>
/// <param name="Subject">The subject distinguished name.</param>
/// <param name="SubjectAlternativeNames">The DNS names and IP addresses of the subject alternative name extension.</param>
/// <param name="Issuer">The issuer distinguished name.</param>
/// <param name="NotBefore">The start of the validity period, in UTC.</param>
/// <param name="NotAfter">The end of the validity period, in UTC.</param>
/// <param name="Sha256Thumbprint">The SHA-256 hash of the DER certificate, as lowercase hex.</param>
/// <param name="SelfSigned">Whether the issuer is the subject and the certificate's own key signed it.</param>
/// <param name="Source">Where the registry loaded it from: <c>configured</c>, <c>uploaded</c> or <c>generated</c>.</param>
public sealed record CertificateDescription(
    string Subject,
    IReadOnlyList<string> SubjectAlternativeNames,
    string Issuer,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string Sha256Thumbprint,
    bool SelfSigned,
    string Source)
{
    /// <summary>
    /// The <c>https://</c> addresses that this host listens on, where it presents the certificate. It is empty when the
    /// host serves plain HTTP only, although a proxy in front of it may still end TLS with a certificate of its own.
    /// </summary>
    public IReadOnlyList<string> HttpsAddresses { get; init; } = [];

    /// <summary>The object identifier of the TLS server authentication extended key usage (RFC 5280).</summary>
    internal const string ServerAuthenticationOid = "1.3.6.1.5.5.7.3.1";

    /// <summary>Describes <paramref name="certificate"/>.</summary>
    public static CertificateDescription Of(X509Certificate2 certificate, RegistryCertificateSource source)
    {
        var names = new List<string>();
        foreach (var extension in certificate.Extensions)
        {
            if (extension is X509SubjectAlternativeNameExtension alternativeNames)
            {
                names.AddRange(alternativeNames.EnumerateDnsNames());
                names.AddRange(alternativeNames.EnumerateIPAddresses().Select(address => address.ToString()));
            }
        }

        return new CertificateDescription(
            certificate.Subject,
            names,
            certificate.Issuer,
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero),
            ComputeSha256Thumbprint(certificate),
            IsSelfSigned(certificate),
            source.ToString().ToLowerInvariant());
    }

    /// <summary>Returns the SHA-256 hash of the DER certificate as lowercase hex.</summary>
    public static string ComputeSha256Thumbprint(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));

    private static bool IsSelfSigned(X509Certificate2 certificate)
    {
        if (!certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData))
        {
            return false;
        }

        // A chain built with the certificate as its own only trust anchor ends in it exactly when its key signed it.
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(certificate);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationFlags = X509VerificationFlags.IgnoreNotTimeValid;
        return chain.Build(certificate) && chain.ChainElements.Count == 1;
    }
}

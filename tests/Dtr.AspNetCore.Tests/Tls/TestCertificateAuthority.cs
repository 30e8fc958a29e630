using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>A throwaway certificate authority that issues client certificates for tests.</summary>
public sealed class TestCertificateAuthority : IDisposable
{
    /// <summary>The TLS client authentication extended key usage.</summary>
    public const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    /// <summary>The TLS server authentication extended key usage.</summary>
    public const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    public TestCertificateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        Certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddYears(5));
    }

    /// <summary>The authority's self-signed certificate with its key.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Writes the authority's certificate as PEM to <paramref name="path"/> and returns the path.</summary>
    public string WritePem(string path)
    {
        File.WriteAllText(path, Certificate.ExportCertificatePem() + "\n");
        return path;
    }

    /// <summary>
    /// Issues a certificate with subject <paramref name="subject"/>. The usage is TLS client authentication unless
    /// <paramref name="usages"/> lists others, and an empty array leaves the extension out.
    /// </summary>
    public X509Certificate2 Issue(
        string subject,
        string[]? usages = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        string? email = null,
        string? userPrincipalName = null,
        string? dnsName = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        usages ??= [ClientAuthentication];
        if (usages.Length > 0)
        {
            var oids = new OidCollection();
            foreach (var usage in usages)
            {
                oids.Add(new Oid(usage));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        }

        if (email is not null || userPrincipalName is not null || dnsName is not null)
        {
            request.CertificateExtensions.Add(BuildAlternativeNames(email, userPrincipalName, dnsName));
        }

        var start = notBefore ?? DateTimeOffset.UtcNow.AddMinutes(-5);
        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        using var issued = request.Create(Certificate, start, end, RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    public void Dispose() => Certificate.Dispose();

    /// <summary>Encodes a subject alternative name extension by hand, since the builder has no otherName for a UPN.</summary>
    private static X509Extension BuildAlternativeNames(string? email, string? userPrincipalName, string? dnsName)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            if (email is not null)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, email, new Asn1Tag(TagClass.ContextSpecific, 1));
            }

            if (userPrincipalName is not null)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    writer.WriteObjectIdentifier("1.3.6.1.4.1.311.20.2.3");
                    using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                    {
                        writer.WriteCharacterString(UniversalTagNumber.UTF8String, userPrincipalName);
                    }
                }
            }

            if (dnsName is not null)
            {
                writer.WriteCharacterString(UniversalTagNumber.IA5String, dnsName, new Asn1Tag(TagClass.ContextSpecific, 2));
            }
        }

        return new X509Extension("2.5.29.17", writer.Encode(), false);
    }
}

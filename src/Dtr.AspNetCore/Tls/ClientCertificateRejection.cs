using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Tls;

/// <summary>
/// A client certificate that authentication rejected during the current request, kept in the request's items so that
/// the audit hooks of <c>/v2</c>, the token endpoint and the management API can record it.
/// </summary>
/// <param name="UserName">
/// The registry user name of a certificate that passed its own checks and was rejected for its user's state, or null.
/// </param>
/// <param name="Detail">The reason, the certificate's subject and its SHA-256 thumbprint, for the audit entry.</param>
internal sealed record ClientCertificateRejection(string? UserName, string Detail)
{
    private static readonly object ItemKey = new();

    /// <summary>Stores the rejection of <paramref name="certificate"/> for the rest of the request.</summary>
    public static void Set(HttpContext context, X509Certificate2 certificate, string? userName, string reason)
    {
        var detail = $"client certificate rejected: {reason}; subject '{certificate.Subject}', SHA-256 {CertificateDescription.ComputeSha256Thumbprint(certificate)}";
        context.Items[ItemKey] = new ClientCertificateRejection(userName, detail);
    }

    /// <summary>Returns the rejection stored for the request, or null when no client certificate was rejected.</summary>
    public static ClientCertificateRejection? Get(HttpContext context) => context.Items[ItemKey] as ClientCertificateRejection;
}

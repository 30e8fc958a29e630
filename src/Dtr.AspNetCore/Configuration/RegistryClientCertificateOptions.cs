namespace Dtr.AspNetCore.Configuration;

/// <summary>
/// Sign-in with TLS client certificates (<c>Registry:ClientCertificates</c>). A client certificate that chains to one
/// of the trusted certificate authorities authenticates <c>/v2</c>, the token endpoint and the management API as the
/// registry user it maps to. Password and token sign-in keep working, because the server requests a certificate but
/// does not require one.
/// </summary>
public sealed class RegistryClientCertificateOptions
{
    /// <summary>
    /// Whether HTTPS endpoints configured through <c>UseRegistryCertificate()</c> request a client certificate and the
    /// registry accepts it as a credential. Default false.
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// PEM files whose certificates are the trusted roots for client certificates. A file may contain several
    /// certificates, and intermediate certificates in these files are used to build chains. The machine's root store
    /// is never consulted.
    /// </summary>
    public IList<string> TrustedCaPaths { get; set; } = [];

    /// <summary>Which field of a client certificate is the registry user name. Default <see cref="ClientCertificateUserNameSource.CommonName"/>.</summary>
    public ClientCertificateUserNameSource UserNameSource { get; set; } = ClientCertificateUserNameSource.CommonName;

    /// <summary>
    /// With <see cref="ClientCertificateUserNameSource.Email"/> or <see cref="ClientCertificateUserNameSource.UserPrincipalName"/>,
    /// the domain after <c>@</c> that the address must have, such as <c>example.com</c>, compared without regard to
    /// case. When null, any domain is accepted, so set it when the trusted authorities issue addresses of several
    /// domains.
    /// </summary>
    public string? RequiredDomain { get; set; }

    /// <summary>
    /// Whether the registry keeps its own client certificate authority and issues client bundles through
    /// <c>POST {prefix}/users/{user}/bundle</c>. The authority's key is generated once and kept in the metadata
    /// database, so every host that shares the database issues and accepts the same certificates. Needs
    /// <see cref="Enabled"/>. Default false.
    /// </summary>
    public bool IssueBundles { get; set; }

    /// <summary>How long a certificate issued in a client bundle is valid. Default 365 days, and 1 to 3650 days are allowed.</summary>
    public TimeSpan BundleValidity { get; set; } = TimeSpan.FromDays(365);
}

/// <summary>The field of a client certificate that names the registry user.</summary>
public enum ClientCertificateUserNameSource
{
    /// <summary>The common name (CN) of the subject, used as it is.</summary>
    CommonName,

    /// <summary>
    /// The first e-mail address (rfc822Name) in the subject alternative names, or else the subject's e-mail attribute.
    /// The part before <c>@</c>, in lowercase, is the user name.
    /// </summary>
    Email,

    /// <summary>
    /// The first Microsoft user principal name (UPN, OID 1.3.6.1.4.1.311.20.2.3) in the subject alternative names, as
    /// in Active Directory smart-card certificates. The part before <c>@</c>, in lowercase, is the user name.
    /// </summary>
    UserPrincipalName,

    /// <summary>The first DNS name in the subject alternative names, in lowercase, for machine identities such as build agents.</summary>
    DnsName,
}

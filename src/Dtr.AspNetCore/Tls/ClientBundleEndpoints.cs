using System.IO.Compression;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Management;
using Dtr.Identity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Tls;

/// <summary>
/// A client bundle: a new client certificate with its private key, and the certificates a client needs to trust the
/// registry. The key is returned once and never stored by the registry.
/// </summary>
/// <param name="UserName">The user the certificate names.</param>
/// <param name="ClientCertificatePem">The client certificate, as PEM (<c>client.cert</c> in the zip form).</param>
/// <param name="ClientKeyPem">The certificate's unencrypted PKCS#8 private key, as PEM (<c>client.key</c>).</param>
/// <param name="ServerCaPem">
/// The certificate that verifies the registry's HTTPS certificate (<c>ca.crt</c>): the HTTPS certificate itself when
/// it is self-signed, or null when a certificate authority issued it, because clients then trust that authority.
/// </param>
/// <param name="ClientCaPem">The registry's client certificate authority, which issued the client certificate (<c>client-ca.pem</c>).</param>
/// <param name="SerialNumber">The client certificate's serial number, as hex.</param>
/// <param name="Sha256Thumbprint">The SHA-256 hash of the DER client certificate, as lowercase hex.</param>
/// <param name="NotBefore">The start of the certificate's validity period, in UTC.</param>
/// <param name="NotAfter">The end of the certificate's validity period, in UTC.</param>
public sealed record ClientBundleResponse(
    string UserName,
    string ClientCertificatePem,
    string ClientKeyPem,
    string? ServerCaPem,
    string ClientCaPem,
    string SerialNumber,
    string Sha256Thumbprint,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter)
{
    /// <summary>Leaves the private key out, so that logging the record never writes it.</summary>
    public override string ToString() => $"ClientBundleResponse {{ UserName = {UserName}, SerialNumber = {SerialNumber}, NotAfter = {NotAfter:O} }}";
}

/// <summary>
/// <c>POST {prefix}/users/{user}/bundle</c>: issues a client certificate for the user, signed by the registry's
/// client certificate authority. The user themself or a system administrator may call it, signed in with a password
/// or the host's sign-in.
/// </summary>
internal sealed class ClientBundleEndpoints
{
    /// <summary>The media type of the zip form of a bundle.</summary>
    public const string ZipContentType = "application/zip";

    /// <summary>The file names in the zip form, laid out for a Docker, podman or skopeo certificate folder.</summary>
    public const string ClientCertificateFileName = "client.cert";

    /// <inheritdoc cref="ClientCertificateFileName"/>
    public const string ClientKeyFileName = "client.key";

    /// <inheritdoc cref="ClientCertificateFileName"/>
    public const string ServerCaFileName = "ca.crt";

    /// <summary>
    /// The file name of the client authority. It does not end in <c>.crt</c>, because Docker and podman trust every
    /// <c>.crt</c> file of a certificate folder as an authority for the server's certificate (Docker's "Verify
    /// repository client with certificates" page, containers-certs.d(5)).
    /// </summary>
    public const string ClientCaFileName = "client-ca.pem";

    private readonly RegistryOptions _options;
    private readonly ClientCertificateAuthority _authority;
    private readonly RegistryCertificateProvider _serverCertificate;
    private readonly IIdentityStore _identity;
    private readonly ILogger<ClientBundleEndpoints> _logger;

    public ClientBundleEndpoints(
        IOptions<RegistryOptions> options,
        ClientCertificateAuthority authority,
        RegistryCertificateProvider serverCertificate,
        IIdentityStore identity,
        ILogger<ClientBundleEndpoints> logger)
    {
        _options = options.Value;
        _authority = authority;
        _serverCertificate = serverCertificate;
        _identity = identity;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapPost("/users/{user}/bundle", ([FromServices] ClientBundleEndpoints e, HttpContext c, string user) => e.IssueAsync(c, user))
            .WithTags("Users")
            .WithName("CreateClientBundle")
            .WithSummary("Issue a client certificate and key for the user, as a zip for a certificate folder or as JSON with Accept: application/json (the user or system administrators)")
            .Produces(StatusCodes.Status200OK, contentType: ZipContentType)
            .Produces<ClientBundleResponse>(StatusCodes.Status200OK, ManagementEndpoints.JsonContentType)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    private async Task<IResult> IssueAsync(HttpContext context, string userName)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireSelfOrAdmin(caller, userName, "issue a client bundle for this user");
        if (!ClientCertificateAuthority.IsEnabled(_options))
        {
            throw ManagementProblem.NotFound(
                "Client bundles are disabled on this registry. Set Registry:ClientCertificates:Enabled and Registry:ClientCertificates:IssueBundles to true to enable them.");
        }

        // A bundle is lasting access, so a short-lived bearer token or a leaked personal access token must not mint one.
        ManagementAccess.RequirePasswordSignIn(context, "issue a client bundle");
        var user = await _identity.GetUserAsync(userName, context.RequestAborted)
            ?? throw ManagementProblem.NotFound($"The user '{userName}' does not exist.");
        if (!user.IsActive)
        {
            throw ManagementProblem.Conflict($"The user '{userName}' is inactive, so a certificate for it would be rejected; activate the user first.");
        }

        var clientCa = await _authority.GetCertificateAsync(context.RequestAborted);
        using var certificate = await _authority.IssueAsync(user.Name, user.CreatedAt, _options.ClientCertificates.BundleValidity, context.RequestAborted);
        var bundle = CreateResponse(user.Name, certificate, clientCa, ServerCaPem());
        TlsLog.ClientBundleIssued(_logger, user.Name, caller.UserName ?? "(anonymous)", bundle.SerialNumber, bundle.Sha256Thumbprint, bundle.NotAfter.UtcDateTime);

        context.Response.Headers.CacheControl = "no-store";
        if (WantsJson(context.Request))
        {
            return TypedResults.Ok(bundle);
        }

        return TypedResults.File(CreateZip(bundle), ZipContentType, $"{user.Name}-client-bundle.zip");
    }

    private static ClientBundleResponse CreateResponse(string userName, X509Certificate2 certificate, X509Certificate2 clientCa, string? serverCaPem)
    {
        using var key = certificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException("The issued client certificate has no ECDSA private key.");
        return new ClientBundleResponse(
            userName,
            certificate.ExportCertificatePem() + "\n",
            key.ExportPkcs8PrivateKeyPem() + "\n",
            serverCaPem,
            clientCa.ExportCertificatePem() + "\n",
            certificate.SerialNumber.ToLowerInvariant(),
            CertificateDescription.ComputeSha256Thumbprint(certificate),
            new DateTimeOffset(certificate.NotBefore.ToUniversalTime(), TimeSpan.Zero),
            new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero));
    }

    /// <summary>
    /// Returns the registry's HTTPS certificate as PEM when it is self-signed, which is then what clients must trust,
    /// or null when an authority issued it.
    /// </summary>
    /// <remarks>
    /// NOTE: a host that terminates TLS somewhere else than in this process still gets the certificate of
    /// <see cref="RegistryCertificateProvider"/>, which then is not the one clients see.
    /// </remarks>
    private string? ServerCaPem()
    {
        var server = _serverCertificate.Current;
        return CertificateDescription.Of(server, _serverCertificate.Source).SelfSigned ? server.ExportCertificatePem() + "\n" : null;
    }

    private static bool WantsJson(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(value =>
            value.MediaType.Equals(ManagementEndpoints.JsonContentType, StringComparison.OrdinalIgnoreCase));

    /// <summary>Packs the bundle as a zip whose files have owner-only permissions on Unix when extracted.</summary>
    private static byte[] CreateZip(ClientBundleResponse bundle)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            AddEntry(zip, ClientCertificateFileName, bundle.ClientCertificatePem);
            AddEntry(zip, ClientKeyFileName, bundle.ClientKeyPem);
            if (bundle.ServerCaPem is not null)
            {
                AddEntry(zip, ServerCaFileName, bundle.ServerCaPem);
            }

            AddEntry(zip, ClientCaFileName, bundle.ClientCaPem);
        }

        return buffer.ToArray();
    }

    private static void AddEntry(ZipArchive zip, string name, string content)
    {
        var entry = zip.CreateEntry(name, CompressionLevel.Optimal);

        // The upper 16 bits hold the Unix file type and mode: a regular file (0100000) readable and writable by the owner (0600).
        entry.ExternalAttributes = Convert.ToInt32("100600", 8) << 16;
        using var stream = entry.Open();
        stream.Write(Encoding.ASCII.GetBytes(content));
    }
}

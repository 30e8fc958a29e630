using System.Security.Cryptography.X509Certificates;
using Dtr.AspNetCore.Tests.Management;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>
/// One HTTPS host with client certificates enabled, shared by the tests of a class: it trusts
/// <see cref="TrustedAuthority"/> and issues client bundles with its own authority. Tests use users of their own.
/// </summary>
public sealed class ClientCertificateHost : IAsyncLifetime
{
    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "dtr-client-cert-tests-" + Guid.NewGuid().ToString("N"));
    private HttpsRegistryFactory? _factory;

    /// <summary>The enterprise authority that the host trusts through Registry:ClientCertificates:TrustedCaPaths.</summary>
    public TestCertificateAuthority TrustedAuthority { get; } = new("Test enterprise CA");

    /// <summary>The host's https:// address.</summary>
    public Uri Address { get; private set; } = null!;

    /// <summary>The administrator, signed in with a password.</summary>
    public ManagementClient Admin { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataDirectory);
        var trustedPath = TrustedAuthority.WritePem(Path.Combine(_dataDirectory, "trusted-ca.pem"));
        _factory = new HttpsRegistryFactory(_dataDirectory, new Dictionary<string, string?>
        {
            ["Registry:ClientCertificates:Enabled"] = "true",
            ["Registry:ClientCertificates:IssueBundles"] = "true",
            ["Registry:ClientCertificates:TrustedCaPaths:0"] = trustedPath,
        });
        Address = _factory.StartAndGetAddress();
        Admin = new ManagementClient(CreateClient(), ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Admin.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        TrustedAuthority.Dispose();
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Returns a client of the host that accepts its certificate and presents <paramref name="clientCertificate"/>
    /// when it is given. Each client has its own connections, so its certificate is the one the server receives.
    /// </summary>
    public HttpClient CreateClient(X509Certificate2? clientCertificate = null)
    {
        // The selection callback hands over the certificate as it is. Without it, .NET leaves out a certificate whose
        // extended key usage lacks TLS client authentication, and the server would never see it.
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        if (clientCertificate is not null)
        {
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }

        return new HttpClient(handler) { BaseAddress = Address };
    }

    /// <summary>Returns a management API client that authenticates with <paramref name="clientCertificate"/> only.</summary>
    public ManagementClient CreateCertificateClient(X509Certificate2 clientCertificate) =>
        new(CreateClient(clientCertificate), null, null);
}

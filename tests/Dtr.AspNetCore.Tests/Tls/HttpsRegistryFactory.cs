using Dtr.AspNetCore.Tests.Management;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>
/// The sample host on a real Kestrel server that serves HTTPS on a free loopback port with the registry's
/// certificate, and with authentication on. It leaves its data folder in place when disposed, so that a second factory
/// can start on the same folder as a restart would. The test deletes the folder.
/// </summary>
public sealed class HttpsRegistryFactory : WebApplicationFactory<Program>
{
    /// <param name="dataDirectory">The data folder, which may already contain a previous host's files.</param>
    /// <param name="settings">Further host settings, such as <c>Registry:Tls:CertificatePath</c>.</param>
    public HttpsRegistryFactory(string dataDirectory, IReadOnlyDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory;
        _settings = settings ?? new Dictionary<string, string?>();
        UseKestrel();
    }

    private readonly IReadOnlyDictionary<string, string?> _settings;

    /// <summary>The registry's data folder.</summary>
    public string DataDirectory { get; }

    /// <summary>Starts the server and returns the https:// address that Kestrel bound.</summary>
    public Uri StartAndGetAddress()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel reported no listening address.");
        return new Uri(address);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("urls", "https://127.0.0.1:0");
        builder.UseSetting("Registry:DataDirectory", DataDirectory);
        builder.UseSetting("Registry:Tls:Enabled", "true");
        builder.UseSetting("Registry:Auth:Enabled", "true");
        builder.UseSetting("Registry:Admin:Password", ManagementFactory.AdminPassword);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

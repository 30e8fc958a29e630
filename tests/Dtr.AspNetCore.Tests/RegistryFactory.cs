using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests;

/// <summary>
/// Starts the sample host in memory with its data folder in a fresh temporary folder, which is deleted when the
/// factory is disposed. Authentication is off, because these suites test the distribution API itself; set
/// <c>Registry:Auth:Enabled</c> in <see cref="Settings"/> to turn it on.
/// </summary>
public class RegistryFactory : WebApplicationFactory<Program>
{
    private int _deleted;

    public RegistryFactory()
        : this(Path.Combine(Path.GetTempPath(), "dtr-api-tests-" + Guid.NewGuid().ToString("N")))
    {
    }

    /// <summary>
    /// Creates a host on the given data folder, which several factories may share. Protected, because xUnit needs a
    /// class fixture to have one public constructor.
    /// </summary>
    protected RegistryFactory(string dataDirectory)
    {
        DataDirectory = dataDirectory;
    }

    /// <summary>Configuration keys such as <c>Registry:DeleteEnabled</c>, applied after the data folder.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; init; } = new Dictionary<string, string?>();

    /// <summary>The registry's data folder; it does not exist until the host starts.</summary>
    public string DataDirectory { get; }

    /// <summary>Creates a client for the registry's API.</summary>
    public virtual RegistryClient CreateRegistryClient() => new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Registry:DataDirectory", DataDirectory);
        builder.UseSetting("Registry:Auth:Enabled", "false");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        DeleteDataDirectory();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        DeleteDataDirectory();
        GC.SuppressFinalize(this);
    }

    private void DeleteDataDirectory()
    {
        if (Interlocked.Exchange(ref _deleted, 1) == 1 || !Directory.Exists(DataDirectory))
        {
            return;
        }

        Directory.Delete(DataDirectory, recursive: true);
    }
}

/// <summary>
/// A registry host on a real Kestrel server bound to a free loopback port, for tests that depend on Kestrel's own
/// request handling: its default 30 MB body limit and chunked transfer encoding.
/// </summary>
public class KestrelRegistryFactory : RegistryFactory
{
    public KestrelRegistryFactory()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <param name="settings">Host settings beside the loopback address, such as registry options.</param>
    protected KestrelRegistryFactory(Dictionary<string, string?> settings)
    {
        Settings = new Dictionary<string, string?>(settings) { ["urls"] = "http://127.0.0.1:0" };
        UseKestrel(0);
    }

    /// <summary>Starts the server and creates a client for the address Kestrel bound.</summary>
    public override RegistryClient CreateRegistryClient()
    {
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var address = addresses.FirstOrDefault() ?? throw new InvalidOperationException("Kestrel reported no listening address.");
        return new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri(address) }));
    }
}

using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.AzureBlob.Tests.Support;

/// <summary>
/// The registry on Kestrel at a free 127.0.0.1 port, with the Azure Blob store, SQLite metadata in a temporary folder,
/// and authentication off. Disposing it stops the server and deletes the folder.
/// </summary>
internal sealed class RegistryHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _dataDirectory;

    private RegistryHost(WebApplication app, string dataDirectory, Uri baseAddress)
    {
        _app = app;
        _dataDirectory = dataDirectory;
        BaseAddress = baseAddress;
    }

    /// <summary>The registry's address, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>Starts a registry host, or removes it again and rethrows when it fails to start.</summary>
    /// <param name="configureStore">Sets the Azure Blob store's options in <c>AddAzureBlobStorage</c>.</param>
    public static async Task<RegistryHost> StartAsync(Action<AzureBlobStorageOptions> configureStore)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dtr-azure-registry-").FullName;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = dataDirectory,
            ["Registry:Auth:Enabled"] = "false",
        });
        builder.Services.AddDockerRegistry(builder.Configuration.GetSection("Registry"))
            .AddAzureBlobStorage(configureStore);

        var app = builder.Build();
        app.MapRegistry();
        app.MapRegistryHealthChecks();
        try
        {
            await app.StartAsync();
        }
        catch
        {
            // A host that failed to start is not returned, so nothing else would remove it or its folder.
            await app.DisposeAsync();
            Directory.Delete(dataDirectory, recursive: true);
            throw;
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
            ?? throw new InvalidOperationException("Kestrel reported no listening address.");
        return new RegistryHost(app, dataDirectory, new Uri(address + "/"));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

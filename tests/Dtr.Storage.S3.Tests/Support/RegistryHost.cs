using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Storage.S3.Tests.Support;

/// <summary>
/// The registry on Kestrel at a free 127.0.0.1 port, with the S3 store, SQLite metadata in a temporary folder, and
/// authentication off. Disposing it stops the server and deletes the folder.
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

    /// <summary>The host's services.</summary>
    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a registry host, or removes it again and rethrows when it fails to start.</summary>
    /// <param name="s3Options">The S3 store's options, copied into <c>AddS3Storage</c>.</param>
    /// <param name="settings">More configuration keys, such as <c>Registry:RedirectBlobDownloads</c>.</param>
    /// <param name="configureServices">Runs before the registry is added, so a service registered here wins over the registry's TryAdd registrations.</param>
    public static async Task<RegistryHost> StartAsync(
        S3StorageOptions s3Options,
        IReadOnlyDictionary<string, string?> settings,
        Action<IServiceCollection>? configureServices = null)
    {
        var dataDirectory = Directory.CreateTempSubdirectory("dtr-s3-registry-").FullName;
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();

        var configuration = new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = dataDirectory,
            ["Registry:Auth:Enabled"] = "false",
        };
        foreach (var (key, value) in settings)
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        configureServices?.Invoke(builder.Services);
        builder.Services.AddDockerRegistry(builder.Configuration.GetSection("Registry"))
            .AddS3Storage(options => CopyOptions(s3Options, options));

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

    private static void CopyOptions(S3StorageOptions source, S3StorageOptions target)
    {
        target.ServiceUrl = source.ServiceUrl;
        target.PublicServiceUrl = source.PublicServiceUrl;
        target.Region = source.Region;
        target.Bucket = source.Bucket;
        target.Prefix = source.Prefix;
        target.ForcePathStyle = source.ForcePathStyle;
        target.AccessKey = source.AccessKey;
        target.SecretKey = source.SecretKey;
        target.UseChunkEncoding = source.UseChunkEncoding;
        target.PartSizeBytes = source.PartSizeBytes;
        target.Resilience = source.Resilience;
    }
}

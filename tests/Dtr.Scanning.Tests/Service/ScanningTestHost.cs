using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning.Service;
using Dtr.Scanning.Vulnerabilities;
using Dtr.Storage;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Scanning.Tests.Service;

/// <summary>
/// The scanning service on the real SQLite metadata store and filesystem blob store in a temporary folder. Several
/// hosts may share one folder, as registry hosts share one store.
/// </summary>
internal sealed class ScanningTestHost : IAsyncDisposable
{
    private ScanningTestHost(ServiceProvider services, string folder, bool ownsFolder)
    {
        Services = services;
        Folder = folder;
        _ownsFolder = ownsFolder;
    }

    private readonly bool _ownsFolder;

    public ServiceProvider Services { get; }

    public string Folder { get; }

    public IMetadataStore Metadata => Services.GetRequiredService<IMetadataStore>();

    public IScanStore Store => Services.GetRequiredService<IScanStore>();

    public IBlobStore Blobs => Services.GetRequiredService<IBlobStore>();

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Starts a host on a new temporary folder, or on <paramref name="folder"/> to share another host's store.</summary>
    public static async Task<ScanningTestHost> StartAsync(
        Action<ScanningOptions>? configure = null,
        string? folder = null,
        TimeProvider? time = null,
        Action<IServiceCollection>? services = null)
    {
        var ownsFolder = folder is null;
        folder ??= Directory.CreateTempSubdirectory("dtr-scanning-").FullName;
        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug));
        if (time is not null)
        {
            collection.AddSingleton(time);
        }

        var builder = new TestRegistryBuilder(collection);
        builder.AddSqliteMetadata(options => options.DatabasePath = Path.Combine(folder, "registry.db"));
        builder.AddFileSystemStorage(options => options.RootDirectory = folder);

        var scanning = new ScanningOptions { SpoolDirectory = Path.Combine(folder, "spool") };
        configure?.Invoke(scanning);
        collection.AddSingleton(Options.Create(scanning));
        collection.AddSingleton<IOptionsMonitor<ScanningOptions>>(new Dtr.Tests.Shared.TestOptionsMonitor<ScanningOptions>(scanning));
        ScanningServices.Add(collection);
        services?.Invoke(collection);

        var provider = collection.BuildServiceProvider();
        await provider.GetRequiredService<IMetadataStore>().MigrateAsync();
        return new ScanningTestHost(provider, folder, ownsFolder);
    }

    /// <summary>Stores a blob and links it into the repository.</summary>
    public async Task<Digest> PutBlobAsync(RepositoryName repository, byte[] content)
    {
        var digest = Digest.Compute(content);
        var uploadId = Guid.NewGuid().ToString("N");
        await Blobs.CreateUploadAsync(uploadId);
        await using (var writer = await Blobs.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await Blobs.CommitUploadAsync(uploadId, digest);
        await Metadata.LinkBlobAsync(repository, digest, content.Length);
        return digest;
    }

    /// <summary>Stores a manifest, optionally tagged.</summary>
    public async Task<Digest> PutManifestAsync(RepositoryName repository, byte[] content, params string[] tags)
    {
        var parsed = ManifestParser.Parse(content, null);
        var digest = Digest.Compute(content);
        var result = await Metadata.PutManifestAsync(new ManifestWrite
        {
            Repository = repository,
            Digest = digest,
            Content = content,
            Manifest = parsed,
            Tags = tags,
        });
        Assert.True(result.Stored, $"The manifest {digest} was not stored.");
        return digest;
    }

    /// <summary>Pushes an image whose layers are <paramref name="layers"/>, and returns its manifest's digest.</summary>
    public async Task<(Digest Manifest, byte[] Content)> PushImageAsync(RepositoryName repository, byte[] config, params byte[][] layers)
    {
        await PutBlobAsync(repository, config);
        foreach (var layer in layers)
        {
            await PutBlobAsync(repository, layer);
        }

        var manifest = TestArtifacts.ImageManifest(config, layers);
        return (await PutManifestAsync(repository, manifest), manifest);
    }

    /// <summary>Imports an OSV archive as a source.</summary>
    public async Task<ImportResult> ImportAsync(string source, byte[] archive)
    {
        using var stream = new MemoryStream(archive);
        return await Get<IVulnerabilityDatabase>().ImportAsync(source, stream, new VulnerabilitySourceUpdate(0, DateTimeOffset.UtcNow));
    }

    public async ValueTask DisposeAsync()
    {
        var connectionString = $"Data Source={Path.Combine(Folder, "registry.db")}";
        await Services.DisposeAsync();
        using (var connection = new SqliteConnection(connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        SqliteConnection.ClearAllPools();
        if (_ownsFolder)
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

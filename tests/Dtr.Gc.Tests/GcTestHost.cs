using System.Text;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Dtr.Gc.Tests;

/// <summary>
/// Garbage collection on the real SQLite metadata store and filesystem blob store in a temporary folder, on a fake
/// clock that starts two days after the real time, so files written by the test are older than any cutoff. Several
/// hosts may share one folder and clock, as registry hosts share one store.
/// </summary>
internal sealed class GcTestHost : IAsyncDisposable
{
    private readonly bool _ownsFolder;

    private GcTestHost(ServiceProvider services, string folder, FakeTimeProvider time, GarbageCollectionOptions options, bool ownsFolder)
    {
        Services = services;
        Folder = folder;
        Time = time;
        Options = options;
        _ownsFolder = ownsFolder;
    }

    public ServiceProvider Services { get; }

    public string Folder { get; }

    public FakeTimeProvider Time { get; }

    public GarbageCollectionOptions Options { get; }

    public IMetadataStore Metadata => Services.GetRequiredService<IMetadataStore>();

    public IGarbageCollectionStore Store => Services.GetRequiredService<IGarbageCollectionStore>();

    public ILeaseStore Leases => Services.GetRequiredService<ILeaseStore>();

    public IBlobStore Blobs => Services.GetRequiredService<IBlobStore>();

    public GarbageCollector Collector => Services.GetRequiredService<GarbageCollector>();

    /// <summary>Starts a host on a new temporary folder, or on <paramref name="folder"/> with <paramref name="time"/> to share another host's store.</summary>
    public static async Task<GcTestHost> StartAsync(Action<GarbageCollectionOptions>? configure = null, string? folder = null, FakeTimeProvider? time = null)
    {
        var ownsFolder = folder is null;
        folder ??= Directory.CreateTempSubdirectory("dtr-gc-").FullName;
        // Whole seconds, because the store keeps milliseconds and tests compare stored times with the clock.
        time ??= new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(DateTimeOffset.UtcNow.AddDays(2).ToUnixTimeSeconds()));

        var collection = new ServiceCollection();
        collection.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Debug));
        collection.AddSingleton<TimeProvider>(time);
        var builder = new TestRegistryBuilder(collection);
        builder.AddSqliteMetadata(options => options.DatabasePath = Path.Combine(folder, "registry.db"));
        builder.AddFileSystemStorage(options => options.RootDirectory = folder);
        if (collection.All(service => service.ServiceType != typeof(IGarbageCollectionStore)))
        {
            collection.AddSingleton(provider => (IGarbageCollectionStore)provider.GetRequiredService<IMetadataStore>());
        }

        var options = new GarbageCollectionOptions { BatchSize = 3, DeleteConcurrency = 2 };
        configure?.Invoke(options);
        collection.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        collection.AddSingleton<IOptionsMonitor<GarbageCollectionOptions>>(new Dtr.Tests.Shared.TestOptionsMonitor<GarbageCollectionOptions>(options));
        GarbageCollectionServices.Add(collection);

        var provider = collection.BuildServiceProvider();
        await provider.GetRequiredService<IMetadataStore>().MigrateAsync();
        return new GcTestHost(provider, folder, time, options, ownsFolder);
    }

    /// <summary>Creates a collector of this host that reaches the blob store through <paramref name="blobs"/>.</summary>
    public GarbageCollector CreateCollector(IBlobStore blobs) => new(
        Store,
        Metadata,
        Leases,
        blobs,
        Time,
        Services.GetRequiredService<IOptions<GarbageCollectionOptions>>(),
        Services.GetRequiredService<GarbageCollectionMetrics>(),
        Services.GetRequiredService<ILogger<GarbageCollector>>());

    /// <summary>Moves the clock past the grace period, so everything stored so far is older than the next run's cutoff.</summary>
    public void PassGracePeriod() => Time.Advance(Options.GracePeriod + TimeSpan.FromMinutes(1));

    /// <summary>Stores a blob's bytes without linking it anywhere.</summary>
    public async Task<Digest> StoreBlobAsync(byte[] content)
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
        return digest;
    }

    /// <summary>Stores a blob and links it into the repository.</summary>
    public async Task<Digest> PutBlobAsync(RepositoryName repository, byte[] content)
    {
        var digest = await StoreBlobAsync(content);
        await Metadata.LinkBlobAsync(repository, digest, content.Length);
        return digest;
    }

    /// <summary>Stores a manifest, optionally tagged.</summary>
    public async Task<Digest> PutManifestAsync(RepositoryName repository, byte[] content, params string[] tags)
    {
        var digest = Digest.Compute(content);
        var result = await Metadata.PutManifestAsync(new ManifestWrite
        {
            Repository = repository,
            Digest = digest,
            Content = content,
            Manifest = ManifestParser.Parse(content, null),
            Tags = tags,
        });
        Assert.True(result.Stored, $"The manifest {digest} was not stored.");
        return digest;
    }

    /// <summary>Pushes an image: its config and layers as linked blobs, then its manifest.</summary>
    public async Task<Image> PushImageAsync(RepositoryName repository, byte[] config, byte[][] layers, params string[] tags)
    {
        await PutBlobAsync(repository, config);
        foreach (var layer in layers)
        {
            await PutBlobAsync(repository, layer);
        }

        var manifest = ImageManifest(config, layers);
        return new Image(await PutManifestAsync(repository, manifest, tags), manifest);
    }

    /// <summary>Pushes an artifact whose subject is <paramref name="subject"/>, with one layer.</summary>
    public async Task<Image> PushReferrerAsync(RepositoryName repository, Image subject, byte[] layer)
    {
        var config = "{}"u8.ToArray();
        await PutBlobAsync(repository, config);
        await PutBlobAsync(repository, layer);
        var manifest = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            artifactType = "application/vnd.example.signature",
            config = new { mediaType = MediaTypes.OciEmpty, digest = Digest.Compute(config).Value, size = config.Length },
            layers = new[] { new { mediaType = "application/vnd.example.signature.v1", digest = Digest.Compute(layer).Value, size = layer.Length } },
            subject = new { mediaType = MediaTypes.OciManifest, digest = subject.Digest.Value, size = subject.Content.Length },
        }));
        return new Image(await PutManifestAsync(repository, manifest), manifest);
    }

    /// <summary>Pushes an index of already pushed images.</summary>
    public async Task<Image> PushIndexAsync(RepositoryName repository, Image[] children, params string[] tags)
    {
        var index = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciIndex,
            manifests = children.Select(child => new
            {
                mediaType = MediaTypes.OciManifest,
                digest = child.Digest.Value,
                size = child.Content.Length,
            }).ToArray(),
        }));
        return new Image(await PutManifestAsync(repository, index, tags), index);
    }

    public static byte[] ImageManifest(byte[] config, IReadOnlyList<byte[]> layers) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = MediaTypes.OciConfig, digest = Digest.Compute(config).Value, size = config.Length },
            layers = layers.Select(layer => new { mediaType = MediaTypes.OciLayerGzip, digest = Digest.Compute(layer).Value, size = layer.Length }).ToArray(),
        }));

    /// <summary>Returns distinct content, so tests never share blobs by accident.</summary>
    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes($"{text} {Guid.NewGuid():N}");

    /// <summary>Returns the digests of every blob in the blob store, in ordinal order.</summary>
    public async Task<List<string>> ListBlobsAsync()
    {
        var digests = new List<string>();
        await foreach (var blob in Blobs.ListAsync())
        {
            digests.Add(blob.Digest.Value);
        }

        digests.Sort(StringComparer.Ordinal);
        return digests;
    }

    /// <summary>Returns every repository's contents as text, for comparing the metadata before and after a run.</summary>
    public async Task<string> DescribeMetadataAsync()
    {
        var text = new StringBuilder();
        foreach (var repository in await Store.ListAllRepositoriesAsync(null, 1000))
        {
            var contents = await Store.GetRepositoryContentsAsync(repository);
            text.AppendLine(JsonSerializer.Serialize(contents));
        }

        return text.ToString();
    }

    /// <summary>Waits, in real time, until the run has ended, and returns its record.</summary>
    public async Task<GarbageCollectionRun> WaitForEndAsync(string runId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var run = await Store.GetRunAsync(runId);
            Assert.NotNull(run);
            if (run.Status != GarbageCollectionStatus.Running || DateTime.UtcNow > deadline)
            {
                return run;
            }

            await Task.Delay(20);
        }
    }

    public async Task<List<GarbageCollectionItem>> ListItemsAsync(string runId) =>
        [.. await Store.ListRunItemsAsync(runId, 0, 100_000)];

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        if (_ownsFolder)
        {
            try
            {
                Directory.Delete(Folder, recursive: true);
            }
            catch (IOException)
            {
                // A second host on the folder may still have the database open.
            }
        }
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

/// <summary>A pushed manifest: its digest and bytes.</summary>
internal sealed record Image(Digest Digest, byte[] Content);

/// <summary>
/// The filesystem blob store with hooks for tests. One runs before each listing, so a test can stop a run at a known
/// point or move the clock while the run goes on. The other runs before each blob delete and may throw to fail it.
/// </summary>
internal sealed class HookedBlobStore(IBlobStore inner, Func<CancellationToken, Task> beforeList, Action<Digest>? beforeDelete = null) : IBlobStore
{
    public ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default) => inner.StatAsync(digest, cancellationToken);

    public ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default) => inner.OpenReadAsync(digest, offset, cancellationToken);

    public ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        beforeDelete?.Invoke(digest);
        return inner.DeleteAsync(digest, cancellationToken);
    }

    public async IAsyncEnumerable<BlobInfo> ListAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await beforeList(cancellationToken);
        await foreach (var blob in inner.ListAsync(cancellationToken))
        {
            yield return blob;
        }
    }

    public ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default) => inner.CreateUploadAsync(uploadId, cancellationToken);

    public ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default) => inner.GetUploadLengthAsync(uploadId, cancellationToken);

    public ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default) => inner.OpenUploadWriterAsync(uploadId, cancellationToken);

    public ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default) => inner.OpenUploadReaderAsync(uploadId, cancellationToken);

    public ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default) => inner.CommitUploadAsync(uploadId, digest, cancellationToken);

    public ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default) => inner.DeleteUploadAsync(uploadId, cancellationToken);
}

using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Service;
using Dtr.Scanning.Vulnerabilities;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Benchmarks;

/// <summary>
/// Runs the scanning service on the embedded default (filesystem blobs, SQLite metadata in a temp folder): a full scan
/// of an image with one large layer, and the re-match of <see cref="StoredImages"/> stored scans after a database
/// update.
/// </summary>
/// <remarks>
/// The layer contains <see cref="LayerMiB"/> MiB of random data in 1 MiB files, 2,000 small files and this machine's
/// <c>/var/lib/dpkg/status</c>; the setup prints its compressed size, so layer MB/s is that size divided by the mean
/// time. Each scan invocation uses a new analyzer version, so the stored layer analysis is never reused and the blob
/// is read, decompressed and analysed every time. The database contains three generated records for every source
/// package of the dpkg status (one fixed below, one above and one at the installed version) plus
/// <see cref="NoiseRecords"/> records for other packages. Before each re-match invocation a one-record source is
/// imported, which raises the database version so that every stored scan is matched again.
/// </remarks>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class ScanBenchmarks
{
    private const int FileBytes = 1024 * 1024;
    private const int NoiseRecords = 20_000;
    private const string LayerMediaType = "application/vnd.oci.image.layer.v1.tar+gzip";

    private static readonly RepositoryName Repository = RepositoryName.Parse("bench/scan");

    private string _root = "";
    private ServiceProvider _services = null!;
    private ImageScanner _scanner = null!;
    private VulnerabilityRematcher _rematcher = null!;
    private IVulnerabilityDatabase _database = null!;
    private VersionedAnalyzer _analyzer = null!;
    private Digest _manifest;
    private int _bumps;

    /// <summary>The size of the random file data in the scanned layer, in MiB.</summary>
    [Params(256)]
    public int LayerMiB { get; set; }

    /// <summary>The number of stored scans that each re-match rewrites.</summary>
    [Params(1000)]
    public int StoredImages { get; set; }

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup()
    {
        _services.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    [Benchmark(Description = "scan image (layer read + analysis + match)")]
    public async Task<int> ScanImage()
    {
        _analyzer.NextVersion();
        return await _scanner.ScanAsync(Repository, _manifest, CancellationToken.None);
    }

    [IterationSetup(Target = nameof(RematchStoredImages))]
    public void RaiseDatabaseVersion()
    {
        _bumps++;
        var record = OsvRecord($"BENCH-BUMP-{_bumps}", "bench-bump-package", "1.0-1");
        using var archive = Zip([("bump.json", record)]);
        _database.ImportAsync("bench-bump", archive, new VulnerabilitySourceUpdate(0, DateTimeOffset.UtcNow)).AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "re-match stored scans after a database update")]
    public async Task<int> RematchStoredImages()
    {
        var count = await _rematcher.RunOnceAsync(CancellationToken.None);
        if (count != StoredImages)
        {
            throw new InvalidOperationException($"The re-match rewrote {count} scans, expected {StoredImages}.");
        }

        return count;
    }

    private async Task SetupAsync()
    {
        _root = Path.Combine(Path.GetTempPath(), "dtr-scan-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);

        var status = File.Exists("/var/lib/dpkg/status") ? File.ReadAllBytes("/var/lib/dpkg/status") : [];
        _analyzer = new VersionedAnalyzer(new LayerAnalyzer(LayerAnalyzerLimits.Default));

        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<ILayerAnalyzer>(_analyzer);
        services.AddDockerRegistry(options => options.DataDirectory = _root);
        _services = services.BuildServiceProvider();

        await _services.GetRequiredService<IMetadataStore>().MigrateAsync();
        _scanner = _services.GetRequiredService<ImageScanner>();
        _rematcher = _services.GetRequiredService<VulnerabilityRematcher>();
        _database = _services.GetRequiredService<IVulnerabilityDatabase>();

        // The database: records against every source package of the dpkg status, plus unrelated noise.
        var inventory = BuildInventory(status);
        var files = new List<(string Name, string Json)>();
        foreach (var source in inventory.Packages.Select(package => (package.SourceName, Version: package.SourceVersion ?? package.Version)).Distinct())
        {
            files.Add(($"{source.SourceName}-old.json", OsvRecord($"BENCH-{source.SourceName}-OLD", source.SourceName, "0.0.1-1")));
            files.Add(($"{source.SourceName}-new.json", OsvRecord($"BENCH-{source.SourceName}-NEW", source.SourceName, source.Version + "+bench1")));
            files.Add(($"{source.SourceName}-same.json", OsvRecord($"BENCH-{source.SourceName}-SAME", source.SourceName, source.Version)));
        }

        for (var i = 0; i < NoiseRecords; i++)
        {
            files.Add(($"noise-{i}.json", OsvRecord($"BENCH-NOISE-{i}", $"noise-package-{i % 5000}", $"{i % 7}.{i % 11}-1")));
        }

        using (var archive = Zip(files))
        {
            await _database.ImportAsync("bench-debian", archive, new VulnerabilitySourceUpdate(0, DateTimeOffset.UtcNow));
        }

        // Stored scans to re-match: the same inventory under different manifest digests, as images on one base share it.
        var store = _services.GetRequiredService<IScanStore>();
        var match = await _database.MatchAsync(inventory);
        var inventoryJson = InventoryJson.Serialize(inventory);
        for (var i = 0; i < StoredImages; i++)
        {
            var digest = Digest.Compute(Encoding.UTF8.GetBytes($"stored image {i}"));
            var now = DateTimeOffset.UtcNow;
            var facts = new ImageScanFacts(digest, MediaTypes.OciManifest, new ImagePlatform("linux", "amd64", null), ScanStatus.Completed, now, now, match.DatabaseVersion, null);
            await store.PutImageScanAsync(new ImageScan(digest, ScanStatus.Completed, now, now, match.DatabaseVersion, match.Summary, inventoryJson, ScanDocument.WriteImage(facts, inventory, match)));
        }

        Console.WriteLine($"// Database: {files.Count} records; inventory: {inventory.Packages.Count} packages, {match.Findings.Count} findings per image");

        // The image to scan: one large gzip layer and a config, stored and linked like a push.
        var layer = BuildLayer(status, LayerMiB);
        Console.WriteLine($"// Compressed layer: {layer.Length} bytes");
        var config = Encoding.UTF8.GetBytes("""{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}""");
        var layerDigest = await StoreBlobAsync(layer);
        var configDigest = await StoreBlobAsync(config);
        var manifest = Encoding.UTF8.GetBytes(
            $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{config.Length}}},"layers":[{"mediaType":"{{LayerMediaType}}","digest":"{{layerDigest}}","size":{{layer.Length}}}]}""");
        _manifest = Digest.Compute(manifest);
        var metadata = _services.GetRequiredService<IMetadataStore>();
        var write = await metadata.PutManifestAsync(new ManifestWrite
        {
            Repository = Repository,
            Digest = _manifest,
            Content = manifest,
            Manifest = ManifestParser.Parse(manifest, MediaTypes.OciManifest),
            Tags = ["latest"],
        });
        if (!write.Stored)
        {
            throw new InvalidOperationException("The benchmark image's manifest was not stored.");
        }
    }

    private ImageInventory BuildInventory(byte[] status)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, leaveOpen: true))
        {
            WriteFile(writer, "etc/os-release", Encoding.UTF8.GetBytes("ID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"));
            WriteFile(writer, "var/lib/dpkg/status", status);
        }

        var bytes = buffer.ToArray();
        var digest = Digest.Compute(bytes);
        var analysis = _analyzer.AnalyzeAsync(digest, LayerMediaType, new MemoryStream(bytes)).AsTask().GetAwaiter().GetResult();
        return _analyzer.BuildInventory([(digest, analysis)]);
    }

    private async Task<Digest> StoreBlobAsync(byte[] content)
    {
        var blobs = _services.GetRequiredService<IBlobStore>();
        var metadata = _services.GetRequiredService<IMetadataStore>();
        var digest = Digest.Compute(content);
        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        await blobs.CommitUploadAsync(uploadId, digest);
        await metadata.LinkBlobAsync(Repository, digest, content.Length);
        return digest;
    }

    private static byte[] BuildLayer(byte[] status, int megabytes)
    {
        var random = new Random(42);
        var data = new byte[FileBytes];
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, leaveOpen: true))
        {
            WriteFile(writer, "etc/os-release", Encoding.UTF8.GetBytes("ID=debian\nVERSION_ID=\"12\"\n"));
            WriteFile(writer, "var/lib/dpkg/status", status);
            for (var i = 0; i < 2000; i++)
            {
                WriteFile(writer, $"usr/share/doc/package{i}/README", Encoding.UTF8.GetBytes($"Package {i}\n"));
            }

            for (var i = 0; i < megabytes; i++)
            {
                random.NextBytes(data);
                WriteFile(writer, $"opt/data/file{i}.bin", data);
            }
        }

        return buffer.ToArray();
    }

    private static void WriteFile(TarWriter writer, string path, byte[] content) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content, writable: false) });

    private static string OsvRecord(string id, string package, string fixedVersion) =>
        $$"""{"id":"{{id}}","modified":"2024-01-01T00:00:00Z","summary":"Generated record","severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],"affected":[{"package":{"ecosystem":"Debian:12","name":"{{package}}"},"ranges":[{"type":"ECOSYSTEM","events":[{"introduced":"0"},{"fixed":"{{fixedVersion}}"}]}]}]}""";

    private static MemoryStream Zip(IEnumerable<(string Name, string Json)> files)
    {
        var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, json) in files)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Fastest);
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(json));
            }
        }

        buffer.Position = 0;
        return buffer;
    }

    /// <summary>Delegates to a real analyzer under a version that changes on request, so stored analyses miss.</summary>
    private sealed class VersionedAnalyzer(ILayerAnalyzer inner) : ILayerAnalyzer
    {
        private int _version = 1_000_000;

        public int Version => _version;

        public void NextVersion() => _version++;

        public ValueTask<string> AnalyzeAsync(Digest layer, string mediaType, Stream content, CancellationToken cancellationToken = default) =>
            inner.AnalyzeAsync(layer, mediaType, content, cancellationToken);

        public ImageInventory BuildInventory(IReadOnlyList<(Digest Layer, string AnalysisJson)> layers) => inner.BuildInventory(layers);
    }
}

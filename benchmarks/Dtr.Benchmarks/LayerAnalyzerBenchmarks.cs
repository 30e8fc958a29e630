using System.Formats.Tar;
using System.IO.Compression;
using BenchmarkDotNet.Attributes;
using Dtr.Digests;
using Dtr.Scanning.Inventory;

namespace Dtr.Benchmarks;

/// <summary>
/// Analyses a generated gzip layer from memory, the work the scanner does for every pushed layer.
/// </summary>
/// <remarks>
/// The layer contains <see cref="LayerMiB"/> MiB of random, incompressible data in 1 MiB files, 2,000 small text files
/// and this machine's <c>/var/lib/dpkg/status</c> (an empty one where the file is missing). Throughput in MB/s of
/// compressed input is <see cref="CompressedBytes"/> divided by the mean time; the setup prints the size.
/// </remarks>
[MemoryDiagnoser]
public class LayerAnalyzerBenchmarks
{
    private const int FileBytes = 1024 * 1024;

    private readonly LayerAnalyzer _analyzer = new(LayerAnalyzerLimits.Default);
    private byte[] _layer = [];
    private Digest _digest;

    /// <summary>The size of the random file data in the layer, in MiB.</summary>
    [Params(256)]
    public int LayerMiB { get; set; }

    /// <summary>The size of the compressed layer, in bytes.</summary>
    public long CompressedBytes => _layer.Length;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        var data = new byte[FileBytes];
        var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, leaveOpen: true))
        {
            var status = File.Exists("/var/lib/dpkg/status") ? File.ReadAllBytes("/var/lib/dpkg/status") : [];
            WriteFile(writer, "var/lib/dpkg/status", status);
            for (var i = 0; i < 2000; i++)
            {
                WriteFile(writer, $"usr/share/doc/package{i}/README", System.Text.Encoding.UTF8.GetBytes($"Package {i}\n"));
            }

            for (var i = 0; i < LayerMiB; i++)
            {
                random.NextBytes(data);
                WriteFile(writer, $"opt/data/file{i}.bin", data);
            }
        }

        _layer = compressed.ToArray();
        _digest = Digest.Compute(_layer);
        Console.WriteLine($"// Compressed layer: {_layer.Length} bytes");
    }

    /// <summary>Decompresses the layer and discards the output: the floor under the analysis time.</summary>
    [Benchmark(Baseline = true, Description = "gunzip only")]
    public async Task DecompressOnly()
    {
        await using var gzip = new GZipStream(new MemoryStream(_layer, writable: false), CompressionMode.Decompress);
        await gzip.CopyToAsync(Stream.Null, 1024 * 1024);
    }

    [Benchmark(Description = "analyse gzip layer")]
    public async Task<string> AnalyzeGzipLayer() =>
        await _analyzer.AnalyzeAsync(_digest, "application/vnd.oci.image.layer.v1.tar+gzip", new MemoryStream(_layer, writable: false));

    private static void WriteFile(TarWriter writer, string path, byte[] content)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = new MemoryStream(content, writable: false) };
        writer.WriteEntry(entry);
    }
}

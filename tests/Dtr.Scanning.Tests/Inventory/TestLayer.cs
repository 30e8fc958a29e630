using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Dtr.Digests;
using Dtr.Scanning.Inventory;

namespace Dtr.Scanning.Tests.Inventory;

public enum LayerCompression
{
    None,
    Gzip,
    Zstd,
}

/// <summary>Builds a layer tarball in memory, entry by entry.</summary>
internal sealed class TestLayer
{
    public const string OciGzip = "application/vnd.oci.image.layer.v1.tar+gzip";

    private readonly List<TarEntry> _entries = [];

    public TestLayer File(string path, string content) => File(path, Encoding.UTF8.GetBytes(content));

    public TestLayer File(string path, byte[] content, TarEntryFormat format = TarEntryFormat.Pax)
    {
        var entry = NewEntry(format, TarEntryType.RegularFile, path);
        entry.DataStream = new MemoryStream(content);
        _entries.Add(entry);
        return this;
    }

    public TestLayer Directory(string path)
    {
        _entries.Add(NewEntry(TarEntryFormat.Pax, TarEntryType.Directory, path));
        return this;
    }

    public TestLayer SymbolicLink(string path, string target)
    {
        var entry = NewEntry(TarEntryFormat.Pax, TarEntryType.SymbolicLink, path);
        entry.LinkName = target;
        _entries.Add(entry);
        return this;
    }

    public TestLayer HardLink(string path, string target)
    {
        var entry = NewEntry(TarEntryFormat.Pax, TarEntryType.HardLink, path);
        entry.LinkName = target;
        _entries.Add(entry);
        return this;
    }

    /// <summary>Adds <c>.wh.&lt;name&gt;</c> next to <paramref name="path"/>, which removes it from lower layers.</summary>
    public TestLayer Whiteout(string path)
    {
        var slash = path.LastIndexOf('/');
        return File(slash < 0 ? ".wh." + path : path[..(slash + 1)] + ".wh." + path[(slash + 1)..], []);
    }

    /// <summary>Adds <c>.wh..wh..opq</c> in <paramref name="directory"/>, which hides lower layers' content there.</summary>
    public TestLayer Opaque(string directory) => Directory(directory).File(directory.TrimEnd('/') + "/.wh..wh..opq", []);

    public byte[] Build(LayerCompression compression = LayerCompression.Gzip)
    {
        var tar = new MemoryStream();
        using (var writer = new TarWriter(tar, leaveOpen: true))
        {
            foreach (var entry in _entries)
            {
                entry.DataStream?.Seek(0, SeekOrigin.Begin);
                writer.WriteEntry(entry);
            }
        }

        return Compress(tar.ToArray(), compression);
    }

    public static byte[] Compress(byte[] tar, LayerCompression compression)
    {
        switch (compression)
        {
            case LayerCompression.Gzip:
                var gzip = new MemoryStream();
                using (var stream = new GZipStream(gzip, CompressionLevel.Fastest, leaveOpen: true))
                {
                    stream.Write(tar);
                }

                return gzip.ToArray();
            case LayerCompression.Zstd:
                using (var compressor = new ZstdSharp.Compressor(3))
                {
                    return compressor.Wrap(tar).ToArray();
                }

            default:
                return tar;
        }
    }

    private static TarEntry NewEntry(TarEntryFormat format, TarEntryType type, string path) => format switch
    {
        TarEntryFormat.Gnu => new GnuTarEntry(type, path),
        TarEntryFormat.Ustar => new UstarTarEntry(type, path),
        _ => new PaxTarEntry(type, path),
    };
}

/// <summary>Runs the analyzer on test layers.</summary>
internal static class Analysis
{
    public static readonly LayerAnalyzer Analyzer = new(LayerAnalyzerLimits.Default);

    public static async Task<string> AnalyzeAsync(byte[] layer, string mediaType = TestLayer.OciGzip, LayerAnalyzer? analyzer = null) =>
        await (analyzer ?? Analyzer).AnalyzeAsync(Digest.Compute(layer), mediaType, new MemoryStream(layer), CancellationToken.None);

    /// <summary>Analyses each layer and builds the inventory of the image they make, bottom layer first.</summary>
    public static async Task<ImageInventory> InventoryAsync(params byte[][] layers)
    {
        var analyses = new List<(Digest, string)>();
        foreach (var layer in layers)
        {
            analyses.Add((Digest.Compute(layer), await AnalyzeAsync(layer)));
        }

        return Analyzer.BuildInventory(analyses);
    }

    public static InstalledPackage Single(ImageInventory inventory, PackageType type, string name) =>
        Assert.Single(inventory.Packages, package => package.Type == type && package.Name == name);
}

using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Dtr.Digests;
using Dtr.Scanning.Inventory;

namespace Dtr.Scanning.Tests.Inventory;

public class LayerReadingTests
{
    private const string DpkgStatus = """
        Package: zlib1g
        Status: install ok installed
        Architecture: amd64
        Source: zlib
        Version: 1:1.2.13.dfsg-1

        """;

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task Compression_DetectedFromContent(LayerCompression compression)
    {
        var layer = new TestLayer().File("var/lib/dpkg/status", DpkgStatus).Build(compression);

        // The media type claims gzip for every case: the first bytes decide how the layer is read.
        var inventory = await InventoryOfAsync(layer, TestLayer.OciGzip);

        var zlib = Analysis.Single(inventory, PackageType.Deb, "zlib1g");
        Assert.Equal("1:1.2.13.dfsg-1", zlib.Version);
        Assert.Equal(LayerReadStatus.Complete, Assert.Single(inventory.Layers).Status);
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.v1.tar")]
    [InlineData("application/vnd.oci.image.layer.v1.tar+zstd")]
    [InlineData("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")]
    [InlineData("application/vnd.docker.image.rootfs.diff.tar.gzip")]
    [InlineData("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")]
    public async Task LayerMediaTypes_AreRead(string mediaType)
    {
        var layer = new TestLayer().File("var/lib/dpkg/status", DpkgStatus).Build();

        var inventory = await InventoryOfAsync(layer, mediaType);

        Assert.Equal(LayerReadStatus.Complete, Assert.Single(inventory.Layers).Status);
        Assert.Single(inventory.Packages);
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.v1.tar+gzip+encrypted")]
    [InlineData("application/vnd.oci.image.config.v1+json")]
    [InlineData("application/octet-stream")]
    [InlineData("")]
    public async Task OtherMediaTypes_SkippedWithoutReading(string mediaType)
    {
        var content = new ThrowingStream();

        var json = await Analysis.Analyzer.AnalyzeAsync(Digest.Compute([1]), mediaType, content);
        var result = Assert.Single(Analysis.Analyzer.BuildInventory([(Digest.Compute([1]), json)]).Layers);

        Assert.Equal(LayerReadStatus.Skipped, result.Status);
        Assert.Contains($"'{mediaType}'", result.Message, StringComparison.Ordinal);
        Assert.Equal(0, content.Reads);
    }

    [Fact]
    public async Task DecompressedBytes_StopAtLimit()
    {
        var analyzer = new LayerAnalyzer(new LayerAnalyzerLimits { MaxDecompressedBytes = 64 * 1024 });
        var layer = new TestLayer()
            .File("var/lib/dpkg/status", DpkgStatus)
            .File("opt/big.bin", RandomBytes(256 * 1024))
            .Build();

        var json = await Analysis.AnalyzeAsync(layer, analyzer: analyzer);
        var inventory = analyzer.BuildInventory([(Digest.Compute(layer), json)]);

        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.LimitExceeded, result.Status);
        Assert.Contains("MaxDecompressedBytes", result.Message, StringComparison.Ordinal);
        Assert.Contains("65536", result.Message, StringComparison.Ordinal);

        // The database came before the limit, so what was read is kept.
        Assert.Single(inventory.Packages);
    }

    [Fact]
    public async Task Entries_StopAtLimit()
    {
        var analyzer = new LayerAnalyzer(new LayerAnalyzerLimits { MaxEntries = 10 });
        var builder = new TestLayer();
        for (var i = 0; i < 20; i++)
        {
            builder.File($"data/file{i}", "x");
        }

        builder.File("var/lib/dpkg/status", DpkgStatus);
        var layer = builder.Build();

        var json = await Analysis.AnalyzeAsync(layer, analyzer: analyzer);
        var inventory = analyzer.BuildInventory([(Digest.Compute(layer), json)]);

        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.LimitExceeded, result.Status);
        Assert.Contains("MaxEntries", result.Message, StringComparison.Ordinal);
        Assert.Empty(inventory.Packages);
    }

    [Fact]
    public async Task EntryCount_AtLimitIsComplete()
    {
        var analyzer = new LayerAnalyzer(new LayerAnalyzerLimits { MaxEntries = 2 });
        var layer = new TestLayer().File("a", "x").File("var/lib/dpkg/status", DpkgStatus).Build();

        var json = await Analysis.AnalyzeAsync(layer, analyzer: analyzer);
        var inventory = analyzer.BuildInventory([(Digest.Compute(layer), json)]);

        Assert.Equal(LayerReadStatus.Complete, Assert.Single(inventory.Layers).Status);
        Assert.Single(inventory.Packages);
    }

    [Fact]
    public async Task DatabaseOverLimit_SkippedButHidesLower()
    {
        var analyzer = new LayerAnalyzer(new LayerAnalyzerLimits { MaxPackageDatabaseBytes = 100 });
        var small = new TestLayer().File("var/lib/dpkg/status", DpkgStatus).Build();
        var large = new TestLayer().File("var/lib/dpkg/status", DpkgStatus + new string('#', 200)).Build();

        var smallJson = await Analysis.AnalyzeAsync(small, analyzer: analyzer);
        var largeJson = await Analysis.AnalyzeAsync(large, analyzer: analyzer);
        var inventory = analyzer.BuildInventory([(Digest.Compute(small), smallJson), (Digest.Compute(large), largeJson)]);

        Assert.Contains("MaxPackageDatabaseBytes", largeJson, StringComparison.Ordinal);
        Assert.Equal(LayerReadStatus.Complete, inventory.Layers[0].Status);
        Assert.Equal(LayerReadStatus.LimitExceeded, inventory.Layers[1].Status);
        Assert.StartsWith("'var/lib/dpkg/status': ", inventory.Layers[1].Message, StringComparison.Ordinal);
        Assert.Contains("MaxPackageDatabaseBytes", inventory.Layers[1].Message, StringComparison.Ordinal);
        Assert.Empty(inventory.Packages);
    }

    [Theory]
    [InlineData("var/lib/dpkg/status", "not a valid dpkg status file")]
    [InlineData("var/lib/dpkg/status.d/base", "not a valid dpkg status file")]
    [InlineData("lib/apk/db/installed", "not a valid apk database")]
    public async Task DatabaseOfRandomBytes_Reported(string path, string expected)
    {
        var layer = new TestLayer().File(path, RandomBytes(4096)).Build();

        var inventory = await InventoryOfAsync(layer, TestLayer.OciGzip);

        Assert.Empty(inventory.Packages);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.StartsWith($"'{path}': ", result.Message, StringComparison.Ordinal);
        Assert.Contains(expected, result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("var/lib/dpkg/status", "Package: zlib1g\nVersion: 1:1.2.13.dfsg-1\n\nDescription: no package\n\nVersion: 1.0\n\n")]
    [InlineData("lib/apk/db/installed", "P:zlib\nV:1.2.13-r1\n\nA:x86_64\n\nL:MIT\n\n")]
    public async Task DatabaseMostlyInvalid_Reported(string path, string content)
    {
        // One valid entry and two that name no package: at least half are invalid.
        var layer = new TestLayer().File(path, content).Build();

        var inventory = await InventoryOfAsync(layer, TestLayer.OciGzip);

        Assert.Single(inventory.Packages);
        var result = Assert.Single(inventory.Layers);
        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.Contains("2 of its 3", result.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("var/lib/dpkg/status", "")]
    [InlineData("var/lib/dpkg/status", "\n\n")]
    [InlineData("lib/apk/db/installed", "")]
    [InlineData("var/lib/dpkg/status", "Package: old\nStatus: purge ok not-installed\n\n")]
    [InlineData("var/lib/dpkg/status", "Package: a\nVersion: 1\n\nPackage: b\nVersion: 2\n\nPackage: c\nVersion: 3\n\nbroken line\n\n")]
    [InlineData("lib/apk/db/installed", "P:a\nV:1\nP:b\nV:2\nP:c\nV:3\n\nbroken\n")]
    public async Task DatabaseValidOrEmpty_NotReported(string path, string content)
    {
        // Empty databases, removed packages without a version and one damaged entry among many are not reported.
        var layer = new TestLayer().File(path, content).Build();

        var result = await SingleResultAsync(layer);

        Assert.Equal(LayerReadStatus.Complete, result.Status);
        Assert.Null(result.Message);
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task Garbage_IsUnreadable(LayerCompression compression)
    {
        var garbage = RandomBytes(10_000);
        var layer = compression switch
        {
            LayerCompression.Gzip => [0x1f, 0x8b, .. garbage],
            LayerCompression.Zstd => [0x28, 0xb5, 0x2f, 0xfd, .. garbage],
            _ => garbage,
        };

        var result = await SingleResultAsync(layer);

        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
        Assert.False(string.IsNullOrEmpty(result.Message));
    }

    [Theory]
    [InlineData(LayerCompression.Gzip)]
    [InlineData(LayerCompression.Zstd)]
    [InlineData(LayerCompression.None)]
    public async Task Truncated_IsUnreadable(LayerCompression compression)
    {
        var whole = new TestLayer()
            .File("var/lib/dpkg/status", DpkgStatus)
            .File("opt/data.bin", RandomBytes(200_000))
            .Build(compression);

        var result = await SingleResultAsync(whole[..(whole.Length / 2)]);

        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
    }

    [Fact]
    public async Task CorruptHeaders_NeverThrow()
    {
        var tar = new TestLayer()
            .File("etc/os-release", "ID=debian\n")
            .SymbolicLink("etc/alpine-release", "../x")
            .File("var/lib/dpkg/status", DpkgStatus)
            .File("app/App.deps.json", "{}")
            .Build(LayerCompression.None);
        var random = new Random(7);

        // Each round overwrites a few bytes of the headers, where sizes, checksums, types and PAX records are.
        for (var round = 0; round < 300; round++)
        {
            var corrupt = (byte[])tar.Clone();
            for (var i = 0; i < 1 + (round % 8); i++)
            {
                corrupt[random.Next(Math.Min(corrupt.Length, 4096))] = (byte)random.Next(256);
            }

            var json = await Analysis.AnalyzeAsync(corrupt);
            var status = Assert.Single(Analysis.Analyzer.BuildInventory([(Digest.Compute(corrupt), json)]).Layers).Status;

            Assert.True(status is LayerReadStatus.Complete or LayerReadStatus.Unreadable, $"Round {round} gave {status}.");
        }
    }

    [Fact]
    public async Task EmptyBlob_IsUnreadable()
    {
        // A tar archive ends with two zero blocks, so a blob of no bytes is not one.
        var result = await SingleResultAsync([]);

        Assert.Equal(LayerReadStatus.Unreadable, result.Status);
    }

    [Fact]
    public async Task SourceReadError_Propagates()
    {
        var layer = new TestLayer().File("opt/data.bin", RandomBytes(100_000)).Build();
        var content = new ThrowingStream(new MemoryStream(layer), failAfterBytes: 20_000);

        await Assert.ThrowsAsync<IOException>(() => Analysis.Analyzer.AnalyzeAsync(Digest.Compute(layer), TestLayer.OciGzip, content).AsTask());
    }

    [Fact]
    public async Task Cancellation_Throws()
    {
        var layer = new TestLayer().File("var/lib/dpkg/status", DpkgStatus).Build();
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Analysis.Analyzer.AnalyzeAsync(Digest.Compute(layer), TestLayer.OciGzip, new MemoryStream(layer), cancellation.Token).AsTask());
    }

    [Theory]
    [InlineData("./var/lib/dpkg/status")]
    [InlineData("/var/lib/dpkg/status")]
    [InlineData("var//lib/./dpkg/status")]
    public async Task EntryNames_Normalized(string name)
    {
        var layer = new TestLayer().File(name, DpkgStatus).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal("var/lib/dpkg/status", Analysis.Single(inventory, PackageType.Deb, "zlib1g").Path);
    }

    [Theory]
    [InlineData(TarEntryFormat.Pax)]
    [InlineData(TarEntryFormat.Gnu)]
    public async Task LongNames_Read(TarEntryFormat format)
    {
        var folder = "app/" + string.Join('/', Enumerable.Repeat("a-rather-long-folder-name", 8));
        var depsJson = """{ "libraries": { "Newtonsoft.Json/13.0.1": { "type": "package" } } }""";
        var layer = new TestLayer().File(folder + "/My.App.deps.json", Encoding.UTF8.GetBytes(depsJson), format).Build();

        var inventory = await Analysis.InventoryAsync(layer);

        var package = Analysis.Single(inventory, PackageType.NuGet, "Newtonsoft.Json");
        Assert.Equal(folder + "/My.App.deps.json", package.Path);
    }

    [Fact]
    public async Task ConcatenatedGzipMembers_Read()
    {
        var tar = new TestLayer().File("var/lib/dpkg/status", DpkgStatus).Build(LayerCompression.None);
        var middle = tar.Length / 2;
        byte[] layer = [.. Gzip(tar[..middle]), .. Gzip(tar[middle..])];

        var inventory = await Analysis.InventoryAsync(layer);

        Assert.Equal(LayerReadStatus.Complete, Assert.Single(inventory.Layers).Status);
        Assert.Single(inventory.Packages);
    }

    [Fact]
    public async Task EmptyArchive_IsComplete()
    {
        // Two zero blocks, the end-of-archive marker: Docker's empty layer is this archive, gzipped.
        var result = await SingleResultAsync(TestLayer.Compress(new byte[1024], LayerCompression.Gzip));

        Assert.Null(result.Message);
        Assert.Equal(LayerReadStatus.Complete, result.Status);
    }

    [Fact]
    public async Task Analysis_RecordsVersion()
    {
        var json = await Analysis.AnalyzeAsync(TestLayer.Compress(new byte[1024], LayerCompression.Gzip));

        Assert.Contains($"\"version\":{Analysis.Analyzer.Version}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildInventory_RejectsOtherVersion()
    {
        var digest = Digest.Compute([1]);

        Assert.Throws<FormatException>(() => Analysis.Analyzer.BuildInventory([(digest, """{"version":999,"status":"Complete"}""")]));
        Assert.Throws<FormatException>(() => Analysis.Analyzer.BuildInventory([(digest, "not json")]));
    }

    [Fact]
    public void Constructor_RejectsNonPositiveLimits()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerAnalyzer(new LayerAnalyzerLimits { MaxEntries = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerAnalyzer(new LayerAnalyzerLimits { MaxDecompressedBytes = -1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LayerAnalyzer(new LayerAnalyzerLimits { MaxPackageDatabaseBytes = 0 }));
    }

    private static async Task<ImageInventory> InventoryOfAsync(byte[] layer, string mediaType)
    {
        var json = await Analysis.AnalyzeAsync(layer, mediaType);
        return Analysis.Analyzer.BuildInventory([(Digest.Compute(layer), json)]);
    }

    private static async Task<LayerReadResult> SingleResultAsync(byte[] layer) =>
        Assert.Single((await InventoryOfAsync(layer, TestLayer.OciGzip)).Layers);

    private static byte[] Gzip(byte[] data)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(data);
        }

        return output.ToArray();
    }

    private static byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Serves an inner stream, then fails with an <see cref="IOException"/>; with no inner stream, fails at once.</summary>
    private sealed class ThrowingStream(Stream? inner = null, long failAfterBytes = 0) : Stream
    {
        private long _position;

        public int Reads { get; private set; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            Reads++;
            if (inner is null || _position >= failAfterBytes)
            {
                throw new IOException("The connection was reset.");
            }

            var read = inner.Read(buffer, offset, (int)Math.Min(count, failAfterBytes - _position));
            _position += read;
            return read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

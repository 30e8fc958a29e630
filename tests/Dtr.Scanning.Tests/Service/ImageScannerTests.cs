using System.Text.Json;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Names;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dtr.Scanning.Tests.Service;

public sealed class ImageScannerTests : IAsyncLifetime
{
    private static readonly RepositoryName Repository = RepositoryName.Parse("alice/app");
    private readonly CountingAnalyzer _analyzer = new(new LayerAnalyzer(LayerAnalyzerLimits.Default));
    private ScanningTestHost _host = null!;

    public async Task InitializeAsync()
    {
        _host = await ScanningTestHost.StartAsync(services: services => services.Replace(ServiceDescriptor.Singleton<ILayerAnalyzer>(_analyzer)));
        await _host.ImportAsync("debian", TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2023-4911", "2.36-9+deb12u3", "HIGH", "DSA-5514-1")));
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private ImageScanner Scanner => _host.Get<ImageScanner>();

    [Fact]
    public async Task Scan_Image_StoresFindingsAndInventory()
    {
        var (digest, _) = await _host.PushImageAsync(Repository, TestArtifacts.Config("arm64"), TestArtifacts.DebianLayer("2.36-9"));

        Assert.Equal(1, await Scanner.ScanAsync(Repository, digest, CancellationToken.None));

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.NotNull(scan);
        Assert.Equal(ScanStatus.Completed, scan.Status);
        Assert.Equal(1, scan.Summary.High);
        Assert.Equal(1, scan.DatabaseVersion);
        Assert.NotNull(scan.InventoryJson);
        Assert.Contains(InventoryJson.Deserialize(scan.InventoryJson).Packages, package => package.Name == "libc6");

        using var document = JsonDocument.Parse(scan.ResultJson);
        var root = document.RootElement;
        Assert.Equal(digest.Value, root.GetProperty("digest").GetString());
        Assert.Equal("completed", root.GetProperty("status").GetString());
        Assert.Equal("arm64", root.GetProperty("platform").GetProperty("architecture").GetString());
        Assert.Equal("debian", root.GetProperty("os").GetProperty("id").GetString());
        Assert.Equal(1, root.GetProperty("summary").GetProperty("dtr").GetProperty("critical").GetInt32());
        var vulnerability = Assert.Single(root.GetProperty("vulnerabilities").EnumerateArray());
        Assert.Equal("CVE-2023-4911", vulnerability.GetProperty("id").GetString());
        Assert.Equal("high", vulnerability.GetProperty("severity").GetString());
        Assert.Equal("libc6", vulnerability.GetProperty("package").GetString());
        Assert.Equal("deb", vulnerability.GetProperty("packageType").GetString());
        Assert.Equal("2.36-9+deb12u3", vulnerability.GetProperty("fixedVersion").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
    }

    [Fact]
    public async Task Scan_FixedVersion_FindsNothing()
    {
        var (digest, _) = await _host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9+deb12u4"));

        await Scanner.ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.Equal(ScanStatus.Completed, scan!.Status);
        Assert.Equal(0, scan.Summary.Total);
    }

    [Fact]
    public async Task Scan_SharedLayer_AnalysedOnce()
    {
        var shared = TestArtifacts.DebianLayer("2.36-9");
        var other = RepositoryName.Parse("bob/tool");
        var (first, _) = await _host.PushImageAsync(Repository, TestArtifacts.Config("amd64"), shared);
        var (second, _) = await _host.PushImageAsync(other, TestArtifacts.Config("arm64"), shared);

        await Task.WhenAll(
            Scanner.ScanAsync(Repository, first, CancellationToken.None),
            Scanner.ScanAsync(other, second, CancellationToken.None));
        await Scanner.ScanAsync(Repository, first, CancellationToken.None);

        Assert.Equal(1, _analyzer.CallsFor(Digest.Compute(shared)));
        Assert.Equal(1, (await _host.Store.GetImageScanAsync(first))!.Summary.High);
        Assert.Equal(1, (await _host.Store.GetImageScanAsync(second))!.Summary.High);
    }

    [Fact]
    public async Task Scan_Index_ScansEachImageAndSkipsAttestations()
    {
        var (amd64, amd64Manifest) = await _host.PushImageAsync(Repository, TestArtifacts.Config("amd64"), TestArtifacts.DebianLayer("2.36-9"));
        var (arm64, arm64Manifest) = await _host.PushImageAsync(Repository, TestArtifacts.Config("arm64"), TestArtifacts.DebianLayer("2.36-9+deb12u4"));
        var (attestation, attestationManifest) = await _host.PushImageAsync(Repository, TestArtifacts.Config("unknown", "unknown"), TestArtifacts.Layer(("sbom.json", "{}")));
        var index = await _host.PutManifestAsync(
            Repository,
            TestArtifacts.Index((amd64Manifest, "linux", "amd64"), (arm64Manifest, "linux", "arm64"), (attestationManifest, "unknown", "unknown")));

        Assert.Equal(2, await Scanner.ScanAsync(Repository, index, CancellationToken.None));

        Assert.Equal(1, (await _host.Store.GetImageScanAsync(amd64))!.Summary.High);
        Assert.Equal(0, (await _host.Store.GetImageScanAsync(arm64))!.Summary.Total);
        Assert.Null(await _host.Store.GetImageScanAsync(attestation));
        Assert.Null(await _host.Store.GetImageScanAsync(index));
    }

    [Fact]
    public async Task Scan_MissingLayerBlob_Fails()
    {
        var layer = TestArtifacts.DebianLayer("2.36-9");
        var (digest, _) = await _host.PushImageAsync(Repository, TestArtifacts.Config(), layer);
        await _host.Blobs.DeleteAsync(Digest.Compute(layer));

        await Scanner.ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.Equal(ScanStatus.Failed, scan!.Status);
        Assert.Null(scan.InventoryJson);
        using var document = JsonDocument.Parse(scan.ResultJson);
        Assert.Contains(Digest.Compute(layer).Value, document.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_UnreadableLayer_Partial()
    {
        var garbage = new byte[] { 0x1f, 0x8b, 0x08, 0x00, 0x01, 0x02, 0x03 };
        var (digest, _) = await _host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"), garbage);

        await Scanner.ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.Equal(ScanStatus.Partial, scan!.Status);
        using var document = JsonDocument.Parse(scan.ResultJson);
        var layers = document.RootElement.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal("unreadable", layers[1].GetProperty("status").GetString());
        Assert.Equal(1, scan.Summary.High);
    }

    [Fact]
    public async Task Scan_Artifact_FailsWithReason()
    {
        var config = "{}"u8.ToArray();
        await _host.PutBlobAsync(Repository, config);
        var layer = TestArtifacts.Layer(("a.txt", "a"));
        await _host.PutBlobAsync(Repository, layer);
        var digest = await _host.PutManifestAsync(Repository, TestArtifacts.ImageManifest(config, [layer], "application/vnd.example.config+json"));

        await Scanner.ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.Equal(ScanStatus.Failed, scan!.Status);
        Assert.Contains("artifact", scan.ResultJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_MissingManifest_Fails()
    {
        var digest = Digest.Compute("not stored"u8);

        await Scanner.ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await _host.Store.GetImageScanAsync(digest);
        Assert.Equal(ScanStatus.Failed, scan!.Status);
        Assert.Contains("is not in the repository", scan.ResultJson, StringComparison.Ordinal);
    }

    /// <summary>Counts the analyses of each layer, to show that shared layers are read once.</summary>
    private sealed class CountingAnalyzer(ILayerAnalyzer inner) : ILayerAnalyzer
    {
        private readonly Dictionary<Digest, int> _calls = [];

        public int Version => inner.Version;

        public int CallsFor(Digest layer)
        {
            lock (_calls)
            {
                return _calls.GetValueOrDefault(layer);
            }
        }

        public async ValueTask<string> AnalyzeAsync(Digest layer, string mediaType, Stream content, CancellationToken cancellationToken = default)
        {
            lock (_calls)
            {
                _calls[layer] = _calls.GetValueOrDefault(layer) + 1;
            }

            // Long enough that a concurrent scan of the same layer arrives while this one runs.
            await Task.Delay(200, cancellationToken);
            return await inner.AnalyzeAsync(layer, mediaType, content, cancellationToken);
        }

        public ImageInventory BuildInventory(IReadOnlyList<(Digest Layer, string AnalysisJson)> layers) => inner.BuildInventory(layers);
    }

    [Fact]
    public async Task Scan_LayerLimit_NamesRegistrySetting()
    {
        await using var host = await ScanningTestHost.StartAsync(options => options.MaxLayerEntries = 1);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));

        await host.Get<ImageScanner>().ScanAsync(Repository, digest, CancellationToken.None);

        var scan = await host.Store.GetImageScanAsync(digest);
        Assert.NotNull(scan);
        Assert.Contains("Registry:Scanning:MaxLayerEntries", scan.ResultJson, StringComparison.Ordinal);
        Assert.DoesNotContain(nameof(LayerAnalyzerLimits), scan.ResultJson, StringComparison.Ordinal);
    }
}

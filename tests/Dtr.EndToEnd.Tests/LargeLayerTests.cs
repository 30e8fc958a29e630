using System.Diagnostics;
using Xunit.Abstractions;

namespace Dtr.EndToEnd.Tests;

/// <summary>Pushes and pulls an image with a 256 MiB layer, which a registry has to stream rather than buffer.</summary>
[Collection(RegistryCollection.Name)]
public sealed class LargeLayerTests(RegistryFixture registry, ITestOutputHelper output)
{
    private const long LargeFileSize = 256L * 1024 * 1024;

    private Skopeo Skopeo => registry.Skopeo;

    [Fact]
    public async Task LargeLayer_PushAndPull()
    {
        using var work = new TemporaryDirectory();
        var layoutDirectory = work.Combine("layout");
        var layout = new OciLayoutWriter(layoutDirectory);

        // TarWriter needs a seekable data stream for an entry's size, so the data goes to a file first. Pseudo-random
        // bytes do not compress, so the gzip layer is a few percent larger than the file, and the fastest level
        // keeps writing it quick. A new seed each run makes the registry receive the layer even if it kept data.
        var randomFile = work.Combine("random.bin");
        using (var file = new FileStream(randomFile, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        using (var random = new PseudoRandomStream(LargeFileSize, seed: Random.Shared.Next()))
        {
            random.CopyTo(file, 1 << 20);
        }

        var largeLayer = new OciLayoutWriter.LayerContent()
            .AddDirectory("data")
            .AddFile("data/random.bin", () => File.OpenRead(randomFile), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var image = layout.WriteImage(
            Platform.LinuxAmd64,
            [(TestImages.BusyboxRootFilesystem(), LayerCompression.Gzip), (largeLayer, LayerCompression.GzipFastest)]);
        layout.WriteEntryPoint((image.Manifest, "1"));
        File.Delete(randomFile);
        Assert.True(image.Layers[1].Size > LargeFileSize, $"The large layer has {image.Layers[1].Size} bytes; expected more than {LargeFileSize}.");
        var reference = Skopeo.Reference("e2e/large-layer", "1");

        var push = Stopwatch.StartNew();
        await Skopeo.CopyAsync($"oci:{layoutDirectory}:1", reference);
        output.WriteLine($"Pushed {image.Layers[1].Size / 1048576.0:F0} MiB in {push.Elapsed.TotalSeconds:F1} s.");

        var raw = await Skopeo.InspectRawAsync(reference);
        Assert.True(Sha256.Of(raw) == image.Manifest.Digest,
            $"The registry serves a manifest with digest {Sha256.Of(raw)} for {reference}; the layout's manifest is {image.Manifest.Digest}.");

        // Delete the source layout first, so the test keeps at most two copies of the layer on disk: the registry's and the pulled one.
        Directory.Delete(layoutDirectory, recursive: true);
        var pulled = work.Combine("pulled");
        var pull = Stopwatch.StartNew();
        await Skopeo.CopyAsync(reference, $"oci:{pulled}:1");
        output.WriteLine($"Pulled in {pull.Elapsed.TotalSeconds:F1} s.");

        SinglePlatformImageTests.AssertLayoutContainsImage(pulled, image);
    }
}

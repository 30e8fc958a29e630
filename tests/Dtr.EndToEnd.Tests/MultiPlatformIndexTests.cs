namespace Dtr.EndToEnd.Tests;

/// <summary>Pushes and pulls a two-platform OCI image index with <c>skopeo copy --all</c>.</summary>
[Collection(RegistryCollection.Name)]
public sealed class MultiPlatformIndexTests(RegistryFixture registry)
{
    private Skopeo Skopeo => registry.Skopeo;

    [Fact]
    public async Task TwoPlatformIndex_PushAndPullAll()
    {
        using var work = new TemporaryDirectory();
        var layout = new OciLayoutWriter(work.Combine("layout"));
        var amd64 = layout.WriteImage(Platform.LinuxAmd64, [(TestImages.BusyboxRootFilesystem(), LayerCompression.Gzip)]);
        var arm64 = layout.WriteImage(Platform.LinuxArm64, [(TestImages.MarkerFilesystem(Platform.LinuxArm64), LayerCompression.Gzip)]);
        Assert.NotEqual(amd64.Layers[0].Digest, arm64.Layers[0].Digest);
        var index = layout.WriteImageIndex([amd64, arm64]);
        layout.WriteEntryPoint((index, "1"));
        var reference = Skopeo.Reference("e2e/multi-platform", "1");

        await Skopeo.CopyAsync($"oci:{layout.Directory}:1", reference, "--all");

        var raw = await Skopeo.InspectRawAsync(reference);
        Assert.True(Sha256.Of(raw) == index.Digest,
            $"The registry serves an index with digest {Sha256.Of(raw)} for {reference}; the layout's index is {index.Digest}.");
        var children = CopiedImage.ParseIndex(raw);
        Assert.Equal([amd64.Manifest.Digest, arm64.Manifest.Digest], children.Select(c => c.Digest));

        foreach (var image in new[] { amd64, arm64 })
        {
            var childReference = Skopeo.Reference("e2e/multi-platform", image.Manifest.Digest);
            var child = await Skopeo.InspectRawAsync(childReference);
            Assert.True(Sha256.Of(child) == image.Manifest.Digest,
                $"The {image.Platform} manifest fetched by digest hashes to {Sha256.Of(child)}; expected {image.Manifest.Digest}.");

            var summary = await Skopeo.InspectAsync(childReference);
            Assert.Equal(image.Platform.Architecture, summary["Architecture"]?.GetValue<string>());
        }

        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(reference, $"oci:{pulled}:1", "--all");

        var entries = CopiedImage.ReadEntryPoint(pulled);
        Assert.True(entries.Count == 1, $"The pulled layout's index.json lists {entries.Count} entries; expected the index only.");
        Assert.True(entries[0].Digest == index.Digest,
            $"The pulled index has digest {entries[0].Digest}; the pushed one is {index.Digest}.");
        var pulledChildren = CopiedImage.ParseIndex(CopiedImage.ReadLayoutBlob(pulled, entries[0]));
        Assert.Equal([amd64.Manifest, arm64.Manifest], pulledChildren);

        foreach (var image in new[] { amd64, arm64 })
        {
            var (config, layers) = CopiedImage.ParseManifest(CopiedImage.ReadLayoutBlob(pulled, image.Manifest));
            Assert.Equal(image.Config, config);
            Assert.Equal(image.Layers, layers);
            CopiedImage.ReadLayoutBlob(pulled, config);
            foreach (var layer in layers)
            {
                CopiedImage.AssertBlobFile(CopiedImage.LayoutBlobPath(pulled, layer.Digest), layer);
            }
        }
    }
}

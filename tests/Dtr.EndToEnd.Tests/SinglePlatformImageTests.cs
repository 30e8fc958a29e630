using System.Net;
using System.Net.Http.Headers;

namespace Dtr.EndToEnd.Tests;

/// <summary>Pushes, inspects, pulls and deletes single-platform images with skopeo.</summary>
[Collection(RegistryCollection.Name)]
public sealed class SinglePlatformImageTests(RegistryFixture registry)
{
    private Skopeo Skopeo => registry.Skopeo;

    [Fact]
    public async Task OciImage_PushInspectPullDelete()
    {
        using var work = new TemporaryDirectory();
        var image = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        var reference = Skopeo.Reference("e2e/busybox", "1");

        await Skopeo.CopyAsync($"oci:{work.Combine("layout")}:1", reference);

        var raw = await Skopeo.InspectRawAsync(reference);
        Assert.True(Sha256.Of(raw) == image.Manifest.Digest,
            $"The registry serves a manifest with digest {Sha256.Of(raw)} for {reference}; the layout's manifest is {image.Manifest.Digest}.");

        var summary = await Skopeo.InspectAsync(reference);
        Assert.Equal(image.Manifest.Digest, summary["Digest"]?.GetValue<string>());
        Assert.Equal("amd64", summary["Architecture"]?.GetValue<string>());
        Assert.Equal("linux", summary["Os"]?.GetValue<string>());
        Assert.Equal(image.Layers.Select(l => l.Digest), summary["Layers"]!.AsArray().Select(l => l!.GetValue<string>()));

        var tags = await Skopeo.ListTagsAsync("e2e/busybox");
        Assert.True(tags.Contains("1"), $"Tag 1 is missing from the tag list of e2e/busybox: [{string.Join(", ", tags)}].");

        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(reference, $"oci:{pulled}:1");
        AssertLayoutContainsImage(pulled, image);

        await Skopeo.DeleteAsync(reference);

        var byTag = await Skopeo.TryInspectAsync(reference);
        Assert.False(byTag.Succeeded, $"skopeo inspect still finds {reference} after it was deleted.\n{byTag.Describe()}");
        var byDigest = await Skopeo.TryInspectAsync(Skopeo.Reference("e2e/busybox", image.Manifest.Digest));
        Assert.False(byDigest.Succeeded, $"skopeo inspect still finds manifest {image.Manifest.Digest} after it was deleted.\n{byDigest.Describe()}");
    }

    [Fact]
    public async Task DockerSchema2_PushAndPull()
    {
        using var work = new TemporaryDirectory();
        var image = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        var reference = Skopeo.Reference("e2e/docker-v2s2", "1");

        await Skopeo.CopyAsync($"oci:{work.Combine("layout")}:1", reference, "--format", "v2s2");

        var raw = await Skopeo.InspectRawAsync(reference);
        var manifest = System.Text.Json.Nodes.JsonNode.Parse(raw)!;
        Assert.Equal(MediaTypes.DockerManifest, manifest["mediaType"]?.GetValue<string>());
        var (config, layers) = CopiedImage.ParseManifest(raw);
        Assert.Equal(MediaTypes.DockerConfig, config.MediaType);
        Assert.All(layers, layer => Assert.Equal(MediaTypes.DockerLayerGzip, layer.MediaType));
        Assert.Equal(image.Layers.Select(l => l.Digest), layers.Select(l => l.Digest));

        var summary = await Skopeo.InspectAsync(reference);
        Assert.Equal(Sha256.Of(raw), summary["Digest"]?.GetValue<string>());

        // dir: keeps the manifest bytes as served, so its file must hash to the digest the registry reports.
        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(reference, $"dir:{pulled}");
        var pulledManifest = File.ReadAllBytes(Path.Combine(pulled, "manifest.json"));
        Assert.True(Sha256.Of(pulledManifest) == Sha256.Of(raw),
            $"The pulled schema 2 manifest has digest {Sha256.Of(pulledManifest)}; the registry reported {Sha256.Of(raw)}.");
        CopiedImage.AssertBlobFile(Path.Combine(pulled, config.Digest["sha256:".Length..]), config);
        foreach (var layer in layers)
        {
            CopiedImage.AssertBlobFile(Path.Combine(pulled, layer.Digest["sha256:".Length..]), layer);
        }
    }

    [Fact]
    public async Task SecondRepository_CopyAndMount()
    {
        using var work = new TemporaryDirectory();
        var image = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        var source = Skopeo.Reference("e2e/cross-source", "1");
        var target = Skopeo.Reference("e2e/cross-target", "1");

        await Skopeo.CopyAsync($"oci:{work.Combine("layout")}:1", source);
        await Skopeo.CopyAsync(source, target);

        foreach (var reference in new[] { source, target })
        {
            var raw = await Skopeo.InspectRawAsync(reference);
            Assert.True(Sha256.Of(raw) == image.Manifest.Digest,
                $"{reference} has manifest digest {Sha256.Of(raw)}; the layout's manifest is {image.Manifest.Digest}.");
        }

        var pulled = work.Combine("pulled");
        await Skopeo.CopyAsync(target, $"oci:{pulled}:1");
        AssertLayoutContainsImage(pulled, image);

        // A registry returns 201 when it mounted the blob, or 202 with an upload session to fall back on.
        var layer = image.Layers[0];
        using var mount = await registry.Http.PostAsync(
            $"/v2/e2e/cross-mounted/blobs/uploads/?mount={layer.Digest}&from=e2e/cross-source", content: null);
        Assert.True(mount.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted,
            $"POST mount of {layer.Digest} from e2e/cross-source returned {(int)mount.StatusCode}; expected 201 or 202.\n{registry.DescribeRegistry()}");
        if (mount.StatusCode == HttpStatusCode.Accepted)
        {
            var location = UploadLocation(mount, layer.Digest);
            using var blob = new ByteArrayContent(CopiedImage.ReadLayoutBlob(work.Combine("layout"), layer));
            blob.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var upload = await registry.Http.PutAsync(location, blob);
            Assert.True(upload.StatusCode == HttpStatusCode.Created,
                $"PUT {location} (the upload offered instead of a mount) returned {(int)upload.StatusCode}; expected 201.\n{registry.DescribeRegistry()}");
        }

        using var head = new HttpRequestMessage(HttpMethod.Head, $"/v2/e2e/cross-mounted/blobs/{layer.Digest}");
        using var headResponse = await registry.Http.SendAsync(head);
        Assert.True(headResponse.StatusCode == HttpStatusCode.OK,
            $"HEAD of mounted blob {layer.Digest} in e2e/cross-mounted returned {(int)headResponse.StatusCode}; expected 200.");
        Assert.Equal(layer.Size, headResponse.Content.Headers.ContentLength);
    }

    /// <summary>Asserts that a layout pulled by skopeo contains exactly the image written by the test, blob for blob.</summary>
    internal static void AssertLayoutContainsImage(string layout, ImageManifest expected)
    {
        var entries = CopiedImage.ReadEntryPoint(layout);
        Assert.True(entries.Count == 1, $"The pulled layout's index.json lists {entries.Count} manifests; expected 1.");
        Assert.True(entries[0].Digest == expected.Manifest.Digest,
            $"The pulled manifest has digest {entries[0].Digest}; the pushed one is {expected.Manifest.Digest}.");

        var manifest = CopiedImage.ReadLayoutBlob(layout, entries[0]);
        var (config, layers) = CopiedImage.ParseManifest(manifest);
        Assert.Equal(expected.Config, config);
        Assert.Equal(expected.Layers, layers);
        CopiedImage.ReadLayoutBlob(layout, config);
        foreach (var layer in layers)
        {
            CopiedImage.AssertBlobFile(CopiedImage.LayoutBlobPath(layout, layer.Digest), layer);
        }
    }

    private static string UploadLocation(HttpResponseMessage response, string digest)
    {
        var location = response.Headers.Location;
        Assert.True(location is not null, "The 202 response to a mount request has no Location header.");
        var separator = location.OriginalString.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return $"{location.OriginalString}{separator}digest={Uri.EscapeDataString(digest)}";
    }
}

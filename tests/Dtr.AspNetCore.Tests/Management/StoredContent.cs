using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>Stores blobs and manifests straight into a test host's stores, as a push would leave them.</summary>
public static class StoredContent
{
    /// <summary>Stores a blob and links it into the repository.</summary>
    public static async Task StoreBlobAsync(RegistryFactory factory, RepositoryName repository, byte[] content)
    {
        var blobs = factory.Services.GetRequiredService<IBlobStore>();
        var metadata = factory.Services.GetRequiredService<IMetadataStore>();
        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        var digest = Digest.Parse(TestContent.Sha256(content));
        await blobs.CommitUploadAsync(uploadId, digest);
        await metadata.LinkBlobAsync(repository, digest, content.Length);
    }

    /// <summary>Stores a manifest with tags and asserts that the store accepted it.</summary>
    public static async Task StoreManifestAsync(RegistryFactory factory, RepositoryName repository, TestManifest manifest, IReadOnlyList<string> tags)
    {
        var metadata = factory.Services.GetRequiredService<IMetadataStore>();
        var result = await metadata.PutManifestAsync(new ManifestWrite
        {
            Repository = repository,
            Digest = Digest.Parse(manifest.Digest),
            Content = manifest.Bytes,
            Manifest = ManifestParser.Parse(manifest.Bytes, manifest.MediaType),
            Tags = tags,
        });
        Assert.True(result.Stored, $"Storing manifest {manifest.Digest} in {repository} failed.");
    }

    /// <summary>Stores a config, its layers and an OCI image manifest of them, with tags.</summary>
    public static async Task<TestManifest> StoreImageAsync(RegistryFactory factory, RepositoryName repository, byte[] config, IReadOnlyList<byte[]> layers, IReadOnlyList<string> tags)
    {
        await StoreBlobAsync(factory, repository, config);
        foreach (var layer in layers)
        {
            await StoreBlobAsync(factory, repository, layer);
        }

        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            layers.Select(layer => TestContent.Descriptor(TestContent.OciLayer, layer)));
        await StoreManifestAsync(factory, repository, manifest, tags);
        return manifest;
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dtr.AspNetCore.Tests;

/// <summary>A manifest as pushed: its exact bytes, media type and sha256 digest.</summary>
public sealed record TestManifest(byte[] Bytes, string MediaType, string Digest)
{
    /// <summary>A descriptor of this manifest, for an index entry or a subject.</summary>
    public JsonObject Descriptor() => TestContent.Descriptor(MediaType, Bytes);
}

/// <summary>Builders of test content: digests, deterministic bytes, descriptors and manifests.</summary>
public static class TestContent
{
    public const string OciManifestType = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndexType = "application/vnd.oci.image.index.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";
    public const string OciLayer = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string DockerManifestType = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestListType = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip";

    /// <summary>The sha256 digest of zero bytes.</summary>
    public const string EmptySha256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>Returns a repository name that no other test uses, under <paramref name="prefix"/>.</summary>
    public static string UniqueRepository(string prefix = "test") => prefix + "/" + Guid.NewGuid().ToString("N")[..12];

    public static string Sha256(byte[] content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string Sha512(byte[] content) => "sha512:" + Convert.ToHexStringLower(SHA512.HashData(content));

    /// <summary>Returns <paramref name="length"/> pseudo-random bytes that depend only on <paramref name="seed"/>.</summary>
    public static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static byte[] Json(string text) => Encoding.UTF8.GetBytes(text);

    public static JsonObject Descriptor(string mediaType, byte[] content) => new()
    {
        ["mediaType"] = mediaType,
        ["digest"] = Sha256(content),
        ["size"] = content.Length,
    };

    /// <summary>Builds an OCI image manifest; the optional fields are left out when null.</summary>
    public static TestManifest OciManifest(
        JsonObject config,
        IEnumerable<JsonObject> layers,
        JsonObject? subject = null,
        string? artifactType = null,
        IReadOnlyDictionary<string, string>? annotations = null)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciManifestType,
        };
        if (artifactType is not null)
        {
            root["artifactType"] = artifactType;
        }

        root["config"] = config;
        root["layers"] = new JsonArray(layers.Select(layer => (JsonNode)layer).ToArray());
        if (subject is not null)
        {
            root["subject"] = subject;
        }

        if (annotations is not null)
        {
            root["annotations"] = Annotations(annotations);
        }

        return Build(root, OciManifestType);
    }

    /// <summary>Builds an OCI image index of the given manifests.</summary>
    public static TestManifest OciIndex(IEnumerable<TestManifest> manifests, JsonObject? subject = null, string? artifactType = null)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = OciIndexType,
        };
        if (artifactType is not null)
        {
            root["artifactType"] = artifactType;
        }

        root["manifests"] = new JsonArray(manifests.Select(m => (JsonNode)WithPlatform(m.Descriptor())).ToArray());
        if (subject is not null)
        {
            root["subject"] = subject;
        }

        return Build(root, OciIndexType);
    }

    /// <summary>Builds a Docker schema 2 image manifest.</summary>
    public static TestManifest DockerManifest(byte[] config, byte[] layer)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = DockerManifestType,
            ["config"] = Descriptor(DockerConfig, config),
            ["layers"] = new JsonArray(Descriptor(DockerLayer, layer)),
        };
        return Build(root, DockerManifestType);
    }

    /// <summary>Builds a Docker manifest list of the given manifests.</summary>
    public static TestManifest DockerManifestList(IEnumerable<TestManifest> manifests)
    {
        var root = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = DockerManifestListType,
            ["manifests"] = new JsonArray(manifests.Select(m => (JsonNode)WithPlatform(m.Descriptor())).ToArray()),
        };
        return Build(root, DockerManifestListType);
    }

    /// <summary>The media type and digest of a manifest that a test never pushes.</summary>
    public static JsonObject MissingManifestDescriptor(int seed) => Descriptor(OciManifestType, RandomBytes(100, seed));

    private static JsonObject WithPlatform(JsonObject descriptor)
    {
        descriptor["platform"] = new JsonObject { ["architecture"] = "amd64", ["os"] = "linux" };
        return descriptor;
    }

    private static JsonObject Annotations(IReadOnlyDictionary<string, string> annotations)
    {
        var result = new JsonObject();
        foreach (var (key, value) in annotations)
        {
            result[key] = value;
        }

        return result;
    }

    private static TestManifest Build(JsonObject root, string mediaType)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(root);
        return new TestManifest(bytes, mediaType, Sha256(bytes));
    }
}

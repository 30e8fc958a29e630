using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>Media types of the OCI image specification v1.1 and of Docker image manifest v2 schema 2.</summary>
internal static class MediaTypes
{
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string OciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
    public const string OciLayerTar = "application/vnd.oci.image.layer.v1.tar";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";
    public const string DockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
}

/// <summary>A content descriptor: what a manifest or index uses to point at a blob.</summary>
internal sealed record Descriptor(string MediaType, string Digest, long Size)
{
    public static Descriptor FromJson(JsonNode node) =>
        new(node["mediaType"]!.GetValue<string>(), node["digest"]!.GetValue<string>(), node["size"]!.GetValue<long>());

    public JsonObject ToJson() => new() { ["mediaType"] = MediaType, ["digest"] = Digest, ["size"] = Size };
}

/// <summary>A platform as written in image configs and index entries, such as linux/arm64/v8.</summary>
internal sealed record Platform(string Os, string Architecture, string? Variant = null)
{
    public static readonly Platform LinuxAmd64 = new("linux", "amd64");
    public static readonly Platform LinuxArm64 = new("linux", "arm64", "v8");

    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";
}

/// <summary>An image manifest written to a layout, with the digests the tests compare against a registry.</summary>
internal sealed record ImageManifest(Descriptor Manifest, Descriptor Config, IReadOnlyList<Descriptor> Layers, Platform Platform);

/// <summary>How <see cref="OciLayoutWriter.WriteLayer"/> stores a layer tar.</summary>
internal enum LayerCompression
{
    /// <summary>gzip at the default level.</summary>
    Gzip,

    /// <summary>gzip at the fastest level, for large layers of incompressible data.</summary>
    GzipFastest,

    /// <summary>An uncompressed tar.</summary>
    None,
}

/// <summary>
/// Writes an OCI image layout (image-spec v1.1: <c>oci-layout</c>, <c>index.json</c>, <c>blobs/sha256/</c>)
/// without any container tool, so the tests control every byte and know every digest.
/// </summary>
internal sealed class OciLayoutWriter
{
    private static readonly DateTimeOffset FixedTimestamp = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly string _blobDirectory;

    public OciLayoutWriter(string directory)
    {
        Directory = directory;
        _blobDirectory = Path.Combine(directory, "blobs", "sha256");
        System.IO.Directory.CreateDirectory(_blobDirectory);
        File.WriteAllText(Path.Combine(directory, "oci-layout"), """{"imageLayoutVersion":"1.0.0"}""");
    }

    public string Directory { get; }

    /// <summary>Stores a blob under its sha256 digest and returns its descriptor.</summary>
    public Descriptor WriteBlob(string mediaType, byte[] content)
    {
        var digest = Sha256.Of(content);
        File.WriteAllBytes(BlobPath(digest), content);
        return new Descriptor(mediaType, digest, content.LongLength);
    }

    /// <summary>
    /// Writes a layer as a tar stream, streaming through the compressor straight into the blob file, and returns
    /// the layer descriptor and its diff ID (the sha256 of the uncompressed tar, which the image config lists).
    /// </summary>
    public (Descriptor Layer, string DiffId) WriteLayer(LayerContent content, LayerCompression compression)
    {
        var temporaryPath = Path.Combine(_blobDirectory, $".incoming-{Guid.NewGuid():N}");
        string digest;
        string diffId;
        long size;
        using (var file = new FileStream(temporaryPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
        using (var blobHash = new HashingStream(file))
        {
            if (compression == LayerCompression.None)
            {
                content.WriteTar(blobHash);
                diffId = blobHash.GetDigest();
            }
            else
            {
                var level = compression == LayerCompression.GzipFastest ? CompressionLevel.Fastest : CompressionLevel.Optimal;
                using (var gzip = new GZipStream(blobHash, level, leaveOpen: true))
                using (var tarHash = new HashingStream(gzip))
                {
                    content.WriteTar(tarHash);
                    diffId = tarHash.GetDigest();
                }
            }

            // The gzip stream is disposed by now, so its final block is part of the hashed blob.
            blobHash.Flush();
            digest = blobHash.GetDigest();
            size = blobHash.BytesWritten;
        }

        File.Move(temporaryPath, BlobPath(digest), overwrite: true);
        var mediaType = compression == LayerCompression.None ? MediaTypes.OciLayerTar : MediaTypes.OciLayerGzip;
        return (new Descriptor(mediaType, digest, size), diffId);
    }

    /// <summary>Writes the layers, an image config and an image manifest for one platform.</summary>
    public ImageManifest WriteImage(Platform platform, IEnumerable<(LayerContent Content, LayerCompression Compression)> layers)
    {
        var layerDescriptors = new List<Descriptor>();
        var diffIds = new JsonArray();
        foreach (var (content, compression) in layers)
        {
            var (layer, diffId) = WriteLayer(content, compression);
            layerDescriptors.Add(layer);
            diffIds.Add(diffId);
        }

        var config = new JsonObject
        {
            ["created"] = FixedTimestamp.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            ["architecture"] = platform.Architecture,
            ["os"] = platform.Os,
            ["config"] = new JsonObject
            {
                ["Env"] = new JsonArray("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),
                ["Cmd"] = new JsonArray("/bin/sh"),
            },
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = diffIds },
            ["history"] = new JsonArray(layerDescriptors.Select(_ => (JsonNode)new JsonObject { ["created_by"] = "Dtr end-to-end test layout writer" }).ToArray()),
        };
        if (platform.Variant is not null)
        {
            config["variant"] = platform.Variant;
        }

        var configDescriptor = WriteBlob(MediaTypes.OciConfig, Serialize(config));
        var manifest = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = configDescriptor.ToJson(),
            ["layers"] = new JsonArray(layerDescriptors.Select(d => (JsonNode)d.ToJson()).ToArray()),
        };
        var manifestDescriptor = WriteBlob(MediaTypes.OciManifest, Serialize(manifest));
        return new ImageManifest(manifestDescriptor, configDescriptor, layerDescriptors, platform);
    }

    /// <summary>Writes an image index blob listing the given images with their platforms.</summary>
    public Descriptor WriteImageIndex(IEnumerable<ImageManifest> images)
    {
        var index = new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new JsonArray(images.Select(image => (JsonNode)WithPlatform(image.Manifest.ToJson(), image.Platform)).ToArray()),
        };
        return WriteBlob(MediaTypes.OciIndex, Serialize(index));
    }

    /// <summary>
    /// Writes <c>index.json</c>, the layout's entry point, naming each manifest or index with a
    /// <c>org.opencontainers.image.ref.name</c> annotation so skopeo can select it as <c>oci:DIR:NAME</c>.
    /// </summary>
    public void WriteEntryPoint(params (Descriptor Descriptor, string ReferenceName)[] entries)
    {
        var manifests = new JsonArray();
        foreach (var (descriptor, referenceName) in entries)
        {
            var entry = descriptor.ToJson();
            entry["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = referenceName };
            manifests.Add(entry);
        }

        var index = new JsonObject { ["schemaVersion"] = 2, ["mediaType"] = MediaTypes.OciIndex, ["manifests"] = manifests };
        File.WriteAllBytes(Path.Combine(Directory, "index.json"), Serialize(index));
    }

    private string BlobPath(string digest) => Path.Combine(_blobDirectory, digest["sha256:".Length..]);

    private static JsonObject WithPlatform(JsonObject descriptor, Platform platform)
    {
        var json = new JsonObject { ["architecture"] = platform.Architecture, ["os"] = platform.Os };
        if (platform.Variant is not null)
        {
            json["variant"] = platform.Variant;
        }

        descriptor["platform"] = json;
        return descriptor;
    }

    private static byte[] Serialize(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node);

    /// <summary>The tar entries of one layer, written with fixed owners and timestamps.</summary>
    internal sealed class LayerContent
    {
        private readonly List<Action<TarWriter>> _entries = [];

        public LayerContent AddDirectory(string path)
        {
            _entries.Add(writer => writer.WriteEntry(NewEntry(TarEntryType.Directory, path.TrimEnd('/') + "/", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute)));
            return this;
        }

        public LayerContent AddFile(string path, byte[] content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead) =>
            AddFile(path, () => new MemoryStream(content, writable: false), mode);

        /// <summary>Adds a file whose data is read from a stream opened only while the tar is written.</summary>
        public LayerContent AddFile(string path, Func<Stream> openContent, UnixFileMode mode)
        {
            _entries.Add(writer =>
            {
                using var data = openContent();
                var entry = NewEntry(TarEntryType.RegularFile, path, mode);
                entry.DataStream = data;
                writer.WriteEntry(entry);
            });
            return this;
        }

        public LayerContent AddSymbolicLink(string path, string target)
        {
            _entries.Add(writer =>
            {
                var entry = NewEntry(TarEntryType.SymbolicLink, path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
                entry.LinkName = target;
                writer.WriteEntry(entry);
            });
            return this;
        }

        /// <summary>Writes the entries as a complete tar archive, end-of-archive blocks included.</summary>
        public void WriteTar(Stream destination)
        {
            using var writer = new TarWriter(destination, TarEntryFormat.Ustar, leaveOpen: true);
            foreach (var write in _entries)
            {
                write(writer);
            }
        }

        private static UstarTarEntry NewEntry(TarEntryType type, string path, UnixFileMode mode) =>
            new(type, path.TrimStart('/'))
            {
                Mode = mode,
                Uid = 0,
                Gid = 0,
                UserName = "root",
                GroupName = "root",
                ModificationTime = FixedTimestamp,
            };
    }
}

/// <summary>Reads what skopeo wrote to an OCI layout or a <c>dir:</c> directory, checking each blob's digest.</summary>
internal static class CopiedImage
{
    /// <summary>Returns the descriptors listed in a layout's <c>index.json</c>.</summary>
    public static IReadOnlyList<Descriptor> ReadEntryPoint(string layoutDirectory)
    {
        var index = JsonNode.Parse(File.ReadAllBytes(Path.Combine(layoutDirectory, "index.json")))!;
        return index["manifests"]!.AsArray().Select(node => Descriptor.FromJson(node!)).ToList();
    }

    /// <summary>Reads a blob of an OCI layout and asserts that its content matches its digest and size.</summary>
    public static byte[] ReadLayoutBlob(string layoutDirectory, Descriptor descriptor)
    {
        var path = LayoutBlobPath(layoutDirectory, descriptor.Digest);
        AssertBlobFile(path, descriptor);
        return File.ReadAllBytes(path);
    }

    /// <summary>Returns the path of a blob in an OCI layout, asserting that the file exists.</summary>
    public static string LayoutBlobPath(string layoutDirectory, string digest)
    {
        var path = Path.Combine(layoutDirectory, "blobs", "sha256", digest["sha256:".Length..]);
        Assert.True(File.Exists(path), $"The copied layout at {layoutDirectory} has no blob {digest}.");
        return path;
    }

    /// <summary>Asserts that a file has the size and the sha256 digest of a descriptor, hashing it as a stream.</summary>
    public static void AssertBlobFile(string path, Descriptor descriptor)
    {
        var length = new FileInfo(path).Length;
        Assert.True(length == descriptor.Size, $"Blob {descriptor.Digest} at {path} has {length} bytes; its descriptor says {descriptor.Size}.");
        var actual = Sha256.OfFile(path);
        Assert.True(actual == descriptor.Digest, $"Blob at {path} hashes to {actual}; its descriptor says {descriptor.Digest}.");
    }

    /// <summary>Parses the config and layer descriptors of an image manifest.</summary>
    public static (Descriptor Config, IReadOnlyList<Descriptor> Layers) ParseManifest(byte[] manifest)
    {
        var json = JsonNode.Parse(manifest)!;
        var layers = json["layers"]!.AsArray().Select(node => Descriptor.FromJson(node!)).ToList();
        return (Descriptor.FromJson(json["config"]!), layers);
    }

    /// <summary>Parses the manifest descriptors of an image index.</summary>
    public static IReadOnlyList<Descriptor> ParseIndex(byte[] index) =>
        JsonNode.Parse(index)!["manifests"]!.AsArray().Select(node => Descriptor.FromJson(node!)).ToList();
}

/// <summary>sha256 digests in the <c>sha256:&lt;hex&gt;</c> form, computed without the code under test.</summary>
internal static class Sha256
{
    public static string Of(ReadOnlySpan<byte> content) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(content));

    public static string OfFile(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(file));
    }
}

/// <summary>A write-only stream that hashes and counts what passes through it to an inner stream.</summary>
internal sealed class HashingStream(Stream inner) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long BytesWritten { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => BytesWritten;

    public override long Position
    {
        get => BytesWritten;
        set => throw new NotSupportedException();
    }

    /// <summary>Returns the digest of everything written so far.</summary>
    public string GetDigest() => "sha256:" + Convert.ToHexStringLower(_hash.GetCurrentHash());

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        _hash.AppendData(buffer);
        BytesWritten += buffer.Length;
        inner.Write(buffer);
    }

    public override void Flush() => inner.Flush();
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }
}

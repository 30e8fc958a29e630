using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dtr.Digests;
using Dtr.Manifests;

namespace Dtr.Scanning.Tests.Service;

/// <summary>Builds the layers, configs, manifests and OSV archives the service tests push and import.</summary>
internal static class TestArtifacts
{
    public const string DebianOsRelease = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";

    /// <summary>A dpkg status file that lists libc6, built from glibc, at the given version.</summary>
    public static string DpkgStatus(string glibcVersion) =>
        $"Package: libc6\nStatus: install ok installed\nArchitecture: amd64\nSource: glibc\nVersion: {glibcVersion}\n\n";

    /// <summary>A gzip-compressed tar layer with the given files.</summary>
    public static byte[] Layer(params (string Path, string Content)[] files)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (path, content) in files)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, path)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    /// <summary>A Debian 12 layer with libc6 (source glibc) at the given version.</summary>
    public static byte[] DebianLayer(string glibcVersion) =>
        Layer(("etc/os-release", DebianOsRelease), ("var/lib/dpkg/status", DpkgStatus(glibcVersion)));

    public static byte[] Config(string architecture = "amd64", string os = "linux") =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { architecture, os, rootfs = new { type = "layers", diff_ids = Array.Empty<string>() } }));

    public static byte[] ImageManifest(byte[] config, IReadOnlyList<byte[]> layers, string configMediaType = MediaTypes.OciConfig) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciManifest,
            config = new { mediaType = configMediaType, digest = Digest.Compute(config).Value, size = config.Length },
            layers = layers.Select(layer => new { mediaType = MediaTypes.OciLayerGzip, digest = Digest.Compute(layer).Value, size = layer.Length }).ToArray(),
        }));

    public static byte[] Index(params (byte[] Manifest, string Os, string Architecture)[] children) =>
        Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            schemaVersion = 2,
            mediaType = MediaTypes.OciIndex,
            manifests = children.Select(child => new
            {
                mediaType = MediaTypes.OciManifest,
                digest = Digest.Compute(child.Manifest).Value,
                size = child.Manifest.Length,
                platform = new { os = child.Os, architecture = child.Architecture },
            }).ToArray(),
        }));

    /// <summary>An OSV record of glibc in Debian 12, fixed in <paramref name="fixedVersion"/>.</summary>
    public static string GlibcRecord(string id, string fixedVersion, string severity = "HIGH", params string[] aliases) =>
        JsonSerializer.Serialize(new
        {
            id,
            aliases,
            summary = $"{id} in glibc",
            modified = "2024-01-01T00:00:00Z",
            affected = new[]
            {
                new
                {
                    package = new { ecosystem = "Debian:12", name = "glibc" },
                    ranges = new[] { new { type = "ECOSYSTEM", events = new object[] { new { introduced = "0" }, new { @fixed = fixedVersion } } } },
                },
            },
            database_specific = new { severity },
        });

    /// <summary>A zip archive of OSV records, one file each.</summary>
    public static byte[] OsvZip(params string[] records)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            for (var i = 0; i < records.Length; i++)
            {
                var entry = zip.CreateEntry($"record-{i}.json");
                using var stream = entry.Open();
                stream.Write(Encoding.UTF8.GetBytes(records[i]));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Signs the SHA-256 hash of <paramref name="content"/> with ECDSA in DER form, as openssl does.</summary>
    public static byte[] SignDer(ECDsa key, byte[] content) =>
        key.SignData(content, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
}

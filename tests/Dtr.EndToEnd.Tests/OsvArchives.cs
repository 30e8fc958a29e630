using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Vulnerability database archives in the OSV format (schema 1.6): a zip or a gzip-compressed tar of one JSON record
/// per file, as osv.dev publishes them per ecosystem. The ids, packages, fixed versions and the CVSS vector are those
/// of the real advisories; the summaries are short descriptions written for these tests.
/// </summary>
internal static class OsvArchives
{
    public const string GlibcId = "CVE-2023-4911";
    public const string OpenSslId = "CVE-2023-5363";
    public const string BusyboxId = "CVE-2022-48174";
    public const string ZlibId = "CVE-2022-37434";

    /// <summary>The CVSS v3.1 vector of CVE-2023-4911, whose base score of 7.8 makes it high.</summary>
    public const string GlibcCvssVector = "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H";

    /// <summary>Returns the four records: two for Debian 12 and two for Alpine 3.18.</summary>
    public static IReadOnlyList<JsonObject> Records() =>
    [
        Record(
            GlibcId,
            "glibc: the dynamic loader overflows a buffer while parsing GLIBC_TUNABLES, letting a local user gain root through setuid programs",
            "Debian:12",
            "glibc",
            "2.36-9+deb12u3",
            GlibcCvssVector,
            "https://security-tracker.debian.org/tracker/CVE-2023-4911"),
        Record(
            OpenSslId,
            "openssl: changed key and IV lengths are applied too late when a cipher is initialised, which can truncate or overrun them",
            "Debian:12",
            "openssl",
            "3.0.11-1~deb12u2",
            cvssVector: null,
            "https://security-tracker.debian.org/tracker/CVE-2023-5363"),
        Record(
            BusyboxId,
            "busybox: crafted input overflows a stack buffer in the ash shell, which may allow running arbitrary code",
            "Alpine:v3.18",
            "busybox",
            "1.36.1-r1",
            cvssVector: null,
            "https://security.alpinelinux.org/vuln/CVE-2022-48174"),
        Record(
            ZlibId,
            "zlib: inflate reads or writes past a heap buffer when a gzip header has a large extra field and the caller uses inflateGetHeader",
            "Alpine:v3.18",
            "zlib",
            "1.2.12-r2",
            cvssVector: null,
            "https://security.alpinelinux.org/vuln/CVE-2022-37434"),
    ];

    /// <summary>Returns a zip archive with one <c>ID.json</c> file per record.</summary>
    public static byte[] Zip(IEnumerable<JsonObject> records)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var record in records)
            {
                var entry = zip.CreateEntry($"{record["id"]}.json", CompressionLevel.Optimal);
                using var stream = entry.Open();
                stream.Write(Serialize(record));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Returns a gzip-compressed tar archive with one <c>ID.json</c> file per record.</summary>
    public static byte[] TarGz(IEnumerable<JsonObject> records)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var record in records)
            {
                var entry = new PaxTarEntry(TarEntryType.RegularFile, $"{record["id"]}.json")
                {
                    DataStream = new MemoryStream(Serialize(record)),
                    Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
                };
                tar.WriteEntry(entry);
            }
        }

        return buffer.ToArray();
    }

    private static JsonObject Record(
        string id, string summary, string ecosystem, string package, string fixedVersion, string? cvssVector, string reference)
    {
        var record = new JsonObject
        {
            ["schema_version"] = "1.6.0",
            ["id"] = id,
            ["modified"] = "2024-01-01T00:00:00Z",
            ["summary"] = summary,
            ["affected"] = new JsonArray(new JsonObject
            {
                ["package"] = new JsonObject { ["ecosystem"] = ecosystem, ["name"] = package },
                ["ranges"] = new JsonArray(new JsonObject
                {
                    ["type"] = "ECOSYSTEM",
                    ["events"] = new JsonArray(
                        new JsonObject { ["introduced"] = "0" },
                        new JsonObject { ["fixed"] = fixedVersion }),
                }),
            }),
            ["references"] = new JsonArray(new JsonObject { ["type"] = "ADVISORY", ["url"] = reference }),
        };
        if (cvssVector is not null)
        {
            record["severity"] = new JsonArray(new JsonObject { ["type"] = "CVSS_V3", ["score"] = cvssVector });
        }

        return record;
    }

    private static byte[] Serialize(JsonNode node) => JsonSerializer.SerializeToUtf8Bytes(node, new JsonSerializerOptions { WriteIndented = true });
}

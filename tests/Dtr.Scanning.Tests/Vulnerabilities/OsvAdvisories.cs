namespace Dtr.Scanning.Tests.Vulnerabilities;

/// <summary>
/// OSV records of published advisories. The ids, packages, ecosystems, versions and CVSS vectors are the advisories'
/// own; the summaries are written for these tests.
/// </summary>
internal static class OsvAdvisories
{
    /// <summary>glibc "Looney Tunables" buffer overflow in ld.so, fixed in Debian 12 by 2.36-9+deb12u3.</summary>
    public const string GlibcDebian = """
        {
          "schema_version": "1.6.0",
          "id": "DEBIAN-CVE-2023-4911",
          "modified": "2024-09-18T03:21:44Z",
          "aliases": ["CVE-2023-4911"],
          "details": "A buffer overflow in the dynamic loader's handling of GLIBC_TUNABLES.\nLocal users can gain root privileges through set-user-ID programs.",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H"}],
          "affected": [{
            "package": {"ecosystem": "Debian:12", "name": "glibc", "purl": "pkg:deb/debian/glibc?arch=source"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.36-9+deb12u3"}]}]
          }],
          "references": [
            {"type": "ADVISORY", "url": "https://security-tracker.debian.org/tracker/CVE-2023-4911"},
            {"type": "WEB", "url": "https://www.qualys.com/2023/10/03/cve-2023-4911/looney-tunables-local-privilege-escalation-glibc-ld-so.txt"}
          ]
        }
        """;

    /// <summary>OpenSSL ignores changed IV and key lengths in some ciphers, fixed in Debian 12 by 3.0.11-1~deb12u2.</summary>
    public const string OpensslDebian = """
        {
          "id": "DEBIAN-CVE-2023-5363",
          "modified": "2024-09-18T03:21:44Z",
          "aliases": ["CVE-2023-5363"],
          "summary": "OpenSSL processes key and IV length changes too late",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
          "affected": [{
            "package": {"ecosystem": "Debian:12", "name": "openssl"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}]}]
          }]
        }
        """;

    /// <summary>BusyBox man stack overflow, fixed in Alpine 3.18 by 1.36.1-r1.</summary>
    public const string BusyboxAlpine = """
        {
          "id": "ALPINE-CVE-2022-48174",
          "modified": "2024-05-01T00:00:00Z",
          "aliases": ["CVE-2022-48174"],
          "summary": "Stack overflow in BusyBox's shell arithmetic",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "affected": [{
            "package": {"ecosystem": "Alpine:v3.18", "name": "busybox"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.36.1-r1"}]}]
          }]
        }
        """;

    /// <summary>zlib inflateGetHeader overflow, fixed in Alpine 3.18's history by 1.2.12-r2.</summary>
    public const string ZlibAlpine = """
        {
          "id": "ALPINE-CVE-2022-37434",
          "modified": "2024-05-01T00:00:00Z",
          "aliases": ["CVE-2022-37434"],
          "summary": "Heap overflow in zlib's inflate with a large gzip header extra field",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "affected": [{
            "package": {"ecosystem": "Alpine:v3.18", "name": "zlib"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1.2.12-r2"}]}]
          }]
        }
        """;

    /// <summary>Newtonsoft.Json stack overflow on deeply nested input, fixed in 13.0.1; GitHub rates it HIGH.</summary>
    public const string NewtonsoftJson = """
        {
          "id": "GHSA-5crp-9r3c-p9vr",
          "modified": "2024-01-04T00:00:00Z",
          "aliases": ["CVE-2024-21907"],
          "summary": "Newtonsoft.Json can exhaust the stack on deeply nested JSON",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"}],
          "affected": [{
            "package": {"ecosystem": "NuGet", "name": "Newtonsoft.Json"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "13.0.1"}]}]
          }],
          "database_specific": {"severity": "HIGH", "github_reviewed": true}
        }
        """;

    /// <summary>
    /// System.Text.Encodings.Web remote code execution, with three affected spans in one range: fixed in 4.5.1,
    /// 4.7.2 and 5.0.1.
    /// </summary>
    public const string TextEncodingsWeb = """
        {
          "id": "GHSA-ghhp-997w-qr28",
          "modified": "2023-01-01T00:00:00Z",
          "aliases": ["CVE-2021-26701"],
          "summary": "Remote code execution in System.Text.Encodings.Web",
          "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
          "affected": [{
            "package": {"ecosystem": "NuGet", "name": "System.Text.Encodings.Web"},
            "ranges": [{"type": "ECOSYSTEM", "events": [
              {"introduced": "4.0.0"}, {"fixed": "4.5.1"},
              {"introduced": "4.6.0"}, {"fixed": "4.7.2"},
              {"introduced": "5.0.0"}, {"fixed": "5.0.1"}
            ]}]
          }],
          "database_specific": {"severity": "CRITICAL"}
        }
        """;

    /// <summary>glibc "Looney Tunables" in Ubuntu 22.04 LTS, whose OSV ecosystem string carries the LTS suffix.</summary>
    public const string GlibcUbuntu = """
        {
          "id": "UBUNTU-CVE-2023-4911",
          "modified": "2024-01-01T00:00:00Z",
          "summary": "glibc buffer overflow in GLIBC_TUNABLES handling",
          "severity": [{"type": "Ubuntu", "score": "high"}],
          "affected": [{
            "package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "glibc"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.35-0ubuntu3.4"}]}]
          }]
        }
        """;

    /// <summary>Returns a record with one affected package and the given events, for range semantics.</summary>
    public static string WithEvents(string id, string ecosystem, string package, string eventsJson, string? versionsJson = null) => $$"""
        {
          "id": "{{id}}",
          "modified": "2024-01-01T00:00:00Z",
          "affected": [{
            "package": {"ecosystem": "{{ecosystem}}", "name": "{{package}}"},
            "ranges": [{"type": "ECOSYSTEM", "events": {{eventsJson}}}],
            "versions": {{versionsJson ?? "[]"}}
          }]
        }
        """;
}

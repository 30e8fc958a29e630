using System.Text;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Scanning.Tests.Vulnerabilities;

public class OsvRecordParserTests
{
    private const string Affected = """
        "affected": [{"package": {"ecosystem": "NuGet", "name": "Some.Package"},
          "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}]
        """;

    [Theory]
    [InlineData(""" "database_specific": {"severity": "MODERATE"}""", Severity.Medium)]
    [InlineData(""" "database_specific": {"severity": "CRITICAL"}""", Severity.Critical)]
    [InlineData(""" "database_specific": {"severity": "LOW"}""", Severity.Low)]
    [InlineData(""" "severity": [{"type": "Ubuntu", "score": "negligible"}]""", Severity.Low)]
    [InlineData(""" "severity": [{"type": "Ubuntu", "score": "medium"}]""", Severity.Medium)]
    [InlineData(""" "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}]""", Severity.High)]
    [InlineData(""" "severity": [{"type": "CVSS_V2", "score": "AV:N/AC:L/Au:N/C:P/I:P/A:P"}, {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N"}]""", Severity.Low)]
    [InlineData(""" "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, {"type": "CVSS_V2", "score": "AV:N/AC:H/Au:N/C:P/I:N/A:N"}], "database_specific": {"severity": "CRITICAL"}""", Severity.Critical)]
    [InlineData(""" "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"}, {"type": "CVSS_V2", "score": "AV:N/AC:H/Au:N/C:P/I:N/A:N"}]""", Severity.Critical)]
    [InlineData(""" "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:L/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"}], "database_specific": {"severity": "CRITICAL"}""", Severity.Medium)]
    [InlineData(""" "severity": [{"type": "CVSS_V4", "score": "CVSS:4.0/invalid"}, {"type": "CVSS_V2", "score": "AV:N/AC:H/Au:N/C:P/I:N/A:N"}]""", Severity.Low)]
    [InlineData(""" "severity": [{"type": "CVSS_V3", "score": "not a vector"}], "database_specific": {"severity": "HIGH"}""", Severity.High)]
    [InlineData("", Severity.Unknown)]
    public void Parse_SeverityFields_GiveSeverity(string extraFields, Severity expected)
    {
        var json = $$"""{"id": "TEST-1", {{Affected}}{{(extraFields.Length > 0 ? ", " + extraFields : "")}}}""";

        Assert.Equal(OsvParseOutcome.Record, OsvRecordParser.Parse(Encoding.UTF8.GetBytes(json), out var entry, out _));
        Assert.Equal(expected, entry!.Severity);
    }

    [Fact]
    public void Parse_AffectedUrgency_GivesSeverity()
    {
        var json = """
            {"id": "TEST-2", "affected": [{"package": {"ecosystem": "Debian:12", "name": "glibc"}, "ecosystem_specific": {"urgency": "unimportant"}}]}
            """;

        OsvRecordParser.Parse(Encoding.UTF8.GetBytes(json), out var entry, out _);

        Assert.Equal(Severity.Low, entry!.Severity);
    }

    [Fact]
    public void Parse_Record_KeepsCompactFields()
    {
        var references = string.Join(",", Enumerable.Range(1, 8).Select(i => "{\"type\": \"WEB\", \"url\": \"https://example.org/" + i + "\"}"));
        var json = $$$"""
            {
              "id": "TEST-3",
              "aliases": ["CVE-2024-0001"],
              "modified": "2024-02-03T04:05:06Z",
              "details": "\n{{{new string('x', 300)}}}\nsecond line",
              "references": [{{{references}}}],
              "affected": [
                {"package": {"ecosystem": "NuGet", "name": "Some.Package"}, "versions": ["1.0.0"]},
                {"package": {"ecosystem": "Ubuntu:22.04:LTS", "name": "glibc"}},
                {"ranges": [{"type": "GIT", "repo": "https://example.org/r.git", "events": [{"introduced": "0"}]}]}
              ]
            }
            """;

        Assert.Equal(OsvParseOutcome.Record, OsvRecordParser.Parse(Encoding.UTF8.GetBytes(json), out var entry, out _));

        Assert.Equal([new VulnerabilityPackageKey("NuGet", "some.package"), new VulnerabilityPackageKey("Ubuntu:22.04", "glibc")], entry!.Packages);
        var record = StoredVulnerability.Deserialize(entry.RecordJson);
        Assert.Equal(["CVE-2024-0001"], record.Aliases);
        Assert.Equal("2024-02-03T04:05:06Z", record.Modified);
        Assert.Equal(OsvRecordParser.MaxSummaryLength, record.Summary!.Length);
        Assert.EndsWith("…", record.Summary, StringComparison.Ordinal);
        Assert.Equal(OsvRecordParser.MaxReferences, record.References.Count);
        Assert.Equal(["1.0.0"], record.Affected[0].Versions);
    }

    [Theory]
    [InlineData("not json", "Invalid")]
    [InlineData("[1, 2]", "Invalid")]
    [InlineData("""{"summary": "no id"}""", "Invalid")]
    [InlineData("""{"id": "X-1", "withdrawn": "2024-01-01T00:00:00Z", "affected": [{"package": {"ecosystem": "NuGet", "name": "a"}}]}""", "Withdrawn")]
    [InlineData("""{"id": "X-2", "affected": []}""", "NoPackages")]
    public void Parse_UnusableFile_GivesOutcome(string json, string expected)
    {
        Assert.Equal(Enum.Parse<OsvParseOutcome>(expected), OsvRecordParser.Parse(Encoding.UTF8.GetBytes(json), out var entry, out var reason));
        Assert.Null(entry);
        Assert.NotNull(reason);
    }
}

using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Scanning.Tests.Vulnerabilities;

public class CvssTests
{
    // Vectors and base scores from the CVSS v3.1 specification's examples document (FIRST) and NVD.
    [Theory]
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8)] // CVE-2023-4911
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0)] // CVE-2021-44228
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)] // CVE-2022-48174
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N", 7.5)] // CVE-2023-5363
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5)] // CVE-2024-21907
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1)] // CVE-2013-1937
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N", 6.4)] // CVE-2013-0375
    [InlineData("CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N", 3.1)] // CVE-2014-3566
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9)] // CVE-2012-1516
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L", 4.2)] // CVE-2009-0783
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 8.8)] // CVE-2012-0384
    [InlineData("CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 7.8)] // CVE-2015-1098
    [InlineData("CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:N/I:H/A:H", 9.3)] // CVE-2013-6014
    [InlineData("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 6.8)] // CVE-2014-2005
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:L/I:N/A:N", 5.8)] // CVE-2010-0467
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0)]
    [InlineData("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8)]
    [InlineData("CVSS:3.0/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5)]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C", 9.8)]
    public void V3_PublishedVector_GivesPublishedScore(string vector, double expected)
    {
        Assert.True(Cvss.TryComputeV3(vector, out var score));
        Assert.Equal(expected, score);
    }

    // Vectors and base scores from the CVSS v2 guide's examples (FIRST) and NVD.
    [Theory]
    [InlineData("AV:N/AC:L/Au:N/C:N/I:N/A:C", 7.8)] // CVE-2002-0392
    [InlineData("AV:N/AC:L/Au:N/C:C/I:C/A:C", 10.0)] // CVE-2003-0818
    [InlineData("AV:L/AC:H/Au:N/C:C/I:C/A:C", 6.2)] // CVE-2003-0062
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5)]
    [InlineData("AV:N/AC:M/Au:N/C:P/I:P/A:P", 6.8)]
    [InlineData("AV:N/AC:M/Au:N/C:N/I:P/A:N", 4.3)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:N/A:N", 5.0)] // CVE-2014-0160
    [InlineData("AV:L/AC:L/Au:N/C:P/I:N/A:N", 2.1)]
    [InlineData("AV:N/AC:L/Au:S/C:P/I:P/A:P", 6.5)]
    [InlineData("AV:L/AC:L/Au:N/C:C/I:C/A:C", 7.2)]
    [InlineData("AV:N/AC:M/Au:N/C:C/I:C/A:C", 9.3)]
    [InlineData("AV:N/AC:H/Au:N/C:P/I:N/A:N", 2.6)]
    [InlineData("AV:L/AC:L/Au:S/C:C/I:C/A:C", 6.8)] // CVE-2023-4911 in NVD's v2 rating of Fedora's advisory
    [InlineData("AV:N/AC:L/Au:N/C:N/I:N/A:N", 0.0)]
    [InlineData("(AV:N/AC:L/Au:N/C:P/I:P/A:P)", 7.5)]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P/A:P/E:F/RL:OF/RC:C", 7.5)]
    public void V2_PublishedVector_GivesPublishedScore(string vector, double expected)
    {
        Assert.True(Cvss.TryComputeV2(vector, out var score));
        Assert.Equal(expected, score);
    }

    [Theory]
    [InlineData("AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")] // no version prefix
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H")] // A missing
    [InlineData("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")] // invalid value
    [InlineData("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")] // duplicate metric
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1")] // unknown metric
    [InlineData("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N")]
    [InlineData("")]
    public void V3_InvalidVector_IsRejected(string vector)
    {
        Assert.False(Cvss.TryComputeV3(vector, out _));
    }

    [Theory]
    [InlineData("AV:N/AC:L/Au:N/C:P/I:P")]
    [InlineData("AV:N/AC:L/Au:X/C:P/I:P/A:P")]
    [InlineData("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")]
    public void V2_InvalidVector_IsRejected(string vector)
    {
        Assert.False(Cvss.TryComputeV2(vector, out _));
    }

    [Theory]
    [InlineData(10.0, Severity.Critical)]
    [InlineData(9.0, Severity.Critical)]
    [InlineData(8.9, Severity.High)]
    [InlineData(7.0, Severity.High)]
    [InlineData(6.9, Severity.Medium)]
    [InlineData(4.0, Severity.Medium)]
    [InlineData(3.9, Severity.Low)]
    [InlineData(0.1, Severity.Low)]
    [InlineData(0.0, Severity.Unknown)]
    public void SeverityOf_Score_FollowsBands(double score, Severity expected)
    {
        Assert.Equal(expected, Cvss.SeverityOf(score));
    }
}

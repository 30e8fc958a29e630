using Dtr.Scanning.Vulnerabilities;
using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Vulnerabilities;

public class OsvRangeMatcherTests
{
    private readonly List<string> _invalid = [];
    private readonly OsvRangeMatcher _matcher;

    public OsvRangeMatcherTests()
    {
        _matcher = new OsvRangeMatcher(VersionComparers.For(PackageEcosystem.Dpkg), _invalid.Add);
    }

    [Theory]
    [InlineData("0.9", false)]
    [InlineData("1.0", true)]
    [InlineData("1.5", true)]
    [InlineData("2.0", false)]
    [InlineData("2.5", false)]
    [InlineData("3.0", true)]
    [InlineData("3.9", true)]
    [InlineData("4.0", false)]
    public void IsAffected_TwoSpans_FollowsEvents(string version, bool expected)
    {
        var affected = Affected(new StoredEvent("3.0", null, null, null), new StoredEvent(null, "4.0", null, null), new StoredEvent("1.0", null, null, null), new StoredEvent(null, "2.0", null, null));

        Assert.Equal(expected, _matcher.IsAffected(affected, version, out _));
    }

    [Fact]
    public void IsAffected_TwoSpans_GivesNextFix()
    {
        var affected = Affected(new StoredEvent("0", null, null, null), new StoredEvent(null, "2.0", null, null), new StoredEvent("3.0", null, null, null), new StoredEvent(null, "4.0", null, null));

        Assert.True(_matcher.IsAffected(affected, "3.5", out var fixedVersion));
        Assert.Equal("4.0", fixedVersion);
        Assert.True(_matcher.IsAffected(affected, "1.0", out fixedVersion));
        Assert.Equal("2.0", fixedVersion);
    }

    [Theory]
    [InlineData("1.9", true)]
    [InlineData("2.0", false)]
    [InlineData("5.0", false)]
    public void IsAffected_Limit_EndsRange(string version, bool expected)
    {
        var affected = Affected(new StoredEvent("0", null, null, null), new StoredEvent(null, null, null, "2.0"));

        Assert.Equal(expected, _matcher.IsAffected(affected, version, out _));
    }

    [Fact]
    public void IsAffected_LimitStar_IsUnbounded()
    {
        var affected = Affected(new StoredEvent("1.0", null, null, null), new StoredEvent(null, null, null, "*"));

        Assert.True(_matcher.IsAffected(affected, "99.0", out _));
        Assert.Empty(_invalid);
    }

    [Fact]
    public void IsAffected_IntroducedOnly_AffectsEveryLaterVersion()
    {
        var affected = Affected(new StoredEvent("2.0", null, null, null));

        Assert.False(_matcher.IsAffected(affected, "1.0", out _));
        Assert.True(_matcher.IsAffected(affected, "2.0", out var fixedVersion));
        Assert.Null(fixedVersion);
    }

    [Fact]
    public void IsAffected_SeveralRanges_GivesSmallestFix()
    {
        var affected = new StoredAffected(
            "Debian:12",
            "x",
            [
                new StoredRange("ECOSYSTEM", [new StoredEvent("0", null, null, null), new StoredEvent(null, "3.0", null, null)]),
                new StoredRange("ECOSYSTEM", [new StoredEvent("1.0", null, null, null), new StoredEvent(null, "2.0", null, null)]),
            ],
            []);

        Assert.True(_matcher.IsAffected(affected, "1.5", out var fixedVersion));
        Assert.Equal("2.0", fixedVersion);
    }

    [Fact]
    public void IsAffected_InvalidEvent_IsLeftOutAndReported()
    {
        var affected = Affected(new StoredEvent("0", null, null, null), new StoredEvent(null, "bad version", null, null), new StoredEvent(null, "2.0", null, null));

        Assert.False(_matcher.IsAffected(affected, "2.0", out _));
        Assert.True(_matcher.IsAffected(affected, "1.0", out var fixedVersion));
        Assert.Equal("2.0", fixedVersion);
        Assert.Contains("bad version", _invalid);
    }

    private static StoredAffected Affected(params StoredEvent[] events) =>
        new("Debian:12", "x", [new StoredRange("ECOSYSTEM", events)], []);
}

using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

public class DpkgVersionComparerTests
{
    private static readonly IVersionComparer Comparer = DpkgVersionComparer.Instance;

    // Each row is (older, newer) by Debian Policy's ordering.
    public static TheoryData<string, string> OrderedPairs => new()
    {
        { "1.0~rc1", "1.0" },
        { "2.36-9+deb12u3", "2.36-9+deb12u10" },
        { "2.0", "1:1.2.11" },
        { "3.0.11-1~deb12u1", "3.0.11-1~deb12u2" },
        { "3.0.11-1~deb12u2", "3.0.11-1" },
        { "1.0~~", "1.0~~a" },
        { "1.0~~a", "1.0~" },
        { "1.0~", "1.0" },
        { "1.0", "1.0a" },
        { "1.0a", "1.0+" },
        { "1.0+", "1.0." },
        { "1.9", "1.10" },
        { "1.09", "1.10" },
        { "1.0", "1.0-1" },
        { "1.0-1", "1.0-2" },
        { "1.0-9", "1.0-10" },
        { "1.0-1", "1.0.1-1" },
        { "0:1.0", "1:0.1" },
        { "1:2.0", "2:1.0" },
        { "1.2.3", "1.2.3.0" },
        { "7.88.1-10+deb12u5", "7.88.1-10+deb12u12" },
        { "1.1.1n-0+deb11u5", "1.1.1w-0+deb11u1" },
        { "252.30-1~deb12u2", "252.31-1~deb12u1" },
        { "1.0-1", "1.0-1ubuntu1" },
        { "1.0-1ubuntu1", "1.0-1ubuntu2" },
        { "2.4.52-1ubuntu4.6", "2.4.52-1ubuntu4.10" },
        { "1.0-1~bpo12+1", "1.0-1" },
        { "1.2+dfsg-1", "1.2+dfsg1-1" },
        { "9.0", "10.0" },
        { "1.0-alpha-1", "1.0-beta-1" },
        { "1.0-1", "1:0.9-1" },
    };

    // Each row is two spellings of the same version.
    public static TheoryData<string, string> EqualPairs => new()
    {
        { "1.0", "1.0" },
        { "1.0", "0:1.0" },
        { "1.0", "1.0-0" },
        { "1.01", "1.1" },
        { "1.0-01", "1.0-1" },
        { "000001.0", "1.0" },
        { "1:2.36-9+deb12u3", "01:2.36-9+deb12u3" },
    };

    public static TheoryData<string> InvalidVersions => new()
    {
        "",
        "a1.0",
        "1.0 beta",
        "x:1.0",
        ":1.0",
        "1.0-",
        "1:",
        "-1",
        "1.0-1_2",
        "1.0_1",
        "99999999999:1.0",
        "1:~1.0",
    };

    [Theory]
    [MemberData(nameof(OrderedPairs))]
    public void OrderedPair_ComparesInBothDirections(string older, string newer) => ComparerAssert.Older(Comparer, older, newer);

    [Theory]
    [MemberData(nameof(EqualPairs))]
    public void EqualPair_ComparesAsZero(string left, string right) => ComparerAssert.Equivalent(Comparer, left, right);

    [Theory]
    [MemberData(nameof(InvalidVersions))]
    public void InvalidVersion_IsRejected(string version) => ComparerAssert.Invalid(Comparer, version);

    [Theory]
    [InlineData("1:1.2.11")]
    [InlineData("2.36-9+deb12u3")]
    [InlineData("1:2.3-4-5")]
    [InlineData("1.0~rc1+dfsg-1~bpo12+1")]
    public void ValidVersion_PassesValidation(string version) => ComparerAssert.Valid(Comparer, version);

    [Fact]
    public void DigitRunsLongerThanLong_CompareAsNumbers()
    {
        ComparerAssert.Older(Comparer, "1.99999999999999999999999", "1.100000000000000000000000");
    }
}

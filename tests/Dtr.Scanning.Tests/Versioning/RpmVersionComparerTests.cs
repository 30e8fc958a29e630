using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

public class RpmVersionComparerTests
{
    private static readonly IVersionComparer Comparer = RpmVersionComparer.Instance;

    // Each row is (older, newer) by rpmvercmp.
    public static TheoryData<string, string> OrderedPairs => new()
    {
        { "1.0~rc1", "1.0" },
        { "1.0", "1.0^post" },
        { "1.0^", "1.0.1" },
        { "6.0", "6.0.rc1" },
        { "1.a", "1.1" },
        { "a", "1" },
        { "1.0", "1.1" },
        { "1.9", "1.10" },
        { "1.0", "1.0.1" },
        { "1.0a", "1.0b" },
        { "1.0", "1.0a" },
        { "2.0", "1:1.0" },
        { "1:1.0", "2:0.1" },
        { "1.0-1", "1.0-2" },
        { "1.0-1.el8", "1.0-1.el9" },
        { "1.0-1.el9", "1.0-2.el9" },
        { "1.0~rc1", "1.0~rc2" },
        { "1.0~~", "1.0~" },
        { "1.0~", "1.0" },
        { "1.0~rc1", "1.0^" },
        { "1.0^", "1.0^1" },
        { "1.0^1", "1.0^2" },
        { "1.0^post1", "1.0.1" },
        { "5.14.0-427.13.1.el9_4", "5.14.0-427.16.1.el9_4" },
        { "3.0.7-25.el9_3", "3.0.7-27.el9" },
        { "1.0", "1.0-1" },
        { "1.010", "1.11" },
        { "abc", "abd" },
        { "2.02", "2.10" },
        { "1.0+git1", "1.0+git2" },
        { "10", "1:1" },
    };

    // Each row is two spellings of the same version.
    public static TheoryData<string, string> EqualPairs => new()
    {
        { "1.0", "1.0" },
        { "1.01", "1.1" },
        { "1.0", "1_0" },
        { "1..0", "1.0" },
        { "0:1.0-1", "1.0-1" },
        { "1.0.", "1.0" },
    };

    public static TheoryData<string> InvalidVersions => new()
    {
        "",
        "1.0-",
        ":1.0",
        "x:1.0",
        "1.0 beta",
        "1.0-1-1",
        "-1",
        "1.0#",
        "1:",
        "99999999999999999999:1.0",
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
    [InlineData("1:3.0.7-27.el9")]
    [InlineData("1.0^20240101git1234abc-1.fc40")]
    [InlineData("2.0~rc1_3+x")]
    public void ValidVersion_PassesValidation(string version) => ComparerAssert.Valid(Comparer, version);

    [Fact]
    public void DigitRunsLongerThanLong_CompareAsNumbers()
    {
        ComparerAssert.Older(Comparer, "1.99999999999999999999999", "1.100000000000000000000000");
    }
}

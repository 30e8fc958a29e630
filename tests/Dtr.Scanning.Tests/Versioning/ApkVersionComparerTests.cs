using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

public class ApkVersionComparerTests
{
    private static readonly IVersionComparer Comparer = ApkVersionComparer.Instance;

    // Each row is (older, newer) by apk-tools' ordering.
    public static TheoryData<string, string> OrderedPairs => new()
    {
        { "1.2_rc1", "1.2" },
        { "1.2", "1.2_p1" },
        { "1.36.1-r7", "1.36.1-r15" },
        { "1.2.12-r1", "1.2.12-r2" },
        { "1.0_alpha", "1.0_beta" },
        { "1.0_beta", "1.0_pre" },
        { "1.0_pre", "1.0_rc" },
        { "1.0_rc", "1.0" },
        { "1.0", "1.0_cvs" },
        { "1.0_cvs", "1.0_svn" },
        { "1.0_svn", "1.0_git" },
        { "1.0_git", "1.0_hg" },
        { "1.0_hg", "1.0_p" },
        { "1.0_alpha1", "1.0_alpha2" },
        { "1.0_rc9", "1.0_rc10" },
        { "1.2", "1.2a" },
        { "1.2a", "1.2b" },
        { "1.2z", "1.3" },
        { "1.2", "1.2.1" },
        { "1.9", "1.10" },
        { "1.2", "1.2-r1" },
        { "1.2-r9", "1.2.1-r0" },
        { "1.01", "1.1" },
        { "1.001", "1.01" },
        { "2.0_rc1-r0", "2.0-r0" },
        { "1.0_p1", "1.0_p2" },
        { "1.0_p1", "1.0.1" },
        { "3.1.4-r0", "3.1.4-r1" },
        { "1.2.3_git20240101", "1.2.3_p0" },
        { "20240101", "20240102" },
        { "9.0", "10.0" },
        { "1", "1.0" },
    };

    // Each row is two spellings of the same version.
    public static TheoryData<string, string> EqualPairs => new()
    {
        { "1.2.3-r0", "1.2.3-r0" },
        { "1.2-r0", "1.2-r00" },
        { "1.0_rc01", "1.0_rc1" },
        { "01.2", "1.2" },
        { "1.2a_p3-r1", "1.2a_p3-r1" },
    };

    public static TheoryData<string> InvalidVersions => new()
    {
        "",
        "1.2-r",
        "1.2_foo",
        "1.2A",
        "a1",
        "1..2",
        "1.2-1",
        "1.2ab",
        "99999999999999999999",
        " 1.2",
        "1.2.",
        "1.2_rc1a",
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
    [InlineData("1.36.1-r15")]
    [InlineData("1.2.3a_rc1_p2-r4")]
    [InlineData("20240101")]
    public void ValidVersion_PassesValidation(string version) => ComparerAssert.Valid(Comparer, version);
}

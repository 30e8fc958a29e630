using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

public class NuGetVersionComparerTests
{
    private static readonly IVersionComparer Comparer = NuGetVersionComparer.Instance;

    // Each row is (older, newer) by Semantic Versioning 2.0 precedence as NuGet applies it.
    public static TheoryData<string, string> OrderedPairs => new()
    {
        { "1.0.0-alpha", "1.0.0-alpha.1" },
        { "1.0.0-alpha.1", "1.0.0-alpha.beta" },
        { "1.0.0-alpha.beta", "1.0.0-beta" },
        { "1.0.0-beta", "1.0.0-beta.2" },
        { "1.0.0-beta.2", "1.0.0-beta.11" },
        { "1.0.0-beta.11", "1.0.0-rc.1" },
        { "1.0.0-rc.1", "1.0.0" },
        { "1.0.0", "2.0.0" },
        { "2.0.0", "2.1.0" },
        { "2.1.0", "2.1.1" },
        { "1.0.0", "1.0.0.1" },
        { "1.0.0.1", "1.0.1" },
        { "1.9.0", "1.10.0" },
        { "0.9.9", "1.0.0" },
        { "13.0.1", "13.0.3" },
        { "8.0.0-preview.1", "8.0.0-rc.1" },
        { "8.0.0-rc.2", "8.0.0" },
        { "1.0.0-alpha", "1.0.0-Beta" },
        { "1.0.0-1", "1.0.0-alpha" },
        { "1.0.0-2", "1.0.0-10" },
        { "1.0.0-alpha.2", "1.0.0-alpha.10" },
        { "6.0.0", "6.0.36" },
        { "4.7.2", "4.7.10" },
        { "1.0", "1.0.1" },
        { "1.0.0-rc.1+build.5", "1.0.0" },
        { "12.0.3", "13.0.1" },
        { "1.2.3-beta", "1.2.3" },
    };

    // Each row is two spellings of the same version.
    public static TheoryData<string, string> EqualPairs => new()
    {
        { "1.0.0", "1.0.0" },
        { "1.0.0", "1.0" },
        { "1.0.0", "1.0.0.0" },
        { "1.0.0+build1", "1.0.0+build2" },
        { "1.0.0-RC.1", "1.0.0-rc.1" },
    };

    public static TheoryData<string> InvalidVersions => new()
    {
        "",
        "1.0.0-",
        "a.b.c",
        "1.0.0-alpha..1",
        "1.0.0.0.0",
        "1.2.3-beta_1",
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
}

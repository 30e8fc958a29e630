using BenchmarkDotNet.Attributes;
using Dtr.Scanning.Versioning;
using Dtr.Scanning.Vulnerabilities;

namespace Dtr.Benchmarks;

/// <summary>
/// Compares package versions with the comparer of each ecosystem, and matches an installed version against OSV
/// ranges with <see cref="OsvRangeMatcher"/>, the inner loop of matching an image's packages against the
/// vulnerability database.
/// </summary>
/// <remarks>
/// Each comparison benchmark compares <see cref="PairsPerEcosystem"/> typical pairs of that ecosystem (epochs,
/// tildes, long Debian and Red Hat revisions, pre-releases, one equal pair) in one invocation, and the figures are
/// per pair. Every call parses both strings again, as <see cref="IVersionComparer.Compare"/> does. The range
/// benchmark checks one installed dpkg version against a Debian entry with two ECOSYSTEM ranges. That sorts and walks
/// each range's events, about six comparisons by a reading of the matcher. The matcher is reused across invocations,
/// as the match of one image reuses it.
/// </remarks>
[MemoryDiagnoser]
public class VersionComparisonBenchmarks
{
    private const int PairsPerEcosystem = 8;

    private static readonly (string Left, string Right)[] DpkgPairs =
    [
        ("2.36-9+deb12u4", "2.36-9+deb12u7"),
        ("1:2.38.1-5+deb12u1", "2.39.2-1"),
        ("1.0~rc1-1", "1.0-1"),
        ("3.0.11-1~deb12u2", "3.0.11-1"),
        ("7.88.1-10+deb12u5", "7.88.1-10+deb12u12"),
        ("252.26-1~deb12u2", "252.30-1~deb12u2"),
        ("20230311.1+nmu1~deb12u1", "20230311.1+nmu1"),
        ("1:1.2.13.dfsg-1", "1:1.2.13.dfsg-1"),
    ];

    private static readonly (string Left, string Right)[] RpmPairs =
    [
        ("1:3.0.7-27.el9", "1:3.0.7-28.el9"),
        ("2.34-100.el9_4.2", "2.34-100.el9_4.3"),
        ("2.0", "1:1.0"),
        ("1.0~rc1", "1.0"),
        ("5.1.8-6.el9_1", "5.1.8-10.el9"),
        ("1.0^20240101git1234abc-1.fc40", "1.0-1.fc40"),
        ("0.9.8zg-2", "0.9.8zh-1"),
        ("4.16.1.3-29.el9", "4.16.1.3-29.el9"),
    ];

    private static readonly (string Left, string Right)[] ApkPairs =
    [
        ("1.36.1-r7", "1.36.1-r15"),
        ("3.1.4-r5", "3.1.4-r6"),
        ("1.2_rc1", "1.2"),
        ("1.2.13-r1", "1.2.13-r0"),
        ("8.5.0-r0", "8.9.1-r0"),
        ("1.0_alpha", "1.0_beta"),
        ("1.2.3a_rc1_p2-r4", "1.2.3a_rc1_p2-r5"),
        ("2.40.1-r1", "2.40.1-r1"),
    ];

    private static readonly (string Left, string Right)[] NuGetPairs =
    [
        ("13.0.1", "13.0.3"),
        ("1.0.0-beta.2", "1.0.0-beta.11"),
        ("8.0.0-rc.2.23479.6", "8.0.0"),
        ("2.1.0", "2.1.0.1"),
        ("6.0.0", "6.0.0+build.5"),
        ("1.0.0-alpha", "1.0.0-alpha.1"),
        ("10.0.0-preview.7.25380.108", "10.0.0-rc.1.25451.107"),
        ("4.7.2", "4.7.2"),
    ];

    // A Debian OSV entry with two ranges: one fixed in a point release, one reintroduced and fixed again later.
    private static readonly StoredAffected DebianEntry = new(
        "Debian:12",
        "glibc",
        [
            new StoredRange("ECOSYSTEM", [new StoredEvent("0", null, null, null), new StoredEvent(null, "2.36-9+deb12u3", null, null)]),
            new StoredRange("ECOSYSTEM", [new StoredEvent("2.36-9+deb12u5", null, null, null), new StoredEvent(null, "2.36-9+deb12u8", null, null)]),
        ],
        []);

    private OsvRangeMatcher _matcher = null!;

    [GlobalSetup]
    public void Setup()
    {
        ValidatePairs(PackageEcosystem.Dpkg, DpkgPairs);
        ValidatePairs(PackageEcosystem.Rpm, RpmPairs);
        ValidatePairs(PackageEcosystem.Apk, ApkPairs);
        ValidatePairs(PackageEcosystem.NuGet, NuGetPairs);
        _matcher = new OsvRangeMatcher(DpkgVersionComparer.Instance, version => throw new InvalidOperationException($"The benchmark range has the invalid version {version}."));
    }

    [Benchmark(OperationsPerInvoke = PairsPerEcosystem, Description = "dpkg compare, per pair")]
    public int CompareDpkg() => CompareAll(DpkgVersionComparer.Instance, DpkgPairs);

    [Benchmark(OperationsPerInvoke = PairsPerEcosystem, Description = "rpm compare, per pair")]
    public int CompareRpm() => CompareAll(RpmVersionComparer.Instance, RpmPairs);

    [Benchmark(OperationsPerInvoke = PairsPerEcosystem, Description = "apk compare, per pair")]
    public int CompareApk() => CompareAll(ApkVersionComparer.Instance, ApkPairs);

    [Benchmark(OperationsPerInvoke = PairsPerEcosystem, Description = "NuGet compare, per pair")]
    public int CompareNuGet() => CompareAll(NuGetVersionComparer.Instance, NuGetPairs);

    [Benchmark(Description = "OSV range match, dpkg, 2 ranges")]
    public bool MatchDebianRanges()
    {
        var affected = _matcher.IsAffected(DebianEntry, "2.36-9+deb12u6", out var fixedVersion);
        if (!affected || fixedVersion != "2.36-9+deb12u8")
        {
            throw new InvalidOperationException($"The range match returned {affected} with fix {fixedVersion}, expected true with 2.36-9+deb12u8.");
        }

        return affected;
    }

    private static int CompareAll(IVersionComparer comparer, (string Left, string Right)[] pairs)
    {
        var sum = 0;
        foreach (var (left, right) in pairs)
        {
            sum += comparer.Compare(left, right);
        }

        return sum;
    }

    private static void ValidatePairs(PackageEcosystem ecosystem, (string Left, string Right)[] pairs)
    {
        if (pairs.Length != PairsPerEcosystem)
        {
            throw new InvalidOperationException($"The {ecosystem} list has {pairs.Length} pairs, expected {PairsPerEcosystem}.");
        }

        var comparer = VersionComparers.For(ecosystem);
        foreach (var version in pairs.SelectMany(pair => new[] { pair.Left, pair.Right }))
        {
            if (!comparer.TryValidate(version, out var error))
            {
                throw new InvalidOperationException($"The {ecosystem} benchmark version '{version}' is invalid: {error}");
            }
        }
    }
}

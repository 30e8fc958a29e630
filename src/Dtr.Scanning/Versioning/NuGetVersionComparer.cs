using NuGet.Versioning;

namespace Dtr.Scanning.Versioning;

/// <summary>
/// Compares NuGet package versions with NuGet.Versioning: Semantic Versioning 2.0 precedence, with a fourth
/// numeric part allowed and build metadata (after <c>+</c>) ignored.
/// </summary>
public sealed class NuGetVersionComparer : VersionComparerBase<NuGetVersion>
{
    /// <summary>Shared instance; the comparer has no state.</summary>
    public static NuGetVersionComparer Instance { get; } = new();

    private NuGetVersionComparer()
    {
    }

    /// <inheritdoc />
    public override PackageEcosystem Ecosystem => PackageEcosystem.NuGet;

    /// <inheritdoc />
    protected override bool TryParse(string version, out NuGetVersion parsed, out string? error)
    {
        if (NuGetVersion.TryParse(version, out var result))
        {
            parsed = result;
            error = null;
            return true;
        }

        parsed = null!;
        error = "expected a NuGet version such as 1.2.3 or 1.2.3-beta.1";
        return false;
    }

    /// <inheritdoc />
    protected override int CompareParsed(NuGetVersion left, NuGetVersion right) => VersionComparer.Default.Compare(left, right);
}

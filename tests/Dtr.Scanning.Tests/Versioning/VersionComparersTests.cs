using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

public class VersionComparersTests
{
    [Fact]
    public void For_ReturnsComparerOfEachEcosystem()
    {
        Assert.Same(DpkgVersionComparer.Instance, VersionComparers.For(PackageEcosystem.Dpkg));
        Assert.Same(ApkVersionComparer.Instance, VersionComparers.For(PackageEcosystem.Apk));
        Assert.Same(RpmVersionComparer.Instance, VersionComparers.For(PackageEcosystem.Rpm));
        Assert.Same(NuGetVersionComparer.Instance, VersionComparers.For(PackageEcosystem.NuGet));
    }

    [Fact]
    public void For_CoversEveryDefinedEcosystem()
    {
        foreach (var ecosystem in Enum.GetValues<PackageEcosystem>())
        {
            Assert.Equal(ecosystem, VersionComparers.For(ecosystem).Ecosystem);
        }
    }

    [Fact]
    public void For_UndefinedEcosystem_Throws()
    {
        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => VersionComparers.For((PackageEcosystem)99));
        Assert.Equal("ecosystem", exception.ParamName);
    }

    [Fact]
    public void Compare_NullVersion_ThrowsArgumentNull()
    {
        foreach (var ecosystem in Enum.GetValues<PackageEcosystem>())
        {
            var comparer = VersionComparers.For(ecosystem);
            Assert.Throws<ArgumentNullException>(() => comparer.Compare(null!, "1.0"));
            Assert.Throws<ArgumentNullException>(() => comparer.Compare("1.0", null!));
            Assert.Throws<ArgumentNullException>(() => comparer.TryValidate(null!, out _));
        }
    }

    [Fact]
    public void InvalidVersion_MessageNamesEcosystem()
    {
        var exception = Assert.Throws<FormatException>(() => DpkgVersionComparer.Instance.Compare("1.0 beta", "1.0"));
        Assert.Equal("'1.0 beta' is not a valid Dpkg version: the upstream version contains the invalid character ' '", exception.Message);
    }
}

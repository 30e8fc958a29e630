using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Tests.Versioning;

/// <summary>Assertions shared by the per-ecosystem comparer tests.</summary>
internal static class ComparerAssert
{
    public static void Older(IVersionComparer comparer, string older, string newer)
    {
        Assert.Equal(-1, comparer.Compare(older, newer));
        Assert.Equal(1, comparer.Compare(newer, older));
    }

    public static void Equivalent(IVersionComparer comparer, string left, string right)
    {
        Assert.Equal(0, comparer.Compare(left, right));
        Assert.Equal(0, comparer.Compare(right, left));
        Assert.Equal(0, comparer.Compare(left, left));
    }

    public static void Invalid(IVersionComparer comparer, string version)
    {
        Assert.False(comparer.TryValidate(version, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));

        var leftException = Assert.Throws<FormatException>(() => comparer.Compare(version, "1"));
        Assert.Contains($"'{version}'", leftException.Message, StringComparison.Ordinal);
        Assert.Contains(error!, leftException.Message, StringComparison.Ordinal);

        var rightException = Assert.Throws<FormatException>(() => comparer.Compare("1", version));
        Assert.Contains($"'{version}'", rightException.Message, StringComparison.Ordinal);
    }

    public static void Valid(IVersionComparer comparer, string version)
    {
        Assert.True(comparer.TryValidate(version, out var error), error);
        Assert.Null(error);
    }
}

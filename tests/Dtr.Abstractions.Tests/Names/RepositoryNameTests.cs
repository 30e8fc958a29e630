using Dtr.Names;

namespace Dtr.Abstractions.Tests.Names;

public class RepositoryNameTests
{
    [Theory]
    [InlineData("a")]
    [InlineData("0")]
    [InlineData("library/busybox")]
    [InlineData("a.b_c__d--e/f-g")]
    [InlineData("my-org/team/app")]
    [InlineData("a---b")]
    [InlineData("a/b/c/d/e")]
    [InlineData("registry.example.com/app")]
    public void TryParse_AcceptsValidName(string value)
    {
        Assert.True(RepositoryName.TryParse(value, out var name, out var error), error);
        Assert.Equal(value, name.Value);
        Assert.Equal(value, name.ToString());
    }

    [Theory]
    [InlineData("Library/busybox")]
    [InlineData("library/BusyBox")]
    [InlineData("-a")]
    [InlineData("a-")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("_a")]
    [InlineData("a_")]
    [InlineData("a..b")]
    [InlineData("a___b")]
    [InlineData("a._b")]
    [InlineData("a-.b")]
    [InlineData("a/")]
    [InlineData("/a")]
    [InlineData("a//b")]
    [InlineData("/")]
    [InlineData("a b")]
    [InlineData(" a")]
    [InlineData("a\n")]
    [InlineData("café")]
    [InlineData("ａｂｃ")]
    [InlineData("a:b")]
    [InlineData("a@b")]
    [InlineData("a\\b")]
    public void TryParse_RejectsInvalidName(string value)
    {
        Assert.False(RepositoryName.TryParse(value, out var name, out var error));
        Assert.NotEmpty(error);
        Assert.Equal(default, name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryParse_RejectsEmpty(string? value)
    {
        Assert.False(RepositoryName.TryParse(value, out _, out var error));
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_AcceptsMaxLength()
    {
        var value = new string('a', 127) + "/" + new string('b', 127);

        Assert.Equal(RepositoryName.MaxLength, value.Length);
        Assert.True(RepositoryName.TryParse(value, out _));
    }

    [Fact]
    public void TryParse_RejectsOverMaxLength()
    {
        var value = new string('a', 128) + "/" + new string('b', 127);

        Assert.Equal(256, value.Length);
        Assert.False(RepositoryName.TryParse(value, out _, out var error));
        Assert.Contains("256", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidThrowsFormatException()
    {
        Assert.Throws<FormatException>(() => RepositoryName.Parse("UPPER"));
    }

    [Theory]
    [InlineData("library/busybox", "library")]
    [InlineData("app", "app")]
    [InlineData("my-org/team/app", "my-org")]
    public void Namespace_IsFirstComponent(string value, string expected)
    {
        Assert.Equal(expected, RepositoryName.Parse(value).Namespace);
    }

    [Fact]
    public void Equality_AndOrdering()
    {
        var a = RepositoryName.Parse("a/b");
        var sameAsA = RepositoryName.Parse("a/b");
        var b = RepositoryName.Parse("a/c");

        Assert.Equal(a, sameAsA);
        Assert.True(a == sameAsA);
        Assert.Equal(a.GetHashCode(), sameAsA.GetHashCode());
        Assert.True(a != b);
        Assert.True(a < b);
        Assert.True(b > a);
        Assert.True(a <= sameAsA);
        Assert.True(a >= sameAsA);
        Assert.True(a.CompareTo(b) < 0);
    }

    [Fact]
    public void Default_ValueThrows()
    {
        Assert.Throws<InvalidOperationException>(() => default(RepositoryName).Value);
        Assert.Equal("", default(RepositoryName).ToString());
    }
}

using Dtr.Names;

namespace Dtr.Abstractions.Tests.Names;

public class TagTests
{
    [Theory]
    [InlineData("latest")]
    [InlineData("_x")]
    [InlineData("v1.2.3")]
    [InlineData("1.0-alpine")]
    [InlineData("A_b.C-d")]
    [InlineData("x")]
    [InlineData("sha256-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.sig")]
    public void IsValid_AcceptsValidTag(string value)
    {
        Assert.True(Tag.IsValid(value));
    }

    [Fact]
    public void IsValid_AcceptsMaxLength()
    {
        Assert.True(Tag.IsValid(new string('a', 128)));
    }

    [Fact]
    public void IsValid_RejectsOverMaxLength()
    {
        Assert.False(Tag.IsValid(new string('a', 129)));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(".x")]
    [InlineData("-x")]
    [InlineData("a:b")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a@b")]
    [InlineData("é")]
    [InlineData("a+b")]
    public void IsValid_RejectsInvalidTag(string? value)
    {
        Assert.False(Tag.IsValid(value));
    }
}

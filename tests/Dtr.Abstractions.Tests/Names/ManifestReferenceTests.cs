using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Abstractions.Tests.Names;

public class ManifestReferenceTests
{
    private const string Sha256Empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    [Fact]
    public void TryParse_Tag()
    {
        Assert.True(ManifestReference.TryParse("latest", out var reference, out var error), error);
        Assert.False(reference.IsDigest);
        Assert.Equal("latest", reference.TagName);
        Assert.True(reference.Digest.IsEmpty);
        Assert.Equal("latest", reference.ToString());
    }

    [Fact]
    public void TryParse_Digest()
    {
        Assert.True(ManifestReference.TryParse(Sha256Empty, out var reference, out var error), error);
        Assert.True(reference.IsDigest);
        Assert.Null(reference.TagName);
        Assert.Equal(Digest.Parse(Sha256Empty), reference.Digest);
        Assert.Equal(Sha256Empty, reference.ToString());
    }

    [Theory]
    [InlineData("sha256:abc")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("a:b")]
    public void TryParse_RejectsInvalidDigest(string value)
    {
        Assert.False(ManifestReference.TryParse(value, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData(".x")]
    [InlineData("-x")]
    [InlineData("a/b")]
    public void TryParse_RejectsInvalidTag(string value)
    {
        Assert.False(ManifestReference.TryParse(value, out _, out var error));
        Assert.Contains("tag", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_RejectsLongTag()
    {
        Assert.False(ManifestReference.TryParse(new string('a', 129), out _, out var error));
        Assert.Contains("128", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_TruncatesLongTagInError()
    {
        Assert.False(ManifestReference.TryParse(new string('-', 10_000), out _, out var error));
        Assert.True(error.Length < 400, $"The error is {error.Length} characters long.");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryParse_RejectsEmpty(string? value)
    {
        Assert.False(ManifestReference.TryParse(value, out _, out var error));
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ForTag_RejectsInvalidTag()
    {
        Assert.Throws<ArgumentException>(() => ManifestReference.ForTag("-bad"));
    }

    [Fact]
    public void ForTag_And_ForDigest()
    {
        var tag = ManifestReference.ForTag("v1");
        var digest = ManifestReference.ForDigest(Digest.Parse(Sha256Empty));

        Assert.False(tag.IsDigest);
        Assert.Equal("v1", tag.TagName);
        Assert.True(digest.IsDigest);
        Assert.Equal(Sha256Empty, digest.Digest.Value);
    }
}

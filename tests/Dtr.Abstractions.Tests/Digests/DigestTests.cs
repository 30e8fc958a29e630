using System.Security.Cryptography;
using System.Text;
using Dtr.Digests;

namespace Dtr.Abstractions.Tests.Digests;

public class DigestTests
{
    // Published test vectors: FIPS 180-2 examples for "abc" and the well-known hashes of empty input.
    private const string Sha256Empty = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string Sha256Abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string Sha512Empty = "sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
    private const string Sha512Abc = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    [Fact]
    public void Parse_ValidSha256()
    {
        var digest = Digest.Parse(Sha256Empty);

        Assert.Equal(DigestAlgorithm.Sha256, digest.Algorithm);
        Assert.Equal(Sha256Empty, digest.Value);
        Assert.Equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", digest.Encoded);
        Assert.Equal(Sha256Empty, digest.ToString());
        Assert.False(digest.IsEmpty);
    }

    [Fact]
    public void Parse_ValidSha512()
    {
        var digest = Digest.Parse(Sha512Abc);

        Assert.Equal(DigestAlgorithm.Sha512, digest.Algorithm);
        Assert.Equal(Sha512Abc, digest.Value);
        Assert.Equal(128, digest.Encoded.Length);
    }

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85A")]
    [InlineData("SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void TryParse_RejectsUppercase(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.NotEmpty(error);
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]
    [InlineData("sha256:abc")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    public void TryParse_RejectsWrongLength(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.Contains("lowercase hex digits", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("sha384:38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b")]
    [InlineData("sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564")]
    public void TryParse_RejectsUnknownAlgorithm(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.Contains("not supported", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    public void TryParse_RejectsEmpty(string? value)
    {
        Assert.False(Digest.TryParse(value, out var digest, out var error));
        Assert.True(digest.IsEmpty);
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData(":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("sha256:")]
    [InlineData("sha256")]
    public void TryParse_RejectsMissingPart(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.Contains("<algorithm>:<hex>", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85g")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85 ")]
    [InlineData("sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b785:855")]
    public void TryParse_RejectsNonHexCharacters(string value)
    {
        Assert.False(Digest.TryParse(value, out _, out _));
    }

    [Fact]
    public void TryParse_TruncatesLongInputInError()
    {
        var value = "sha256:" + new string('a', 10_000);

        Assert.False(Digest.TryParse(value, out _, out var error));
        Assert.True(error.Length < 400, $"The error is {error.Length} characters long.");
    }

    [Fact]
    public void Parse_InvalidThrowsFormatException()
    {
        var ex = Assert.Throws<FormatException>(() => Digest.Parse("sha256:abc"));
        Assert.Contains("sha256:abc", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("", Sha256Empty)]
    [InlineData("abc", Sha256Abc)]
    public void Compute_Sha256MatchesKnownVectors(string input, string expected)
    {
        var digest = Digest.Compute(Encoding.ASCII.GetBytes(input));

        Assert.Equal(expected, digest.Value);
        Assert.Equal(DigestAlgorithm.Sha256, digest.Algorithm);
    }

    [Theory]
    [InlineData("", Sha512Empty)]
    [InlineData("abc", Sha512Abc)]
    public void Compute_Sha512MatchesKnownVectors(string input, string expected)
    {
        var digest = Digest.Compute(Encoding.ASCII.GetBytes(input), DigestAlgorithm.Sha512);

        Assert.Equal(expected, digest.Value);
        Assert.Equal(DigestAlgorithm.Sha512, digest.Algorithm);
    }

    [Theory]
    [InlineData(DigestAlgorithm.Sha256, Sha256Abc)]
    [InlineData(DigestAlgorithm.Sha512, Sha512Abc)]
    public void FromIncrementalHash_MatchesKnownVectors(DigestAlgorithm algorithm, string expected)
    {
        using var hash = algorithm.CreateHash();
        hash.AppendData("a"u8);
        hash.AppendData("bc"u8);

        var digest = Digest.FromIncrementalHash(algorithm, hash);

        Assert.Equal(expected, digest.Value);
    }

    [Fact]
    public void FromIncrementalHash_ResetsHashForReuse()
    {
        using var hash = DigestAlgorithm.Sha256.CreateHash();
        hash.AppendData("abc"u8);
        _ = Digest.FromIncrementalHash(DigestAlgorithm.Sha256, hash);

        var second = Digest.FromIncrementalHash(DigestAlgorithm.Sha256, hash);

        Assert.Equal(Sha256Empty, second.Value);
    }

    [Fact]
    public void FromIncrementalHash_RejectsOtherAlgorithm()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);

        var ex = Assert.Throws<ArgumentException>(() => Digest.FromIncrementalHash(DigestAlgorithm.Sha256, hash));
        Assert.Contains("SHA512", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromIncrementalHash_RejectsSha3OfSameLength()
    {
        if (!SHA3_256.IsSupported)
        {
            return;
        }

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA3_256);

        Assert.Throws<ArgumentException>(() => Digest.FromIncrementalHash(DigestAlgorithm.Sha256, hash));
    }

    [Fact]
    public void FromHash_RejectsWrongLength()
    {
        Assert.Throws<ArgumentException>(() => Digest.FromHash(DigestAlgorithm.Sha256, new byte[64]));
    }

    [Fact]
    public void Equality_ComparesValue()
    {
        var first = Digest.Parse(Sha256Abc);
        var second = Digest.Parse(string.Concat("sha256:", Sha256Abc.AsSpan(7)));
        var other = Digest.Parse(Sha256Empty);

        Assert.Equal(first, second);
        Assert.True(first == second);
        Assert.False(first != second);
        Assert.Equal(first.GetHashCode(), second.GetHashCode());
        Assert.NotEqual(first, other);
        Assert.True(first != other);
        Assert.False(first.Equals((object)Sha256Abc));
    }

    [Fact]
    public void Default_IsEmpty()
    {
        var digest = default(Digest);

        Assert.True(digest.IsEmpty);
        Assert.Equal("", digest.ToString());
        Assert.Equal(default, digest);
        Assert.Throws<InvalidOperationException>(() => digest.Value);
    }

    [Fact]
    public void TryFormat_WritesValue()
    {
        var digest = Digest.Parse(Sha256Abc);
        var buffer = new char[100];

        Assert.True(digest.TryFormat(buffer, out var written, default, null));
        Assert.Equal(Sha256Abc, new string(buffer, 0, written));
        Assert.False(digest.TryFormat(new char[10], out written, default, null));
        Assert.Equal(0, written);
    }
}

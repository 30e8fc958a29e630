using Dtr.Digests;
using Dtr.Storage;

namespace Dtr.Abstractions.Tests.Storage;

public class ObjectKeyLayoutTests
{
    private const string Sha256Abc = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    private const string Sha512Abc = "sha512:ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("/")]
    [InlineData("//")]
    public void Prefix_EmptyMeansRoot(string? prefix)
    {
        var layout = new ObjectKeyLayout(prefix);

        Assert.Equal(string.Empty, layout.Root);
        Assert.Equal("blobs/", layout.BlobsPrefix);
        Assert.Equal("uploads/", layout.UploadsPrefix);
    }

    [Theory]
    [InlineData("registry")]
    [InlineData("registry/")]
    [InlineData("/registry")]
    [InlineData("//registry//")]
    public void Prefix_SlashesTrimmed(string prefix)
    {
        var layout = new ObjectKeyLayout(prefix);

        Assert.Equal("registry/", layout.Root);
        Assert.Equal("registry/blobs/", layout.BlobsPrefix);
        Assert.Equal("registry/uploads/", layout.UploadsPrefix);
    }

    [Fact]
    public void Prefix_InnerSlashesKept()
    {
        var layout = new ObjectKeyLayout("/tenants/a/registry/");

        Assert.Equal("tenants/a/registry/", layout.Root);
        Assert.Equal("tenants/a/registry/blobs/", layout.BlobsPrefix);
    }

    [Fact]
    public void BlobKey_ShardedByFirstTwoHexDigits()
    {
        var layout = new ObjectKeyLayout("registry");

        var key = layout.GetBlobKey(Digest.Parse(Sha256Abc));

        Assert.Equal("registry/blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", key);
    }

    [Fact]
    public void BlobKey_Sha512UsesAlgorithmFolder()
    {
        var layout = new ObjectKeyLayout(null);

        var key = layout.GetBlobKey(Digest.Parse(Sha512Abc));

        Assert.Equal("blobs/sha512/dd/" + Sha512Abc["sha512:".Length..], key);
    }

    [Fact]
    public void BlobKey_DefaultDigestThrows()
    {
        var layout = new ObjectKeyLayout("registry");

        var exception = Assert.Throws<ArgumentException>(() => layout.GetBlobKey(default));

        Assert.Equal("digest", exception.ParamName);
    }

    [Theory]
    [InlineData(Sha256Abc)]
    [InlineData(Sha512Abc)]
    public void BlobKey_ParsesBackToDigest(string value)
    {
        var layout = new ObjectKeyLayout("a/b");
        var digest = Digest.Parse(value);

        Assert.True(layout.TryParseBlobKey(layout.GetBlobKey(digest), out var parsed));
        Assert.Equal(digest, parsed);
    }

    [Theory]
    [InlineData("registry/blobs/sha256/ba")]
    [InlineData("registry/blobs/readme.txt")]
    [InlineData("registry/blobs/sha256/zz/abc")]
    [InlineData("registry/blobs/sha256/00/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("registry/blobs/sha256/b/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("registry/blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/extra")]
    [InlineData("registry/blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a")]
    [InlineData("registry/blobs/SHA256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("registry/blobs/md5/d4/d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("registry/uploads/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("other/blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("blobs/sha256/ba/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void ParseBlobKey_RejectsForeignKeys(string key)
    {
        var layout = new ObjectKeyLayout("registry");

        Assert.False(layout.TryParseBlobKey(key, out var digest));
        Assert.True(digest.IsEmpty);
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-")]
    [InlineData("0f3e9c1a-7b2d-4c5e-9f10-aa55bb66cc77")]
    [InlineData("ABCdef123")]
    public void UploadPrefix_ValidIdJoined(string uploadId)
    {
        var layout = new ObjectKeyLayout("registry");

        Assert.Equal($"registry/uploads/{uploadId}/", layout.GetUploadPrefix(uploadId));
    }

    [Fact]
    public void UploadPrefix_MaxLengthIdAccepted()
    {
        var layout = new ObjectKeyLayout(null);
        var uploadId = new string('a', 64);

        Assert.Equal($"uploads/{uploadId}/", layout.GetUploadPrefix(uploadId));
    }

    [Theory]
    [InlineData("")]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("../blobs")]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a b")]
    [InlineData("a_b")]
    [InlineData("é")]
    public void UploadPrefix_InvalidIdThrows(string uploadId)
    {
        var layout = new ObjectKeyLayout("registry");

        var exception = Assert.Throws<ArgumentException>(() => layout.GetUploadPrefix(uploadId));

        Assert.Equal("uploadId", exception.ParamName);
    }

    [Fact]
    public void UploadPrefix_TooLongIdThrows()
    {
        var layout = new ObjectKeyLayout("registry");

        var exception = Assert.Throws<ArgumentException>(() => layout.GetUploadPrefix(new string('a', 65)));

        Assert.Contains("1 to 64 characters", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UploadPrefix_NullIdThrows()
    {
        var layout = new ObjectKeyLayout("registry");

        Assert.Throws<ArgumentNullException>(() => layout.GetUploadPrefix(null!));
    }

    [Fact]
    public void DerivedLayout_SharesPrefixes()
    {
        var layout = new DataObjectLayout("registry");

        Assert.Equal("registry/uploads/u1/data", layout.GetDataKey("u1"));
        Assert.Throws<ArgumentException>(() => layout.GetDataKey("../u1"));
    }

    /// <summary>A driver-style layout that names one object per upload.</summary>
    private sealed class DataObjectLayout(string? prefix) : ObjectKeyLayout(prefix)
    {
        public string GetDataKey(string uploadId) => GetUploadPrefix(uploadId) + "data";
    }
}

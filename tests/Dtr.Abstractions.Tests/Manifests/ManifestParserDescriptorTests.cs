using Dtr.Digests;
using Dtr.Manifests;
using static Dtr.Abstractions.Tests.Manifests.ManifestSamples;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// Validation of descriptor fields, checked on a layer unless a test names another descriptor.
/// </summary>
public class ManifestParserDescriptorTests
{
    [Fact]
    public void Descriptor_ValidFieldsParsed()
    {
        var layer = new DescriptorJson
        {
            Extra = """
                "artifactType":"application/vnd.example.part","annotations":{"org.opencontainers.image.title":"app.tar.gz"},
                "urls":["https://example.com/layer"],"data":"e30="
                """,
        };

        var descriptor = Assert.Single(Parse(ManifestWithLayer(layer)).Layers);

        Assert.Equal(MediaTypes.OciLayerGzip, descriptor.MediaType);
        Assert.Equal(Digest.Parse(LayerDigest), descriptor.Digest);
        Assert.Equal(32654, descriptor.Size);
        Assert.Equal("application/vnd.example.part", descriptor.ArtifactType);
        Assert.NotNull(descriptor.Annotations);
        Assert.Equal("app.tar.gz", descriptor.Annotations["org.opencontainers.image.title"]);
        Assert.Null(descriptor.Platform);
    }

    [Fact]
    public void Descriptor_OptionalFieldsAbsent()
    {
        var descriptor = Assert.Single(Parse(ManifestWithLayer(new DescriptorJson())).Layers);

        Assert.Null(descriptor.ArtifactType);
        Assert.Null(descriptor.Annotations);
        Assert.Null(descriptor.Platform);
    }

    [Fact]
    public void MediaType_Missing()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { MediaType = null }));

        Assert.Contains("'layers[0].mediaType' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("[\"a/b\"]")]
    [InlineData("true")]
    public void MediaType_NotString(string value)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { MediaType = value }));

        Assert.Contains("'layers[0].mediaType' must be a string", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("application")]
    [InlineData("application/")]
    [InlineData("/json")]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/vnd.oci image")]
    [InlineData("application/a/b")]
    [InlineData("-application/json")]
    [InlineData("application/.json")]
    [InlineData("applicätion/json")]
    [InlineData("application/json\\n")]
    public void MediaType_InvalidShape(string value)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { MediaType = $"\"{value}\"" }));

        Assert.Contains("'layers[0].mediaType' has the invalid media type", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.v1.tar")]
    [InlineData("application/vnd.docker.image.rootfs.diff.tar.gzip")]
    [InlineData("application/vnd.in-toto+json")]
    [InlineData("text/plain")]
    [InlineData("Application/Octet-Stream")]
    [InlineData("a/b")]
    [InlineData("x-type/sub_type!#$&^")]
    public void MediaType_ValidShapeAccepted(string value)
    {
        var descriptor = Assert.Single(Parse(ManifestWithLayer(new DescriptorJson { MediaType = $"\"{value}\"" })).Layers);

        Assert.Equal(value, descriptor.MediaType);
    }

    [Fact]
    public void MediaType_NameLengthLimit()
    {
        var longest = "application/" + new string('x', 127);
        var tooLong = "application/" + new string('x', 128);

        Assert.Single(Parse(ManifestWithLayer(new DescriptorJson { MediaType = $"\"{longest}\"" })).Layers);
        Reject(ManifestWithLayer(new DescriptorJson { MediaType = $"\"{tooLong}\"" }));
    }

    [Fact]
    public void MediaType_LongValueTruncatedInMessage()
    {
        var value = "application/" + new string('x', 10_000);

        var ex = Reject(ManifestWithLayer(new DescriptorJson { MediaType = $"\"{value}\"" }));

        Assert.True(ex.Message.Length < 800, $"The message is {ex.Message.Length} characters long.");
    }

    [Fact]
    public void Digest_Missing()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Digest = null }));

        Assert.Contains("'layers[0].digest' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "lowercase hex")]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85", "exactly 64")]
    [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "exactly 128")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", "not supported")]
    [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "<algorithm>:<hex>")]
    [InlineData("", "empty")]
    public void Digest_Invalid(string value, string expected)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Digest = $"\"{value}\"" }));

        Assert.Contains("'layers[0].digest' is invalid", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{}")]
    public void Digest_NotString(string value)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Digest = value }));

        Assert.Contains("'layers[0].digest' must be a string", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Digest_Sha512Accepted()
    {
        var digest = Digest.Compute("layer"u8, DigestAlgorithm.Sha512);

        var descriptor = Assert.Single(Parse(ManifestWithLayer(new DescriptorJson { Digest = $"\"{digest}\"" })).Layers);

        Assert.Equal(digest, descriptor.Digest);
        Assert.Equal(DigestAlgorithm.Sha512, descriptor.Digest.Algorithm);
    }

    [Fact]
    public void Size_Missing()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Size = null }));

        Assert.Contains("'layers[0].size' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("-9223372036854775808")]
    [InlineData("1.5")]
    [InlineData("1.0")]
    [InlineData("1e30")]
    [InlineData("1e3")]
    [InlineData("1E+2")]
    [InlineData("9223372036854775808")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("-0.0")]
    public void Size_InvalidNumber(string value)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Size = value }));

        Assert.Contains($"'layers[0].size' is {value}, which is not a valid size", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"10\"", "a string")]
    [InlineData("null", "null")]
    [InlineData("true", "a boolean")]
    [InlineData("[1]", "an array")]
    public void Size_NotNumber(string value, string kind)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Size = value }));

        Assert.Contains($"'layers[0].size' must be a number, but it is {kind}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-0", 0L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    public void Size_BoundsAccepted(string value, long expected)
    {
        var descriptor = Assert.Single(Parse(ManifestWithLayer(new DescriptorJson { Size = value })).Layers);

        Assert.Equal(expected, descriptor.Size);
    }

    [Fact]
    public void Size_InvalidOnConfigNamesConfig()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{ConfigDigest}}","size":2.5},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'config.size'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"plain\"")]
    [InlineData("7")]
    [InlineData("null")]
    public void ArtifactType_Invalid(string value)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Extra = $"\"artifactType\":{value}" }));

        Assert.Contains("'layers[0].artifactType'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "'layers[0].annotations' must be a JSON object")]
    [InlineData("{\"k\":5}", "'layers[0].annotations[\"k\"]' must be a string")]
    [InlineData("{\"k\":[]}", "'layers[0].annotations[\"k\"]' must be a string")]
    public void Annotations_Invalid(string value, string expected)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Extra = $"\"annotations\":{value}" }));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Annotations_UnicodeKeysAndValues()
    {
        var layer = new DescriptorJson
        {
            Extra = """
                "annotations":{"ключ":"значение \u00e9 \ud83d\ude00"}
                """,
        };

        var descriptor = Assert.Single(Parse(ManifestWithLayer(layer)).Layers);

        Assert.Equal("значение é 😀", descriptor.Annotations?["ключ"]);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("[\"https://a.example/x\",\"https://b.example/x\"]")]
    public void Urls_ArrayOfStringsAccepted(string value)
    {
        Assert.Single(Parse(ManifestWithLayer(new DescriptorJson { Extra = $"\"urls\":{value}" })).Layers);
    }

    [Theory]
    [InlineData("\"https://a.example/x\"", "'layers[0].urls' must be an array")]
    [InlineData("{}", "'layers[0].urls' must be an array")]
    [InlineData("[\"https://a.example/x\",3]", "'layers[0].urls[1]' must be a string")]
    [InlineData("[null]", "'layers[0].urls[0]' must be a string")]
    public void Urls_Invalid(string value, string expected)
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Extra = $"\"urls\":{value}" }));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Platform_Parsed()
    {
        var entry = new DescriptorJson
        {
            MediaType = $"\"{MediaTypes.OciManifest}\"",
            Extra = """
                "platform":{"architecture":"arm64","os":"windows","variant":"v8","os.version":"10.0.20348.2113","os.features":["win32k"]}
                """,
        };

        var platform = Assert.Single(Parse(IndexWithEntry(entry)).Manifests).Platform;

        Assert.NotNull(platform);
        Assert.Equal("arm64", platform.Architecture);
        Assert.Equal("windows", platform.Os);
        Assert.Equal("v8", platform.Variant);
        Assert.Equal("10.0.20348.2113", platform.OsVersion);
    }

    [Fact]
    public void Platform_OptionalFieldsAbsent()
    {
        var entry = new DescriptorJson
        {
            MediaType = $"\"{MediaTypes.OciManifest}\"",
            Extra = """
                "platform":{"architecture":"amd64","os":"linux"}
                """,
        };

        var platform = Assert.Single(Parse(IndexWithEntry(entry)).Manifests).Platform;

        Assert.NotNull(platform);
        Assert.Null(platform.Variant);
        Assert.Null(platform.OsVersion);
    }

    [Theory]
    [InlineData("[]", "'manifests[0].platform' must be a JSON object")]
    [InlineData("\"linux/amd64\"", "'manifests[0].platform' must be a JSON object")]
    [InlineData("{\"os\":\"linux\"}", "'manifests[0].platform.architecture' is missing")]
    [InlineData("{\"architecture\":\"amd64\"}", "'manifests[0].platform.os' is missing")]
    [InlineData("{\"architecture\":64,\"os\":\"linux\"}", "'manifests[0].platform.architecture' must be a string")]
    [InlineData("{\"architecture\":\"arm\",\"os\":\"linux\",\"variant\":7}", "'manifests[0].platform.variant' must be a string")]
    [InlineData("{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.version\":10}", "'manifests[0].platform.os.version' must be a string")]
    [InlineData("{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.features\":\"win32k\"}", "'manifests[0].platform.os.features' must be an array")]
    [InlineData("{\"architecture\":\"amd64\",\"os\":\"windows\",\"os.features\":[1]}", "'manifests[0].platform.os.features[0]' must be a string")]
    public void Platform_Invalid(string value, string expected)
    {
        var entry = new DescriptorJson { MediaType = $"\"{MediaTypes.OciManifest}\"", Extra = $"\"platform\":{value}" };

        var ex = Reject(IndexWithEntry(entry));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}

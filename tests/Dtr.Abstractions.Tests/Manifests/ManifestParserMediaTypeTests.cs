using Dtr.Manifests;
using static Dtr.Abstractions.Tests.Manifests.ManifestSamples;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// How the parser decides the media type, and how it handles schemaVersion and Docker schema 1.
/// </summary>
public class ManifestParserMediaTypeTests
{
    private static string OciManifestWithoutMediaType =>
        $$"""{"schemaVersion":2,"config":{{ConfigJson}},"layers":[{{new DescriptorJson()}}]}""";

    private static string IndexWithoutMediaType =>
        $$"""{"schemaVersion":2,"manifests":[{{new DescriptorJson { MediaType = $"\"{MediaTypes.OciManifest}\"" }}}]}""";

    [Fact]
    public void SchemaVersion_Missing()
    {
        var json = $$"""{"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'schemaVersion' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"2\"")]
    [InlineData("2.0")]
    [InlineData("2e0")]
    [InlineData("3")]
    [InlineData("0")]
    [InlineData("-2")]
    [InlineData("null")]
    [InlineData("true")]
    [InlineData("[2]")]
    [InlineData("{}")]
    [InlineData("1e400")]
    [InlineData("99999999999999999999999")]
    public void SchemaVersion_NotIntegerTwo(string value)
    {
        var json = $$"""{"schemaVersion":{{value}},"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'schemaVersion'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("integer 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema1_BySchemaVersion()
    {
        const string json = """
            {
              "schemaVersion": 1,
              "name": "library/hello",
              "tag": "latest",
              "architecture": "amd64",
              "fsLayers": [{ "blobSum": "sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4" }],
              "history": [{ "v1Compatibility": "{\"id\":\"e45a5af57b00862e5ef5782a9925979a02ba2b12dff832fd0991335f4a11e5c5\"}" }]
            }
            """;

        var ex = Reject(json);

        AssertSchema1Message(ex.Message);
    }

    [Theory]
    [InlineData(MediaTypes.DockerSchema1)]
    [InlineData(MediaTypes.DockerSchema1Signed)]
    public void Schema1_ByBodyMediaType(string mediaType)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","config":{{ConfigJson}},"layers":[]}""";

        var ex = Reject(json);

        AssertSchema1Message(ex.Message);
    }

    [Theory]
    [InlineData(MediaTypes.DockerSchema1)]
    [InlineData(MediaTypes.DockerSchema1Signed)]
    [InlineData("application/VND.docker.distribution.manifest.v1+prettyjws")]
    public void Schema1_ByContentType(string contentType)
    {
        var ex = Reject(OciManifestWithoutMediaType, contentType);

        AssertSchema1Message(ex.Message);
    }

    [Fact]
    public void Schema1_ByContentTypeWithGarbageBody()
    {
        var ex = Reject("not json"u8.ToArray(), MediaTypes.DockerSchema1Signed);

        AssertSchema1Message(ex.Message);
    }

    [Theory]
    [InlineData("application/vnd.oci.artifact.manifest.v1+json")]
    [InlineData(MediaTypes.OciConfig)]
    [InlineData("application/json")]
    [InlineData("not a media type")]
    [InlineData("")]
    public void BodyMediaType_Unsupported(string mediaType)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","config":{{ConfigJson}},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains($"'mediaType' is '{mediaType}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("not a supported manifest media type", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("{}")]
    public void BodyMediaType_NotString(string value)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":{{value}},"config":{{ConfigJson}},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'mediaType' must be a string", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BodyMediaType_DisagreesWithContentType()
    {
        var json = ManifestWithLayer(new DescriptorJson());

        var ex = Reject(json, MediaTypes.DockerManifest);

        Assert.Contains(MediaTypes.DockerManifest, ex.Message, StringComparison.Ordinal);
        Assert.Contains(MediaTypes.OciManifest, ex.Message, StringComparison.Ordinal);
        Assert.Contains("does not match", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BodyMediaType_DisagreesWithIndexContentType()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson()), MediaTypes.OciIndex);

        Assert.Contains(MediaTypes.OciIndex, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    [InlineData("")]
    public void BodyMediaType_UsedWithGenericContentType(string? contentType)
    {
        var manifest = Parse(ManifestWithLayer(new DescriptorJson()), contentType);

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }

    [Theory]
    [InlineData("application/octet-stream")]
    [InlineData("text/plain")]
    [InlineData("garbage")]
    [InlineData("application/x-unknown")]
    public void NonManifestContentType_Rejected(string contentType)
    {
        var withMediaType = Reject(ManifestWithLayer(new DescriptorJson()), contentType);
        var withoutMediaType = Reject(OciManifestWithoutMediaType, contentType);

        Assert.Contains("is not a manifest media type", withMediaType.Message, StringComparison.Ordinal);
        Assert.Contains("is not a manifest media type", withoutMediaType.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData("APPLICATION/vnd.oci.image.manifest.v1+JSON")]
    [InlineData("application/vnd.oci.image.manifest.v1+json; charset=utf-8")]
    [InlineData(" application/vnd.oci.image.manifest.v1+json ")]
    public void ContentType_MatchesIgnoringCaseAndParameters(string contentType)
    {
        var manifest = Parse(ManifestWithLayer(new DescriptorJson()), contentType);

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifest)]
    public void ContentType_UsedWithoutBodyMediaType(string contentType)
    {
        var manifest = Parse(OciManifestWithoutMediaType, contentType);

        Assert.Equal(contentType, manifest.MediaType);
        Assert.NotNull(manifest.Config);
        Assert.Single(manifest.Layers);
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList)]
    public void ContentType_IndexUsedWithoutBodyMediaType(string contentType)
    {
        var manifest = Parse(IndexWithoutMediaType, contentType);

        Assert.Equal(contentType, manifest.MediaType);
        Assert.Single(manifest.Manifests);
        Assert.Null(manifest.Config);
    }

    [Fact]
    public void ContentType_IndexForImageBody()
    {
        var ex = Reject(OciManifestWithoutMediaType, MediaTypes.OciIndex);

        Assert.Contains("must not have a 'config' field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ContentType_ImageForIndexBody()
    {
        var ex = Reject(IndexWithoutMediaType, MediaTypes.OciManifest);

        Assert.Contains("must not have a 'manifests' field", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    public void Inference_ConfigMeansOciManifest(string? contentType)
    {
        var manifest = Parse(OciManifestWithoutMediaType, contentType);

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/json")]
    public void Inference_ManifestsMeansOciIndex(string? contentType)
    {
        var manifest = Parse(IndexWithoutMediaType, contentType);

        Assert.Equal(MediaTypes.OciIndex, manifest.MediaType);
    }

    [Fact]
    public void Inference_BothConfigAndManifests()
    {
        var json = $$"""{"schemaVersion":2,"config":{{ConfigJson}},"layers":[],"manifests":[]}""";

        var ex = Reject(json);

        Assert.Contains("must not have a 'config' field", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "no Content-Type")]
    [InlineData("application/json", "'application/json'")]
    public void Inference_NeitherConfigNorManifests(string? contentType, string expectedHeader)
    {
        var ex = Reject("""{"schemaVersion":2,"layers":[]}""", contentType);

        Assert.Contains("cannot be determined", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expectedHeader, ex.Message, StringComparison.Ordinal);
        Assert.Contains("'mediaType'", ex.Message, StringComparison.Ordinal);
    }

    private static void AssertSchema1Message(string message)
    {
        Assert.Contains("schema 1 is not supported", message, StringComparison.Ordinal);
        Assert.Contains("Docker schema 2 or an OCI manifest", message, StringComparison.Ordinal);
    }
}

using Dtr.Digests;
using Dtr.Manifests;
using static Dtr.Abstractions.Tests.Manifests.ManifestSamples;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// The required and optional top-level fields of image manifests and indexes.
/// </summary>
public class ManifestParserStructureTests
{
    [Fact]
    public void ImageManifest_ConfigMissing()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'config' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]", "an array")]
    [InlineData("\"sha256:abc\"", "a string")]
    [InlineData("null", "null")]
    public void ImageManifest_ConfigNotObject(string value, string kind)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{value}},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains($"'config' must be a JSON object, but it is {kind}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageManifest_ConfigInvalidDescriptor()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{"mediaType":"{{MediaTypes.OciConfig}}","size":2},"layers":[]}""";

        var ex = Reject(json);

        Assert.Contains("'config.digest' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageManifest_LayersMissing()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}}}""";

        var ex = Reject(json);

        Assert.Contains("'layers' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("\"layers\"")]
    public void ImageManifest_LayersNotArray(string value)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":{{value}}}""";

        var ex = Reject(json);

        Assert.Contains("'layers' must be an array", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifest)]
    public void ImageManifest_EmptyLayersAccepted(string mediaType)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","config":{{ConfigJson}},"layers":[]}""";

        var manifest = Parse(json);

        Assert.Empty(manifest.Layers);
        Assert.NotNull(manifest.Config);
    }

    [Theory]
    [InlineData("42")]
    [InlineData("null")]
    [InlineData("[]")]
    public void ImageManifest_LayerNotObject(string value)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[{{new DescriptorJson()}},{{value}}]}""";

        var ex = Reject(json);

        Assert.Contains("'layers[1]' must be a JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifest)]
    public void ImageManifest_WithManifestsRejected(string mediaType)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","config":{{ConfigJson}},"layers":[],"manifests":[]}""";

        var ex = Reject(json);

        Assert.Contains("must not have a 'manifests' field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageManifest_ErrorNamesLayerIndex()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[{{new DescriptorJson()}},{{new DescriptorJson { Digest = "\"sha256:123\"" }}}]}""";

        var ex = Reject(json);

        Assert.Contains("'layers[1].digest' is invalid", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ImageManifest_BlobsListsConfigThenLayers()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[{{new DescriptorJson()}},{{new DescriptorJson { Digest = $"\"{SecondLayerDigest}\"" }}}]}""";

        var manifest = Parse(json);

        var digests = manifest.Blobs.Select(blob => blob.Digest.Value).ToList();
        Assert.Equal([ConfigDigest, LayerDigest, SecondLayerDigest], digests);
    }

    [Fact]
    public void Index_ManifestsMissing()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}"}""";

        var ex = Reject(json);

        Assert.Contains("'manifests' is missing", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("null")]
    [InlineData("7")]
    public void Index_ManifestsNotArray(string value)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":{{value}}}""";

        var ex = Reject(json);

        Assert.Contains("'manifests' must be an array", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciIndex)]
    [InlineData(MediaTypes.DockerManifestList)]
    public void Index_EmptyManifestsAccepted(string mediaType)
    {
        var manifest = Parse($$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","manifests":[]}""");

        Assert.Equal(mediaType, manifest.MediaType);
        Assert.Empty(manifest.Manifests);
        Assert.Empty(manifest.Layers);
        Assert.Null(manifest.Config);
        Assert.Null(manifest.ArtifactType);
        Assert.Empty(manifest.Blobs);
    }

    [Theory]
    [InlineData("config")]
    [InlineData("layers")]
    public void Index_WithImageFieldRejected(string field)
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[],"{{field}}":[]}""";

        var ex = Reject(json);

        Assert.Contains($"must not have a '{field}' field", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_EntryInvalidDescriptor()
    {
        var entry = new DescriptorJson { MediaType = $"\"{MediaTypes.OciManifest}\"", Size = "-3" };

        var ex = Reject(IndexWithEntry(entry));

        Assert.Contains("'manifests[0].size'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.OciLayerGzip)]
    [InlineData("application/vnd.example.custom+json")]
    public void Index_OciEntryOfAnyMediaTypeAccepted(string mediaType)
    {
        var manifest = Parse(IndexWithEntry(new DescriptorJson { MediaType = $"\"{mediaType}\"" }));

        Assert.Equal(mediaType, Assert.Single(manifest.Manifests).MediaType);
    }

    [Theory]
    [InlineData(MediaTypes.DockerLayerGzip)]
    [InlineData(MediaTypes.DockerConfig)]
    [InlineData("application/vnd.example.custom+json")]
    public void ManifestList_NonManifestEntryRejected(string mediaType)
    {
        var entry = new DescriptorJson { MediaType = $"\"{mediaType}\"" };

        var ex = Reject(IndexWithEntry(entry, MediaTypes.DockerManifestList));

        Assert.Contains("'manifests[0].mediaType'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(mediaType, ex.Message, StringComparison.Ordinal);
        Assert.Contains("must be a manifest", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MediaTypes.DockerManifest)]
    [InlineData(MediaTypes.OciManifest)]
    [InlineData(MediaTypes.DockerManifestList)]
    public void ManifestList_ManifestEntryAccepted(string mediaType)
    {
        var manifest = Parse(IndexWithEntry(new DescriptorJson { MediaType = $"\"{mediaType}\"" }, MediaTypes.DockerManifestList));

        Assert.Equal(mediaType, Assert.Single(manifest.Manifests).MediaType);
    }

    [Fact]
    public void Subject_Parsed()
    {
        var json = ManifestWithFields($$"""
            "subject":{"mediaType":"{{MediaTypes.OciManifest}}","digest":"{{SubjectDigest}}","size":1234}
            """);

        var manifest = Parse(json);

        Assert.NotNull(manifest.Subject);
        Assert.Equal(MediaTypes.OciManifest, manifest.Subject.MediaType);
        Assert.Equal(Digest.Parse(SubjectDigest), manifest.Subject.Digest);
        Assert.Equal(1234, manifest.Subject.Size);
    }

    [Fact]
    public void Subject_AbsentIsNull()
    {
        Assert.Null(Parse(ManifestWithLayer(new DescriptorJson())).Subject);
    }

    [Fact]
    public void Subject_InvalidDigest()
    {
        var json = ManifestWithFields($$"""
            "subject":{"mediaType":"{{MediaTypes.OciManifest}}","digest":"sha256:ABC","size":1234}
            """);

        var ex = Reject(json);

        Assert.Contains("'subject.digest' is invalid", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"sha256:abc\"")]
    [InlineData("null")]
    public void Subject_NotObject(string value)
    {
        var ex = Reject(ManifestWithFields($"\"subject\":{value}"));

        Assert.Contains("'subject' must be a JSON object", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Subject_OnIndexParsed()
    {
        var json = $$$"""
            {"schemaVersion":2,"mediaType":"{{{MediaTypes.OciIndex}}}","manifests":[],
             "subject":{"mediaType":"{{{MediaTypes.OciIndex}}}","digest":"{{{SubjectDigest}}}","size":99}}
            """;

        var manifest = Parse(json);

        Assert.Equal(SubjectDigest, manifest.Subject?.Digest.Value);
    }

    [Fact]
    public void ArtifactType_FromField()
    {
        var manifest = Parse(ManifestWithFields("\"artifactType\":\"application/vnd.example.sbom.v1+json\""));

        Assert.Equal("application/vnd.example.sbom.v1+json", manifest.ArtifactType);
    }

    [Fact]
    public void ArtifactType_DefaultsToConfigMediaType()
    {
        var manifest = Parse(ManifestWithLayer(new DescriptorJson()));

        Assert.Equal(MediaTypes.OciConfig, manifest.ArtifactType);
    }

    [Fact]
    public void ArtifactType_OnIndexFromField()
    {
        var json = $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[],"artifactType":"application/vnd.example.bundle"}""";

        Assert.Equal("application/vnd.example.bundle", Parse(json).ArtifactType);
    }

    [Theory]
    [InlineData("\"sbom\"")]
    [InlineData("\"\"")]
    [InlineData("\"application/\"")]
    [InlineData("42")]
    [InlineData("null")]
    public void ArtifactType_Invalid(string value)
    {
        var ex = Reject(ManifestWithFields($"\"artifactType\":{value}"));

        Assert.Contains("'artifactType'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyConfig_RequiresArtifactType()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}",
             "config":{"mediaType":"{{MediaTypes.OciEmpty}}","digest":"{{EmptyJsonDigest}}","size":2},
             "layers":[{{new DescriptorJson()}}]}
            """;

        var ex = Reject(json);

        Assert.Contains("'artifactType' is missing", ex.Message, StringComparison.Ordinal);
        Assert.Contains(MediaTypes.OciEmpty, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EmptyConfig_WithArtifactTypeAccepted()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","artifactType":"application/vnd.example.thing",
             "config":{"mediaType":"{{MediaTypes.OciEmpty}}","digest":"{{EmptyJsonDigest}}","size":2},
             "layers":[{{new DescriptorJson()}}]}
            """;

        var manifest = Parse(json);

        Assert.Equal("application/vnd.example.thing", manifest.ArtifactType);
        Assert.Equal(MediaTypes.OciEmpty, manifest.Config?.MediaType);
    }

    [Fact]
    public void EmptyConfig_DockerManifestNotChecked()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.DockerManifest}}",
             "config":{"mediaType":"{{MediaTypes.OciEmpty}}","digest":"{{EmptyJsonDigest}}","size":2},
             "layers":[]}
            """;

        var manifest = Parse(json);

        Assert.Equal(MediaTypes.OciEmpty, manifest.ArtifactType);
    }

    [Fact]
    public void ArtifactType_AllowsAnyConfigMediaType()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","artifactType":"application/vnd.example.thing",
             "config":{"mediaType":"application/vnd.example.config.v1+json","digest":"{{ConfigDigest}}","size":7},
             "layers":[]}
            """;

        var manifest = Parse(json);

        Assert.Equal("application/vnd.example.thing", manifest.ArtifactType);
        Assert.Equal("application/vnd.example.config.v1+json", manifest.Config?.MediaType);
    }

    [Fact]
    public void Annotations_Parsed()
    {
        var json = ManifestWithFields("""
            "annotations":{"org.opencontainers.image.created":"2024-01-02T03:04:05Z","org.example.empty":""}
            """);

        var manifest = Parse(json);

        Assert.NotNull(manifest.Annotations);
        Assert.Equal(2, manifest.Annotations.Count);
        Assert.Equal("2024-01-02T03:04:05Z", manifest.Annotations["org.opencontainers.image.created"]);
        Assert.Equal("", manifest.Annotations["org.example.empty"]);
    }

    [Fact]
    public void Annotations_AbsentIsNull()
    {
        Assert.Null(Parse(ManifestWithLayer(new DescriptorJson())).Annotations);
    }

    [Theory]
    [InlineData("[]", "'annotations' must be a JSON object")]
    [InlineData("\"x\"", "'annotations' must be a JSON object")]
    [InlineData("{\"a\":1}", "'annotations[\"a\"]' must be a string")]
    [InlineData("{\"a\":null}", "'annotations[\"a\"]' must be a string")]
    [InlineData("{\"a\":{\"b\":\"c\"}}", "'annotations[\"a\"]' must be a string")]
    public void Annotations_Invalid(string value, string expected)
    {
        var ex = Reject(ManifestWithFields($"\"annotations\":{value}"));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownFields_Ignored()
    {
        var manifest = Parse(ManifestWithFields("\"x-extension\":{\"nested\":[1,2,3]},\"labels\":null"));

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }
}

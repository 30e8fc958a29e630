using System.Text;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// Digests, descriptor JSON and parse helpers shared by the manifest parser tests.
/// </summary>
internal static class ManifestSamples
{
    public static readonly string ConfigDigest = Digest.Compute("config"u8).Value;
    public static readonly string LayerDigest = Digest.Compute("layer one"u8).Value;
    public static readonly string SecondLayerDigest = Digest.Compute("layer two"u8).Value;
    public static readonly string AmdManifestDigest = Digest.Compute("amd64 manifest"u8).Value;
    public static readonly string ArmManifestDigest = Digest.Compute("arm64 manifest"u8).Value;
    public static readonly string SubjectDigest = Digest.Compute("subject manifest"u8).Value;

    /// <summary>The digest of <c>{}</c>, which the OCI image specification gives for the empty descriptor.</summary>
    public const string EmptyJsonDigest = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    public static string ConfigJson => $$"""{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{ConfigDigest}}","size":1469}""";

    /// <summary>An OCI image manifest whose only layer is <paramref name="layer"/>.</summary>
    public static string ManifestWithLayer(DescriptorJson layer) =>
        $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[{{layer}}]}""";

    /// <summary>An OCI image manifest with one layer and the extra top-level fields in <paramref name="fields"/>.</summary>
    public static string ManifestWithFields(string fields) =>
        $$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[{{new DescriptorJson()}}],{{fields}}}""";

    /// <summary>An OCI index whose only entry is <paramref name="entry"/>.</summary>
    public static string IndexWithEntry(DescriptorJson entry, string mediaType = MediaTypes.OciIndex) =>
        $$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","manifests":[{{entry}}]}""";

    public static ParsedManifest Parse(string json, string? contentType = null) =>
        ManifestParser.Parse(Encoding.UTF8.GetBytes(json), contentType);

    /// <summary>Asserts that parsing fails with MANIFEST_INVALID and returns the exception.</summary>
    public static RegistryException Reject(string json, string? contentType = null) =>
        Reject(Encoding.UTF8.GetBytes(json), contentType);

    /// <summary>Asserts that parsing fails with MANIFEST_INVALID and returns the exception.</summary>
    public static RegistryException Reject(byte[] content, string? contentType = null)
    {
        var ex = Assert.Throws<RegistryException>(() => ManifestParser.Parse(content, contentType));
        Assert.Same(OciErrorCode.ManifestInvalid, ex.Error);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        return ex;
    }
}

/// <summary>
/// The JSON of one descriptor. Each property is a raw JSON value, so a test can put a wrong type in any field,
/// and null leaves the field out.
/// </summary>
internal sealed record DescriptorJson
{
    public string? MediaType { get; init; } = $"\"{MediaTypes.OciLayerGzip}\"";

    public string? Digest { get; init; } = $"\"{ManifestSamples.LayerDigest}\"";

    public string? Size { get; init; } = "32654";

    /// <summary>Further fields, written as <c>"name":value</c> pairs separated by commas.</summary>
    public string Extra { get; init; } = "";

    public override string ToString()
    {
        var fields = new List<string>();
        if (MediaType is not null)
        {
            fields.Add($"\"mediaType\":{MediaType}");
        }

        if (Digest is not null)
        {
            fields.Add($"\"digest\":{Digest}");
        }

        if (Size is not null)
        {
            fields.Add($"\"size\":{Size}");
        }

        if (Extra.Length > 0)
        {
            fields.Add(Extra);
        }

        return "{" + string.Join(",", fields) + "}";
    }
}

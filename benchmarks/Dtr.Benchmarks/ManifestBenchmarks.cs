using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Dtr.Digests;
using Dtr.Manifests;

namespace Dtr.Benchmarks;

/// <summary>
/// Parses and validates pushed manifests with <see cref="ManifestParser.Parse"/>, the work that a manifest PUT does
/// on the request body before it reaches the metadata store.
/// </summary>
/// <remarks>
/// <see cref="ManifestParser.Parse"/> reads and validates in one pass, so the API has no parse-only step. The
/// baseline parses the same bytes with <see cref="JsonDocument"/> alone, with the parser's depth limit and duplicate
/// key check, so the difference is the cost of reading and validating the fields. The PUT benchmark adds the sha256
/// digest of the body, as the endpoint computes it next. Each invocation handles one manifest of the
/// <see cref="Kind"/> under test.
/// </remarks>
[MemoryDiagnoser]
public class ManifestBenchmarks
{
    private static readonly JsonDocumentOptions JsonOnlyOptions = new()
    {
        MaxDepth = 32,
        AllowDuplicateProperties = false,
    };

    private byte[] _content = [];
    private string _contentType = "";

    /// <summary>The manifests under test.</summary>
    public enum ManifestKind
    {
        /// <summary>An OCI image manifest with a config, 8 layers and 3 annotations.</summary>
        OciImage8Layers,

        /// <summary>A Docker schema 2 image manifest with a config and 8 layers.</summary>
        DockerSchema2,

        /// <summary>An OCI index with 6 platform entries and 2 annotations.</summary>
        OciIndex6Platforms,

        /// <summary>An OCI image manifest with a config and 500 layers.</summary>
        OciImage500Layers,
    }

    [ParamsAllValues]
    public ManifestKind Kind { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_content, _contentType) = Kind switch
        {
            ManifestKind.OciImage8Layers => (ImageManifest(MediaTypes.OciManifest, MediaTypes.OciConfig, MediaTypes.OciLayerGzip, layers: 8, annotations: true), MediaTypes.OciManifest),
            ManifestKind.DockerSchema2 => (ImageManifest(MediaTypes.DockerManifest, MediaTypes.DockerConfig, MediaTypes.DockerLayerGzip, layers: 8, annotations: false), MediaTypes.DockerManifest),
            ManifestKind.OciIndex6Platforms => (Index(), MediaTypes.OciIndex),
            ManifestKind.OciImage500Layers => (ImageManifest(MediaTypes.OciManifest, MediaTypes.OciConfig, MediaTypes.OciLayerGzip, layers: 500, annotations: true), MediaTypes.OciManifest),
            _ => throw new InvalidOperationException($"Unknown manifest kind {Kind}."),
        };

        Console.WriteLine($"// {Kind}: {_content.Length} bytes");
    }

    [Benchmark(Baseline = true, Description = "JSON parse only (JsonDocument)")]
    public int ParseJsonOnly()
    {
        using var document = JsonDocument.Parse(_content, JsonOnlyOptions);
        return document.RootElement.GetPropertyCount();
    }

    [Benchmark(Description = "parse + validate (ManifestParser.Parse)")]
    public ParsedManifest ParseAndValidate() => ManifestParser.Parse(_content, _contentType);

    [Benchmark(Description = "PUT body: parse + validate + sha256")]
    public Digest ParseValidateAndDigest()
    {
        _ = ManifestParser.Parse(_content, _contentType);
        return Digest.Compute(_content, DigestAlgorithm.Sha256);
    }

    private static byte[] ImageManifest(string mediaType, string configType, string layerType, int layers, bool annotations)
    {
        var json = new StringBuilder();
        json.Append($$"""{"schemaVersion":2,"mediaType":"{{mediaType}}","config":{"mediaType":"{{configType}}","digest":"{{FakeDigest("config")}}","size":7023},"layers":[""");
        for (var i = 0; i < layers; i++)
        {
            if (i > 0)
            {
                json.Append(',');
            }

            json.Append($$"""{"mediaType":"{{layerType}}","digest":"{{FakeDigest($"layer {i}")}}","size":{{3_000_000 + (i * 7919)}}}""");
        }

        json.Append(']');
        if (annotations)
        {
            json.Append(""","annotations":{"org.opencontainers.image.created":"2024-05-01T12:00:00Z","org.opencontainers.image.source":"https://example.com/app.git","org.opencontainers.image.revision":"3f1c2e9a7b"}""");
        }

        json.Append('}');
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static byte[] Index()
    {
        (string Os, string Architecture, string? Variant)[] platforms =
        [
            ("linux", "amd64", null),
            ("linux", "arm64", "v8"),
            ("linux", "arm", "v7"),
            ("linux", "ppc64le", null),
            ("linux", "s390x", null),
            ("linux", "386", null),
        ];

        var json = new StringBuilder();
        json.Append($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.OciIndex}}","manifests":[""");
        for (var i = 0; i < platforms.Length; i++)
        {
            var (os, architecture, variant) = platforms[i];
            var variantField = variant is null ? "" : $",\"variant\":\"{variant}\"";
            if (i > 0)
            {
                json.Append(',');
            }

            json.Append($$$"""{"mediaType":"{{{MediaTypes.OciManifest}}}","digest":"{{{FakeDigest($"platform {i}")}}}","size":{{{1500 + i}}},"platform":{"architecture":"{{{architecture}}}","os":"{{{os}}}"{{{variantField}}}}}""");
        }

        json.Append("""],"annotations":{"org.opencontainers.image.created":"2024-05-01T12:00:00Z","org.opencontainers.image.version":"1.4.2"}}""");
        return Encoding.UTF8.GetBytes(json.ToString());
    }

    private static string FakeDigest(string seed) => Digest.Compute(Encoding.UTF8.GetBytes(seed)).Value;
}

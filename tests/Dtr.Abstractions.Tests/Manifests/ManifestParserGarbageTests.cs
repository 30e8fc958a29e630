using System.Text;
using Dtr.Errors;
using Dtr.Manifests;
using static Dtr.Abstractions.Tests.Manifests.ManifestSamples;

namespace Dtr.Abstractions.Tests.Manifests;

/// <summary>
/// Bodies that are not manifests at all. Each must fail with MANIFEST_INVALID and never with another exception.
/// </summary>
public class ManifestParserGarbageTests
{
    [Fact]
    public void Empty_Rejected()
    {
        var ex = Reject([]);

        Assert.Contains("empty", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("null", "null")]
    [InlineData("[]", "an array")]
    [InlineData("[{\"schemaVersion\":2}]", "an array")]
    [InlineData("\"x\"", "a string")]
    [InlineData("42", "a number")]
    [InlineData("true", "a boolean")]
    public void NonObject_Rejected(string json, string kind)
    {
        var ex = Reject(json);

        Assert.Contains($"must be a JSON object, but it is {kind}", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(" ")]
    [InlineData("{")]
    [InlineData("{\"schemaVersion\":2,\"config\":{")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+js")]
    [InlineData("{\"schemaVersion\":}")]
    [InlineData("{\"schemaVersion\":2,}")]
    [InlineData("{'schemaVersion':2}")]
    [InlineData("{schemaVersion:2}")]
    [InlineData("{\"schemaVersion\":2} {}")]
    [InlineData("{\"schemaVersion\":2} x")]
    [InlineData("{/* comment */\"schemaVersion\":2}")]
    [InlineData("{\"schemaVersion\":NaN}")]
    [InlineData("{\"schemaVersion\":02}")]
    [InlineData("{\"a\":\"\\x\"}")]
    [InlineData("{\"a\":\"tab\there\"}")]
    [InlineData("<manifest/>")]
    public void InvalidJson_Rejected(string json)
    {
        var ex = Reject(json);

        Assert.Contains("not valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TruncatedManifest_RejectedAtEveryLength()
    {
        var complete = Encoding.UTF8.GetBytes(ManifestWithLayer(new DescriptorJson()));

        for (var length = 1; length < complete.Length; length++)
        {
            var ex = Assert.Throws<RegistryException>(() => ManifestParser.Parse(complete.AsSpan(0, length), null));
            Assert.Same(OciErrorCode.ManifestInvalid, ex.Error);
        }
    }

    [Theory]
    [InlineData(new byte[] { 0xFF })]
    [InlineData(new byte[] { 0xC0, 0xAF })]
    [InlineData(new byte[] { 0x80 })]
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 })]
    [InlineData(new byte[] { 0xE2, 0x82 })]
    public void InvalidUtf8_Rejected(byte[] badBytes)
    {
        var prefix = Encoding.UTF8.GetBytes(ManifestWithFields("\"annotations\":{\"a\":\""));
        var content = prefix.Concat(badBytes).Concat("\"}}"u8.ToArray()).ToArray();

        var ex = Reject(content);

        Assert.Contains("not valid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidUtf8_OutsideStringsRejected()
    {
        var ex = Reject([0xFF, 0xFE, (byte)'{', (byte)'}']);

        Assert.Contains("not valid UTF-8", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Utf8ByteOrderMark_Rejected()
    {
        var content = Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(ManifestWithLayer(new DescriptorJson()))).ToArray();

        var ex = Reject(content);

        Assert.Contains("byte order mark", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Utf16_Rejected()
    {
        var content = Encoding.Unicode.GetBytes(ManifestWithLayer(new DescriptorJson()));

        Reject(content);
    }

    [Theory]
    [InlineData("\\ud800")]
    [InlineData("\\udc00")]
    [InlineData("a\\ud83d")]
    public void LoneSurrogateEscapeInValue_Rejected(string escape)
    {
        var ex = Reject(ManifestWithFields($"\"annotations\":{{\"a\":\"{escape}\"}}"));

        Assert.Contains("'annotations[\"a\"]'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("invalid \\u escape", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoneSurrogateEscapeInDigest_Rejected()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Digest = "\"sha256:\\ud800\"" }));

        Assert.Contains("'layers[0].digest'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoneSurrogateEscapeInKey_Rejected()
    {
        var ex = Reject(ManifestWithFields("\"annotations\":{\"\\ud800\":\"a\"}"));

        Assert.Contains("invalid \\u escape", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateTopLevelKey_Rejected()
    {
        var json = $$"""
            {"schemaVersion":2,"mediaType":"{{MediaTypes.OciManifest}}","config":{{ConfigJson}},"layers":[],
             "mediaType":"{{MediaTypes.OciIndex}}"}
            """;

        var ex = Reject(json);

        Assert.Contains("Duplicate", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DuplicateEscapedKey_Rejected()
    {
        var layer = new DescriptorJson { Extra = $"\"\\u0064igest\":\"{SecondLayerDigest}\"" };

        var ex = Reject(ManifestWithLayer(layer));

        Assert.Contains("Duplicate", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DuplicateAnnotationKey_Rejected()
    {
        Reject(ManifestWithFields("\"annotations\":{\"a\":\"1\",\"a\":\"2\"}"));
    }

    [Theory]
    [InlineData(100)]
    [InlineData(100_000)]
    public void DeeplyNestedArrays_Rejected(int depth)
    {
        var json = new string('[', depth) + new string(']', depth);

        var ex = Reject(json);

        Assert.Contains("depth", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void DeeplyNestedUnknownField_Rejected()
    {
        var nested = new string('[', 64) + new string(']', 64);

        var ex = Reject(ManifestWithFields($"\"x-extension\":{nested}"));

        Assert.Contains("depth", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void ModeratelyNestedUnknownField_Accepted()
    {
        var nested = new string('[', 20) + new string(']', 20);

        var manifest = Parse(ManifestWithFields($"\"x-extension\":{nested}"));

        Assert.Equal(MediaTypes.OciManifest, manifest.MediaType);
    }

    [Theory]
    [InlineData("\"mediaType\"", "42")]
    [InlineData("\"digest\"", "12345")]
    [InlineData("\"size\"", "\"32654\"")]
    public void NumbersAndStringsSwapped_Rejected(string field, string value)
    {
        var layer = field switch
        {
            "\"mediaType\"" => new DescriptorJson { MediaType = value },
            "\"digest\"" => new DescriptorJson { Digest = value },
            _ => new DescriptorJson { Size = value },
        };

        var ex = Reject(ManifestWithLayer(layer));

        Assert.Contains($"'layers[0].{field.Trim('"')}' must be", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HugeNumberLiteral_Rejected()
    {
        var ex = Reject(ManifestWithLayer(new DescriptorJson { Size = "1" + new string('0', 5000) }));

        Assert.Contains("'layers[0].size'", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Message.Length < 800, $"The message is {ex.Message.Length} characters long.");
    }

    [Fact]
    public void MutatedManifests_FailOnlyWithManifestInvalid()
    {
        var seeds = new[]
        {
            Encoding.UTF8.GetBytes(ManifestWithLayer(new DescriptorJson { Extra = "\"annotations\":{\"k\":\"v\"},\"urls\":[\"u\"]" })),
            Encoding.UTF8.GetBytes(IndexWithEntry(new DescriptorJson
            {
                MediaType = $"\"{MediaTypes.OciManifest}\"",
                Extra = "\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\",\"variant\":\"v8\"}",
            })),
        };
        var random = new Random(20240601);
        var interesting = "{}[]\":,\\0123456789-+.eE ntfu\u00ff"u8.ToArray();

        for (var round = 0; round < 5000; round++)
        {
            var content = (byte[])seeds[round % seeds.Length].Clone();
            var edits = 1 + random.Next(4);
            for (var edit = 0; edit < edits; edit++)
            {
                var position = random.Next(content.Length);
                content[position] = random.Next(2) == 0
                    ? interesting[random.Next(interesting.Length)]
                    : (byte)random.Next(256);
            }

            AssertParsesOrRejects(content);
        }
    }

    [Fact]
    public void RandomBytes_FailOnlyWithManifestInvalid()
    {
        var random = new Random(7);

        for (var round = 0; round < 2000; round++)
        {
            var content = new byte[random.Next(1, 200)];
            random.NextBytes(content);

            AssertParsesOrRejects(content);
        }
    }

    private static void AssertParsesOrRejects(byte[] content)
    {
        try
        {
            ManifestParser.Parse(content, null);
        }
        catch (RegistryException ex)
        {
            Assert.Same(OciErrorCode.ManifestInvalid, ex.Error);
        }
        catch (Exception ex)
        {
            Assert.Fail($"Parsing {Convert.ToBase64String(content)} threw {ex.GetType().Name}: {ex.Message}");
        }
    }
}

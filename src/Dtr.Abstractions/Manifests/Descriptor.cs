using System.Text.Json.Serialization;
using Dtr.Digests;

namespace Dtr.Manifests;

/// <summary>
/// An OCI content descriptor: the media type, digest and size a manifest records for the content it references.
/// </summary>
public sealed record Descriptor
{
    /// <summary>The media type of the referenced content.</summary>
    [JsonPropertyName("mediaType")]
    public required string MediaType { get; init; }

    /// <summary>The digest of the referenced content.</summary>
    [JsonPropertyName("digest")]
    [JsonConverter(typeof(DigestJsonConverter))]
    public required Digest Digest { get; init; }

    /// <summary>The size of the referenced content, in bytes.</summary>
    [JsonPropertyName("size")]
    public required long Size { get; init; }

    /// <summary>The artifact type, for artifacts and referrers.</summary>
    [JsonPropertyName("artifactType")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ArtifactType { get; init; }

    /// <summary>Annotations of the descriptor.</summary>
    [JsonPropertyName("annotations")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The platform, on entries of an index.</summary>
    [JsonPropertyName("platform")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Platform? Platform { get; init; }
}

/// <summary>
/// The platform an image in an index runs on.
/// </summary>
public sealed record Platform
{
    /// <summary>The CPU architecture, such as <c>amd64</c> or <c>arm64</c>.</summary>
    [JsonPropertyName("architecture")]
    public string Architecture { get; init; } = "";

    /// <summary>The operating system, such as <c>linux</c>.</summary>
    [JsonPropertyName("os")]
    public string Os { get; init; } = "";

    /// <summary>The CPU variant, such as <c>v8</c>.</summary>
    [JsonPropertyName("variant")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Variant { get; init; }

    /// <summary>The operating system version.</summary>
    [JsonPropertyName("os.version")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? OsVersion { get; init; }
}

/// <summary>
/// Reads and writes a <see cref="Digest"/> as its string form, rejecting invalid digests.
/// </summary>
public sealed class DigestJsonConverter : JsonConverter<Digest>
{
    /// <inheritdoc />
    public override Digest Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (!Digest.TryParse(text, out var digest, out var error))
        {
            throw new System.Text.Json.JsonException(error);
        }

        return digest;
    }

    /// <inheritdoc />
    public override void Write(System.Text.Json.Utf8JsonWriter writer, Digest value, System.Text.Json.JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Value);
    }
}

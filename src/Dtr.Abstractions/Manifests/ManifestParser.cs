using System.Text.Json;
using System.Text.Unicode;
using Dtr.Errors;
using static Dtr.Manifests.ManifestJson;

namespace Dtr.Manifests;

/// <summary>
/// Parses and validates manifests pushed to the registry: OCI image manifests and indexes, Docker schema 2
/// manifests and manifest lists, and artifacts.
/// </summary>
public static class ManifestParser
{
    // The deepest field of a known manifest format, manifests[].platform.os.features, sits five levels down, so
    // 32 leaves ample room for extra fields while bounding the work that a hostile document can cause.
    private const int MaxDepth = 32;

    private const string Schema1Message =
        "Docker image manifest schema 1 is not supported. Push a Docker schema 2 or an OCI manifest instead, "
        + "for example by pushing the image again with a current Docker, Podman or Buildah.";

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = MaxDepth,
        CommentHandling = JsonCommentHandling.Disallow,
        AllowTrailingCommas = false,

        // Parsers that keep the first or the last duplicate would see different manifests behind one digest.
        AllowDuplicateProperties = false,
    };

    /// <summary>
    /// Parses a manifest and validates its structure.
    /// </summary>
    /// <param name="content">The manifest bytes exactly as pushed.</param>
    /// <param name="contentType">The request's <c>Content-Type</c> media type without parameters, or null.</param>
    /// <remarks>
    /// The media type comes from the body's <c>mediaType</c> field. Without that field, it comes from
    /// <paramref name="contentType"/> when that is a manifest media type, and otherwise from the shape of the
    /// body: a <c>manifests</c> field means an OCI index and a <c>config</c> field an OCI image manifest. A
    /// <paramref name="contentType"/> other than a manifest media type or <c>application/json</c> is rejected.
    /// The body must be UTF-8 JSON without a byte order mark, comments or duplicate keys. Unknown fields are ignored.
    /// Parsing checks structure only, and does not check that the referenced blobs and manifests exist.
    /// </remarks>
    /// <exception cref="RegistryException">
    /// <see cref="OciErrorCode.ManifestInvalid"/> with a message naming the problem: not JSON, Docker schema 1,
    /// an unknown media type, a media type that disagrees with <paramref name="contentType"/>, or a missing or
    /// invalid field or descriptor.
    /// </exception>
    public static ParsedManifest Parse(ReadOnlySpan<byte> content, string? contentType)
    {
        var headerMediaType = NormalizeContentType(contentType);
        if (headerMediaType is MediaTypes.DockerSchema1 or MediaTypes.DockerSchema1Signed)
        {
            throw Invalid(Schema1Message);
        }

        using var document = ParseJson(content);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Invalid($"The manifest must be a JSON object, but it is {DescribeKind(root.ValueKind)}.");
        }

        var bodyMediaType = ReadString(root, "mediaType", "", required: false);
        if (bodyMediaType is MediaTypes.DockerSchema1 or MediaTypes.DockerSchema1Signed)
        {
            throw Invalid(Schema1Message);
        }

        ValidateSchemaVersion(root);

        var mediaType = ResolveMediaType(root, bodyMediaType, headerMediaType, contentType);
        return MediaTypes.IsIndex(mediaType) ? ParseIndex(root, mediaType) : ParseImageManifest(root, mediaType);
    }

    private static JsonDocument ParseJson(ReadOnlySpan<byte> content)
    {
        if (content.IsEmpty)
        {
            throw Invalid("The manifest is empty. Send the manifest JSON as the request body.");
        }

        // JsonDocument checks UTF-8 only when a string is read, so invalid bytes are rejected here, up front.
        if (!Utf8.IsValid(content))
        {
            throw Invalid("The manifest is not valid UTF-8. Send the manifest as UTF-8 encoded JSON.");
        }

        if (content.StartsWith("\uFEFF"u8))
        {
            throw Invalid("The manifest starts with a UTF-8 byte order mark, which JSON text must not have (RFC 8259). Send the manifest without it.");
        }

        try
        {
            // JsonDocument.Parse needs memory that outlives the call, so the span is copied.
            return JsonDocument.Parse(content.ToArray(), DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw Invalid($"The manifest is not valid JSON: {ex.Message}");
        }
        catch (InvalidOperationException ex)
        {
            // The duplicate-key check unescapes property names while parsing, and a key with a lone surrogate
            // escape such as "\ud800" makes it throw this type instead of JsonException (seen on .NET 10.0.12).
            throw Invalid($"The manifest contains an invalid \\u escape: {ex.Message} Use valid Unicode text.");
        }
    }

    private static void ValidateSchemaVersion(JsonElement root)
    {
        if (!root.TryGetProperty("schemaVersion", out var element))
        {
            throw Invalid("The manifest field 'schemaVersion' is missing. Set it to 2.");
        }

        if (element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out var version) && version == 1)
        {
            throw Invalid(Schema1Message);
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out version) || version != 2)
        {
            throw Invalid($"The manifest field 'schemaVersion' is {Echo(element.GetRawText())}, but it must be the integer 2.");
        }
    }

    private static string ResolveMediaType(JsonElement root, string? bodyMediaType, string? headerMediaType, string? contentType)
    {
        // A Content-Type that names something other than a manifest (text/plain, a blob type) means the client sent
        // the wrong document or mislabelled it. Plain JSON and no Content-Type leave the decision to the body.
        if (!string.IsNullOrEmpty(headerMediaType) && !MediaTypes.IsManifest(headerMediaType)
            && !string.Equals(headerMediaType, "application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw Invalid(
                $"The Content-Type '{Echo(contentType!)}' is not a manifest media type. Send the manifest with "
                + $"Content-Type {MediaTypes.OciManifest}, {MediaTypes.OciIndex}, {MediaTypes.DockerManifest} or {MediaTypes.DockerManifestList}.");
        }

        if (bodyMediaType is not null)
        {
            if (!MediaTypes.IsManifest(bodyMediaType))
            {
                throw Invalid(
                    $"The manifest field 'mediaType' is '{Echo(bodyMediaType)}', which is not a supported manifest media type. "
                    + $"Use one of {MediaTypes.OciManifest}, {MediaTypes.OciIndex}, {MediaTypes.DockerManifest} or {MediaTypes.DockerManifestList}.");
            }

            if (MediaTypes.IsManifest(headerMediaType) && headerMediaType != bodyMediaType)
            {
                throw Invalid(
                    $"The Content-Type '{Echo(contentType!)}' does not match the manifest field 'mediaType', which is "
                    + $"'{bodyMediaType}'. Send the manifest with a Content-Type equal to its mediaType.");
            }

            return bodyMediaType;
        }

        if (MediaTypes.IsManifest(headerMediaType))
        {
            return headerMediaType!;
        }

        // Without a media type from the body or the header, the fields decide. A document with both fields is
        // treated as an index, whose validation then rejects the config.
        if (root.TryGetProperty("manifests", out _))
        {
            return MediaTypes.OciIndex;
        }

        if (root.TryGetProperty("config", out _))
        {
            return MediaTypes.OciManifest;
        }

        var header = contentType is null ? "no Content-Type" : $"the Content-Type '{Echo(contentType)}'";
        throw Invalid(
            $"The manifest type cannot be determined: the manifest has no 'mediaType', 'config' or 'manifests' field, "
            + $"and the request has {header}. Set the manifest field 'mediaType' to the manifest's media type.");
    }

    private static ParsedManifest ParseImageManifest(JsonElement root, string mediaType)
    {
        if (root.TryGetProperty("manifests", out _))
        {
            throw Invalid(
                $"The manifest has the media type {mediaType}, so it must not have a 'manifests' field. "
                + $"Send an index as {MediaTypes.OciIndex} or {MediaTypes.DockerManifestList}.");
        }

        if (!root.TryGetProperty("config", out var configElement))
        {
            throw Invalid("The manifest field 'config' is missing. An image manifest needs a config descriptor.");
        }

        var config = ReadDescriptor(configElement, "config");
        var layers = ReadDescriptorArray(root, "layers", "An image manifest needs a layers array, which may be empty.");
        var subject = ReadSubject(root);
        var artifactType = ReadMediaType(root, "artifactType", "", required: false);
        var annotations = ReadAnnotations(root, "");

        // The OCI image specification requires artifactType when the config is the empty descriptor, because the
        // config media type then does not identify the artifact.
        if (mediaType == MediaTypes.OciManifest && config.MediaType == MediaTypes.OciEmpty && artifactType is null)
        {
            throw Invalid(
                $"The manifest field 'artifactType' is missing. It is required when 'config.mediaType' is {MediaTypes.OciEmpty}. "
                + "Set artifactType to the artifact's media type.");
        }

        return new ParsedManifest
        {
            MediaType = mediaType,
            Config = config,
            Layers = layers,
            Subject = subject,
            ArtifactType = artifactType ?? config.MediaType,
            Annotations = annotations,
        };
    }

    private static ParsedManifest ParseIndex(JsonElement root, string mediaType)
    {
        foreach (var field in (ReadOnlySpan<string>)["config", "layers"])
        {
            if (root.TryGetProperty(field, out _))
            {
                throw Invalid(
                    $"The manifest has the media type {mediaType}, so it must not have a '{field}' field. "
                    + $"Send an image manifest as {MediaTypes.OciManifest} or {MediaTypes.DockerManifest}.");
            }
        }

        var manifests = ReadDescriptorArray(root, "manifests", "An index needs a manifests array, which may be empty.");
        if (mediaType == MediaTypes.DockerManifestList)
        {
            for (var i = 0; i < manifests.Count; i++)
            {
                if (!MediaTypes.IsManifest(manifests[i].MediaType))
                {
                    throw Invalid(
                        $"The manifest field 'manifests[{i}].mediaType' is '{Echo(manifests[i].MediaType)}', but each entry of "
                        + $"a Docker manifest list must be a manifest. Use {MediaTypes.DockerManifest} or {MediaTypes.OciManifest}.");
                }
            }
        }

        return new ParsedManifest
        {
            MediaType = mediaType,
            Manifests = manifests,
            Subject = ReadSubject(root),
            ArtifactType = ReadMediaType(root, "artifactType", "", required: false),
            Annotations = ReadAnnotations(root, ""),
        };
    }

    private static Descriptor? ReadSubject(JsonElement root) =>
        root.TryGetProperty("subject", out var subject) ? ReadDescriptor(subject, "subject") : null;

    // Media types are case-insensitive (RFC 6838), so a header in any case maps to the constant's spelling.
    private static string? NormalizeContentType(string? contentType)
    {
        if (contentType is null)
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var bare = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        foreach (var known in (ReadOnlySpan<string>)[MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList, MediaTypes.DockerSchema1, MediaTypes.DockerSchema1Signed])
        {
            if (string.Equals(bare, known, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return bare;
    }
}

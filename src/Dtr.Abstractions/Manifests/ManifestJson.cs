using System.Text.Json;
using Dtr.Digests;
using Dtr.Errors;

namespace Dtr.Manifests;

/// <summary>
/// Typed field readers for manifest JSON. Each one validates one field and throws
/// <see cref="OciErrorCode.ManifestInvalid"/> with the field's path, such as <c>layers[2].digest</c>, when the
/// field is missing or invalid.
/// </summary>
internal static class ManifestJson
{
    // RFC 6838 section 4.2 limits the type and the subtype to 127 characters each.
    private const int MaxMediaTypeNameLength = 127;

    // Error messages echo client input, so long values are cut to keep responses and logs small.
    private const int MaxEchoLength = 150;

    /// <summary>Creates the exception for every parse failure.</summary>
    public static RegistryException Invalid(string message) => new(OciErrorCode.ManifestInvalid, message);

    /// <summary>Reads a descriptor object: media type, digest, size and the optional descriptor fields.</summary>
    public static Descriptor ReadDescriptor(JsonElement element, string path)
    {
        RequireKind(element, JsonValueKind.Object, path);

        var mediaType = ReadMediaType(element, "mediaType", path, required: true)!;
        var digest = ReadDigest(element, path);
        var size = ReadSize(element, path);
        var artifactType = ReadMediaType(element, "artifactType", path, required: false);
        var annotations = ReadAnnotations(element, path);
        var platform = element.TryGetProperty("platform", out var platformElement)
            ? ReadPlatform(platformElement, Join(path, "platform"))
            : null;

        // The URLs are not used, because this registry serves every blob itself, but a wrong type still makes the
        // descriptor invalid.
        if (element.TryGetProperty("urls", out var urls))
        {
            ReadStringArray(urls, Join(path, "urls"));
        }

        return new Descriptor
        {
            MediaType = mediaType,
            Digest = digest,
            Size = size,
            ArtifactType = artifactType,
            Annotations = annotations,
            Platform = platform,
        };
    }

    /// <summary>Reads a required array of descriptors, such as <c>layers</c> or <c>manifests</c>.</summary>
    public static List<Descriptor> ReadDescriptorArray(JsonElement parent, string name, string purpose)
    {
        if (!parent.TryGetProperty(name, out var array))
        {
            throw Invalid($"The manifest field '{name}' is missing. {purpose}");
        }

        RequireKind(array, JsonValueKind.Array, name);

        var descriptors = new List<Descriptor>(array.GetArrayLength());
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            descriptors.Add(ReadDescriptor(item, $"{name}[{index}]"));
            index++;
        }

        return descriptors;
    }

    /// <summary>
    /// Reads a media type field such as <c>mediaType</c> or <c>artifactType</c>. Returns null when an optional field
    /// is absent.
    /// </summary>
    public static string? ReadMediaType(JsonElement parent, string name, string parentPath, bool required)
    {
        var path = Join(parentPath, name);
        var value = ReadString(parent, name, parentPath, required);
        if (value is null)
        {
            return null;
        }

        if (!IsValidMediaType(value))
        {
            throw Invalid(
                $"The manifest field '{path}' has the invalid media type '{Echo(value)}'. A media type has the form "
                + "'type/subtype', for example 'application/vnd.oci.image.layer.v1.tar+gzip', with at most 127 "
                + "letters, digits or !#$&^_.+- in each part, starting with a letter or digit.");
        }

        return value;
    }

    /// <summary>Reads a string field. Returns null when an optional field is absent.</summary>
    public static string? ReadString(JsonElement parent, string name, string parentPath, bool required)
    {
        var path = Join(parentPath, name);
        if (!parent.TryGetProperty(name, out var element))
        {
            return required ? throw Invalid($"The manifest field '{path}' is missing. Add it as a JSON string.") : null;
        }

        return GetString(element, path);
    }

    /// <summary>Reads an optional <c>annotations</c> object, whose values must all be strings.</summary>
    public static Dictionary<string, string>? ReadAnnotations(JsonElement parent, string parentPath)
    {
        var path = Join(parentPath, "annotations");
        if (!parent.TryGetProperty("annotations", out var element))
        {
            return null;
        }

        RequireKind(element, JsonValueKind.Object, path);

        var annotations = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var key = GetPropertyName(property, path);
            annotations[key] = GetString(property.Value, $"{path}[\"{Echo(key)}\"]");
        }

        return annotations;
    }

    /// <summary>Returns whether the value has the RFC 6838 form <c>type/subtype</c>, without parameters.</summary>
    public static bool IsValidMediaType(string value)
    {
        var slash = value.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            return false;
        }

        return IsValidMediaTypeName(value.AsSpan(0, slash)) && IsValidMediaTypeName(value.AsSpan(slash + 1));
    }

    /// <summary>Throws unless the element has the expected JSON kind.</summary>
    public static void RequireKind(JsonElement element, JsonValueKind expected, string path)
    {
        if (element.ValueKind != expected)
        {
            throw Invalid($"The manifest field '{path}' must be {DescribeKind(expected)}, but it is {DescribeKind(element.ValueKind)}.");
        }
    }

    /// <summary>Names a JSON kind with its article, for messages such as "must be an array, but it is a string".</summary>
    public static string DescribeKind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "a JSON object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    /// <summary>Cuts a client-supplied value to a length that is safe to put in an error message.</summary>
    public static string Echo(string value) => value.Length <= MaxEchoLength ? value : value[..MaxEchoLength] + "…";

    private static Digest ReadDigest(JsonElement descriptor, string parentPath)
    {
        var path = Join(parentPath, "digest");
        var text = ReadString(descriptor, "digest", parentPath, required: true);
        if (!Digest.TryParse(text, out var digest, out var error))
        {
            throw Invalid($"The manifest field '{path}' is invalid. {error}");
        }

        return digest;
    }

    private static long ReadSize(JsonElement descriptor, string parentPath)
    {
        var path = Join(parentPath, "size");
        if (!descriptor.TryGetProperty("size", out var element))
        {
            throw Invalid($"The manifest field '{path}' is missing. Set it to the content's length in bytes.");
        }

        RequireKind(element, JsonValueKind.Number, path);

        // TryGetInt64 fails for fractions, exponents and values outside the int64 range, which the image
        // specification's int64 type excludes.
        if (!element.TryGetInt64(out var size) || size < 0)
        {
            throw Invalid(
                $"The manifest field '{path}' is {Echo(element.GetRawText())}, which is not a valid size. Set it to "
                + "the content's length in bytes, a whole number from 0 to 9223372036854775807 without a fraction "
                + "or exponent.");
        }

        return size;
    }

    private static Platform ReadPlatform(JsonElement element, string path)
    {
        RequireKind(element, JsonValueKind.Object, path);

        var architecture = ReadString(element, "architecture", path, required: true)!;
        var os = ReadString(element, "os", path, required: true)!;
        var variant = ReadString(element, "variant", path, required: false);
        var osVersion = ReadString(element, "os.version", path, required: false);
        if (element.TryGetProperty("os.features", out var features))
        {
            ReadStringArray(features, Join(path, "os.features"));
        }

        return new Platform
        {
            Architecture = architecture,
            Os = os,
            Variant = variant,
            OsVersion = osVersion,
        };
    }

    private static List<string> ReadStringArray(JsonElement element, string path)
    {
        RequireKind(element, JsonValueKind.Array, path);

        var values = new List<string>(element.GetArrayLength());
        var index = 0;
        foreach (var item in element.EnumerateArray())
        {
            values.Add(GetString(item, $"{path}[{index}]"));
            index++;
        }

        return values;
    }

    private static string GetString(JsonElement element, string path)
    {
        RequireKind(element, JsonValueKind.String, path);
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            // Valid JSON can still escape a lone UTF-16 surrogate, such as "\ud800", which no string can hold.
            throw Invalid($"The manifest field '{path}' contains an invalid \\u escape: {ex.Message} Use valid Unicode text.");
        }
    }

    private static string GetPropertyName(JsonProperty property, string path)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException ex)
        {
            throw Invalid($"A key in the manifest field '{path}' contains an invalid \\u escape: {ex.Message} Use valid Unicode text.");
        }
    }

    private static bool IsValidMediaTypeName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxMediaTypeNameLength || !char.IsAsciiLetterOrDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('!' or '#' or '$' or '&' or '^' or '_' or '.' or '+' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    private static string Join(string parentPath, string name) => parentPath.Length == 0 ? name : parentPath + "." + name;
}

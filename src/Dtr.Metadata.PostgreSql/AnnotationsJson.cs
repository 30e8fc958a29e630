using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Converts manifest annotations to and from the JSON text stored in the <c>annotations</c> column.</summary>
internal static class AnnotationsJson
{
    public static string? Serialize(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null)
        {
            return null;
        }

        var copy = new Dictionary<string, string>(annotations, StringComparer.Ordinal);
        return JsonSerializer.Serialize(copy, AnnotationsJsonContext.Default.DictionaryStringString);
    }

    public static IReadOnlyDictionary<string, string>? Deserialize(string? json) =>
        json is null ? null : JsonSerializer.Deserialize(json, AnnotationsJsonContext.Default.DictionaryStringString);
}

[JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class AnnotationsJsonContext : JsonSerializerContext;

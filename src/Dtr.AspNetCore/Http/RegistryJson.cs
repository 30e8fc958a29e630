using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtr.AspNetCore.Http;

/// <summary>JSON settings of registry responses.</summary>
internal static class RegistryJson
{
    /// <summary>Camel-case names and no nulls, as OCI documents are written.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

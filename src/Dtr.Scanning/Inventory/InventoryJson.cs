using System.Text.Json;
using System.Text.Json.Serialization;
using Dtr.Digests;

namespace Dtr.Scanning.Inventory;

/// <summary>Writes and reads the inventory document kept in <see cref="ImageScan.InventoryJson"/>.</summary>
public static class InventoryJson
{
    /// <summary>Serialises an inventory.</summary>
    public static string Serialize(ImageInventory inventory)
    {
        ArgumentNullException.ThrowIfNull(inventory);
        return JsonSerializer.Serialize(inventory, InventoryJsonContext.Default.ImageInventory);
    }

    /// <summary>Reads an inventory written by <see cref="Serialize"/>.</summary>
    /// <exception cref="FormatException">The text is not an inventory document.</exception>
    public static ImageInventory Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            return JsonSerializer.Deserialize(json, InventoryJsonContext.Default.ImageInventory)
                ?? throw new FormatException("The inventory document is null.");
        }
        catch (JsonException exception)
        {
            throw new FormatException($"The inventory document is invalid: {exception.Message}", exception);
        }
    }
}

/// <summary>Writes a <see cref="Digest"/> as its string form.</summary>
public sealed class DigestJsonConverter : JsonConverter<Digest>
{
    /// <inheritdoc />
    public override Digest Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        if (text is null || !Digest.TryParse(text, out var digest))
        {
            throw new JsonException($"'{text}' is not a valid digest.");
        }

        return digest;
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, Digest value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(DigestJsonConverter)])]
[JsonSerializable(typeof(ImageInventory))]
internal sealed partial class InventoryJsonContext : JsonSerializerContext;

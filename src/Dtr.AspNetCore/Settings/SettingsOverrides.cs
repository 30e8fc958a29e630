using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// The settings that an administrator changed at run time, as stored in <see cref="Metadata.ISettingsStore"/>. A null
/// member has no override and takes the configured value. The document has the shape of the <c>/settings</c>
/// resource, so a merge patch applies to it member by member.
/// </summary>
/// <remarks>
/// Some settings can be null in configuration, which a merge patch cannot express because null resets a member. Such
/// an override stores "off" as <c>""</c> (<c>publicBaseUrl</c>, <c>scheduleCron</c>) or <c>0</c>
/// (<c>scheduleIntervalMinutes</c>, <c>maxDurationMinutes</c>).
/// </remarks>
internal sealed class SettingsOverrides
{
    /// <summary>The serializer settings of the stored document: camel-case names, as in the resource.</summary>
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    public GeneralOverrides? General { get; set; }

    public ScanningOverrides? Scanning { get; set; }

    public GarbageCollectionOverrides? GarbageCollection { get; set; }

    /// <summary>Reads a stored document.</summary>
    /// <exception cref="JsonException">The document is not JSON of this shape.</exception>
    public static SettingsOverrides FromJson(JsonObject document) =>
        document.Deserialize<SettingsOverrides>(JsonOptions) ?? new SettingsOverrides();
}

/// <summary>Overrides of <c>general</c>.</summary>
internal sealed class GeneralOverrides
{
    /// <summary>The public base URL, or <c>""</c> to use each request's own scheme and host.</summary>
    public string? PublicBaseUrl { get; set; }

    public bool? CreateRepositoryOnPush { get; set; }
}

/// <summary>Overrides of <c>scanning</c>.</summary>
internal sealed class ScanningOverrides
{
    public bool? Enabled { get; set; }

    /// <summary>The database URLs with their credentials; an empty list turns the online update off.</summary>
    public List<string>? DatabaseUrls { get; set; }

    public int? UpdateIntervalMinutes { get; set; }
}

/// <summary>Overrides of <c>garbageCollection</c>.</summary>
internal sealed class GarbageCollectionOverrides
{
    /// <summary>The schedule interval in minutes, or 0 for no interval schedule.</summary>
    public int? ScheduleIntervalMinutes { get; set; }

    /// <summary>The cron expression, or <c>""</c> for no cron schedule.</summary>
    public string? ScheduleCron { get; set; }

    public string? ScheduleTimeZone { get; set; }

    /// <summary>The time budget of a scheduled run in minutes, or 0 for none.</summary>
    public int? MaxDurationMinutes { get; set; }

    public bool? DeleteUntagged { get; set; }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using Dtr.Metadata;
using Dtr.Scanning;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>
/// An event as the registry records it, before it is matched to subscriptions. A scan event carries no summary yet:
/// <see cref="WebhookDispatcher"/> reads it from the scan store, off the request path.
/// </summary>
/// <param name="Id">The event id, the same in every delivery of the event.</param>
/// <param name="Type">The event type; one flag.</param>
/// <param name="Time">When it happened.</param>
/// <param name="Repository">The repository name.</param>
/// <param name="Tag">The tag pushed, pulled or deleted, or null.</param>
/// <param name="Digest">The manifest digest, or null for a tag deletion.</param>
/// <param name="MediaType">The manifest's media type, or null when unknown.</param>
/// <param name="Actor">The user name, or null for an anonymous caller or the scanner.</param>
/// <param name="Registry">The registry's public base URL, or null when it is not configured and no request gave it.</param>
internal sealed record WebhookEvent(
    string Id,
    WebhookEventTypes Type,
    DateTimeOffset Time,
    string Repository,
    string? Tag,
    string? Digest,
    string? MediaType,
    string? Actor,
    string? Registry);

/// <summary>The JSON body of a delivery. Its schema is documented in the README, so change it only by adding members.</summary>
internal sealed record WebhookPayload(
    string Id,
    string Type,
    DateTimeOffset Time,
    string? Registry,
    string? Repository,
    string? Tag,
    string? Digest,
    string? MediaType,
    string? Actor,
    WebhookScanSummary? Scan,
    long Webhook)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>Returns the payload as compact JSON, with every member present and null where unknown.</summary>
    public string Serialize() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Returns the payload of an event for one subscription.</summary>
    public static WebhookPayload From(WebhookEvent webhookEvent, WebhookEventTypes type, WebhookScanSummary? scan, long webhookId) => new(
        webhookEvent.Id,
        WebhookEventNames.Format(type),
        webhookEvent.Time,
        webhookEvent.Registry,
        webhookEvent.Repository,
        webhookEvent.Tag,
        webhookEvent.Digest,
        webhookEvent.MediaType,
        webhookEvent.Actor,
        scan,
        webhookId);
}

/// <summary>
/// The status and vulnerability counts of a scan, as the scan API reports them. For an index, each count is the
/// highest among its images, and the status the worst.
/// </summary>
internal sealed record WebhookScanSummary(string Status, int Critical, int High, int Medium, int Low, int Unknown)
{
    public static WebhookScanSummary From(string status, ScanSummary summary) =>
        new(status, summary.Critical, summary.High, summary.Medium, summary.Low, summary.Unknown);

    /// <summary>Returns the counts as a <see cref="ScanSummary"/>.</summary>
    public ScanSummary ToSummary() => new(Critical, High, Medium, Low, Unknown);
}

/// <summary>The names of the event types in payloads, headers and the management API.</summary>
internal static class WebhookEventNames
{
    /// <summary>The type of the event sent by the "send test event" action.</summary>
    public const string Test = "webhook.test";

    private static readonly (WebhookEventTypes Type, string Name)[] s_names =
    [
        (WebhookEventTypes.ImagePushed, "image.pushed"),
        (WebhookEventTypes.ImagePulled, "image.pulled"),
        (WebhookEventTypes.TagDeleted, "tag.deleted"),
        (WebhookEventTypes.ManifestDeleted, "manifest.deleted"),
        (WebhookEventTypes.ScanCompleted, "scan.completed"),
        (WebhookEventTypes.ScanVulnerabilitiesFound, "scan.vulnerabilities_found"),
    ];

    /// <summary>Every event type name, in the order of the flags.</summary>
    public static IReadOnlyList<string> All { get; } = s_names.Select(entry => entry.Name).ToArray();

    /// <summary>Returns the name of one event type.</summary>
    public static string Format(WebhookEventTypes type) =>
        s_names.FirstOrDefault(entry => entry.Type == type).Name ?? throw new ArgumentOutOfRangeException(nameof(type), type, "Not a single event type.");

    /// <summary>Returns the names of the flags set in <paramref name="types"/>.</summary>
    public static IReadOnlyList<string> FormatAll(WebhookEventTypes types) =>
        s_names.Where(entry => types.HasFlag(entry.Type)).Select(entry => entry.Name).ToArray();

    /// <summary>Parses an event type name.</summary>
    public static bool TryParse(string? name, out WebhookEventTypes type)
    {
        type = s_names.FirstOrDefault(entry => string.Equals(entry.Name, name, StringComparison.Ordinal)).Type;
        return type != WebhookEventTypes.None;
    }
}

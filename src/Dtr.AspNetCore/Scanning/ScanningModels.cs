using System.Text.Json.Serialization;
using Dtr.Scanning;
using Dtr.Scanning.Service;

namespace Dtr.AspNetCore.Scanning;

/// <summary>The vulnerability database, its sources, the online update and the scan queue.</summary>
internal sealed record DatabaseResponse(
    long Version,
    DateTimeOffset? UpdatedAt,
    int RecordCount,
    IReadOnlyList<DatabaseSourceResponse> Sources,
    OnlineUpdateResponse Online,
    bool SignatureRequired,
    int QueueLength);

/// <summary>One source of the vulnerability database.</summary>
internal sealed record DatabaseSourceResponse(
    string Name,
    int RecordCount,
    DateTimeOffset UpdatedAt,
    [property: JsonPropertyName("etag")] string? ETag,
    DateTimeOffset? LastModified,
    string? ArchiveDigest,
    bool SignatureVerified)
{
    public static DatabaseSourceResponse From(VulnerabilitySource source) => new(
        source.Name,
        source.RecordCount,
        source.UpdatedAt,
        source.ETag,
        source.LastModified,
        source.ArchiveDigest,
        source.SignatureVerified);
}

/// <summary>The online update's settings, and its state on the host that served the request.</summary>
/// <param name="Interval">The update interval in the invariant TimeSpan form, such as <c>1.00:00:00</c>.</param>
internal sealed record OnlineUpdateResponse(
    IReadOnlyList<string> Urls,
    string Interval,
    DateTimeOffset? LastAttemptAt,
    DateTimeOffset? LastSuccessAt,
    string? LastError,
    DateTimeOffset? NextAttemptAt);

/// <summary>
/// The outcome of an uploaded archive's import. <c>Unchanged</c> is true when the archive was the source's current copy,
/// so nothing was imported.
/// </summary>
internal sealed record DatabaseImportResponse(string Source, int RecordCount, int SkippedCount, bool Unchanged, DatabaseResponse Database);

/// <summary>The response to <c>POST /scanning/database/update</c>.</summary>
internal sealed record UpdateStartedResponse(bool Started);

/// <summary>The response to a queued scan.</summary>
internal sealed record ScanQueuedResponse(string Status, string Digest);

/// <summary>Counts of vulnerabilities by severity, with Docker Trusted Registry's three classes.</summary>
internal sealed record ScanSummaryResponse(int Critical, int High, int Medium, int Low, int Unknown, int Total, DtrSummaryResponse Dtr)
{
    public static ScanSummaryResponse From(ScanSummary summary) => new(
        summary.Critical,
        summary.High,
        summary.Medium,
        summary.Low,
        summary.Unknown,
        summary.Total,
        new DtrSummaryResponse(summary.DtrCritical, summary.DtrMajor, summary.DtrMinor));
}

/// <summary>Docker Trusted Registry's classes: critical (CVSS 7.0 and above), major (4.0–6.9) and minor (0.1–3.9).</summary>
internal sealed record DtrSummaryResponse(int Critical, int Major, int Minor);

/// <summary>The scan of a tag's manifest, in tag listings.</summary>
internal sealed record TagScanResponse(string Status, ScanSummaryResponse? Summary);

/// <summary>A repository's pull policy, as sent and returned by <c>/scanning/policy</c>.</summary>
internal sealed record ScanPolicyResponse(string? BlockSeverity, bool AllowUnscanned, IReadOnlyList<AllowlistEntryResponse> Allowlist)
{
    public static ScanPolicyResponse From(ScanPolicy policy) => new(
        policy.BlockSeverity is { } severity ? SeverityNames.Format(severity) : null,
        policy.AllowUnscanned,
        policy.Allowlist.Select(entry => new AllowlistEntryResponse(entry.Id, entry.ExpiresAt, entry.Reason)).ToList());
}

/// <summary>A vulnerability that does not block pulls until it expires.</summary>
internal sealed record AllowlistEntryResponse(string Id, DateTimeOffset? ExpiresAt, string? Reason);

/// <summary>The body of <c>PUT /scanning/policy</c>; a missing field takes its default (no blocking, unscanned allowed, no allowlist).</summary>
internal sealed record ScanPolicyRequest(string? BlockSeverity, bool? AllowUnscanned, IReadOnlyList<AllowlistEntryRequest>? Allowlist);

/// <summary>An allowlist entry of <see cref="ScanPolicyRequest"/>.</summary>
internal sealed record AllowlistEntryRequest(string? Id, DateTimeOffset? ExpiresAt, string? Reason);

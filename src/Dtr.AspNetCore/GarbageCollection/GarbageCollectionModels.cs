using System.Text.Json;
using Dtr.Gc;
using Dtr.Metadata;

namespace Dtr.AspNetCore.GarbageCollection;

// Request and response bodies of the garbage collection part of the management API. Property names are written in
// camelCase, and enum values as camelCase strings.

/// <summary>The body of <c>POST /gc/runs</c>; every field is optional.</summary>
/// <param name="DryRun">Whether the run only records what it would remove. Default false.</param>
/// <param name="DeleteUntagged">Whether manifests that no tag reaches are removed. Default false.</param>
/// <param name="MaxDurationMinutes">The time budget in minutes, or null for none.</param>
internal sealed record StartRunRequest(bool? DryRun, bool? DeleteUntagged, int? MaxDurationMinutes);

/// <summary>A garbage collection run as the API shows it.</summary>
/// <param name="MaxDurationMinutes">The time budget in minutes, or null for none.</param>
/// <param name="Host">The name of the host that runs or ran it.</param>
/// <param name="Errors">Errors met during the run; the run goes on past an error on one item.</param>
internal sealed record RunResponse(
    string Id,
    string Status,
    string Trigger,
    bool DryRun,
    bool DeleteUntagged,
    double? MaxDurationMinutes,
    string? RequestedBy,
    string? Host,
    DateTimeOffset StartedAt,
    DateTimeOffset? EndedAt,
    DateTimeOffset? HeartbeatAt,
    bool CancelRequested,
    long ManifestsDeleted,
    long BlobLinksDeleted,
    long BlobsDeleted,
    long BytesFreed,
    long UploadsPurged,
    IReadOnlyList<string> Errors)
{
    public static RunResponse From(GarbageCollectionRun run) => new(
        run.Id,
        GarbageCollectionNames.Format(run.Status),
        GarbageCollectionNames.Format(run.Trigger),
        run.DryRun,
        run.DeleteUntagged,
        run.MaxDuration?.TotalMinutes,
        run.RequestedBy,
        run.Host,
        run.StartedAt,
        run.EndedAt,
        run.HeartbeatAt,
        run.CancelRequested,
        run.ManifestsDeleted,
        run.BlobLinksDeleted,
        run.BlobsDeleted,
        run.BytesFreed,
        run.UploadsPurged,
        run.Errors);
}

/// <summary>A page of runs, newest first.</summary>
internal sealed record RunListResponse(IReadOnlyList<RunResponse> Runs);

/// <summary>One thing a run removed, or that a dry run would remove.</summary>
/// <param name="Position">The item's position in the run's list, from 1; <c>?last=</c> resumes after it.</param>
/// <param name="Repository">The repository, or null for a blob or an upload.</param>
/// <param name="Digest">The manifest or blob digest, or null for an upload.</param>
/// <param name="UploadId">The upload id, or null for other kinds.</param>
/// <param name="Size">The bytes it took.</param>
internal sealed record RunItemResponse(long Position, string Kind, string? Repository, string? Digest, string? UploadId, long Size)
{
    public static RunItemResponse From(GarbageCollectionItem item) => new(
        item.Position,
        GarbageCollectionNames.Format(item.Kind),
        item.Repository,
        item.Digest?.Value,
        item.UploadId,
        item.Size);
}

/// <summary>A page of a run's items, in the order the run recorded them.</summary>
internal sealed record RunItemListResponse(IReadOnlyList<RunItemResponse> Items);

/// <summary>The response of <c>GET /gc/reclaimable</c>: an estimate of what a run would free now.</summary>
/// <param name="DeleteUntagged">Whether the estimate counts manifests that no tag reaches.</param>
/// <param name="Manifests">Manifests that would be removed.</param>
/// <param name="Blobs">Blobs whose bytes would be removed.</param>
/// <param name="Bytes">Bytes those blobs take in the blob store.</param>
/// <param name="StaleUploads">Upload sessions older than the upload age limit.</param>
internal sealed record ReclaimableResponse(bool DeleteUntagged, long Manifests, long Blobs, long Bytes, long StaleUploads, DateTimeOffset ComputedAt)
{
    public static ReclaimableResponse From(bool deleteUntagged, ReclaimableEstimate estimate) => new(
        deleteUntagged,
        estimate.Manifests,
        estimate.Blobs,
        estimate.Bytes,
        estimate.StaleUploads,
        estimate.ComputedAt);
}

/// <summary>The strings of run states, triggers and item kinds in the API: the enum names in camelCase.</summary>
internal static class GarbageCollectionNames
{
    public static string Format(GarbageCollectionStatus status) => JsonNamingPolicy.CamelCase.ConvertName(status.ToString());

    public static string Format(GarbageCollectionTrigger trigger) => JsonNamingPolicy.CamelCase.ConvertName(trigger.ToString());

    public static string Format(GarbageCollectionItemKind kind) => JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    /// <summary>The accepted values of <c>?kind=</c>, in declaration order.</summary>
    public static IReadOnlyList<string> ItemKinds { get; } = Enum.GetValues<GarbageCollectionItemKind>().Select(Format).ToList();

    /// <summary>Parses an item kind such as <c>blobLink</c>, or returns null when the value names none.</summary>
    public static GarbageCollectionItemKind? ParseItemKind(string value)
    {
        foreach (var kind in Enum.GetValues<GarbageCollectionItemKind>())
        {
            if (string.Equals(Format(kind), value, StringComparison.Ordinal))
            {
                return kind;
            }
        }

        return null;
    }
}

using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Metadata;

/// <summary>One repository's manifests and blob links, as garbage collection marks them.</summary>
/// <param name="Repository">The repository.</param>
/// <param name="Manifests">Every manifest stored in the repository.</param>
/// <param name="BlobLinks">Every blob linked into the repository.</param>
public sealed record RepositoryContents(RepositoryName Repository, IReadOnlyList<ManifestNode> Manifests, IReadOnlyList<BlobLinkEntry> BlobLinks);

/// <summary>A stored manifest and the references that marking follows from it.</summary>
/// <param name="Digest">The manifest's digest.</param>
/// <param name="Size">The length of the manifest's bytes.</param>
/// <param name="CreatedAt">When the manifest was first stored in the repository.</param>
/// <param name="Tagged">Whether at least one tag points to the manifest.</param>
/// <param name="Subject">The digest of the manifest's subject, or null when it has none.</param>
/// <param name="Children">The manifests that the manifest lists, when it is an index.</param>
/// <param name="Blobs">The config and layers that the manifest references.</param>
public sealed record ManifestNode(
    Digest Digest,
    long Size,
    DateTimeOffset CreatedAt,
    bool Tagged,
    Digest? Subject,
    IReadOnlyList<Digest> Children,
    IReadOnlyList<Digest> Blobs);

/// <summary>A blob linked into a repository.</summary>
/// <param name="Digest">The blob's digest.</param>
/// <param name="Size">The blob's length in bytes.</param>
/// <param name="LinkedAt">When the link was created.</param>
/// <param name="LastUsedAt">
/// When the blob was last used in any repository (see <see cref="IGarbageCollectionStore.TryUseBlobAsync"/>), or null
/// when no use is recorded. Only <see cref="IGarbageCollectionStore.GetRepositoryContentsAsync"/> fills it; the deletes
/// that return links leave it null.
/// </param>
public sealed record BlobLinkEntry(Digest Digest, long Size, DateTimeOffset LinkedAt, DateTimeOffset? LastUsedAt = null);

/// <summary>A blob that a run marked for deletion and did not finish deleting.</summary>
/// <param name="Digest">The blob's digest.</param>
/// <param name="RunId">The run that marked it.</param>
public sealed record PendingBlobDeletion(Digest Digest, string RunId);

/// <summary>Thrown when a blob cannot be linked because a garbage collection run is deleting its bytes.</summary>
/// <remarks>
/// The deletion takes moments. A caller that has the blob's bytes, such as an upload completion, waits and tries
/// again. A caller that only links existing bytes, such as a cross-repository mount, treats the blob as missing.
/// </remarks>
public sealed class BlobDeletionPendingException : InvalidOperationException
{
    /// <summary>Creates the exception for one blob.</summary>
    public BlobDeletionPendingException(Digest digest)
        : base($"The blob {digest} is being deleted by garbage collection and cannot be linked until the deletion ends.")
    {
        Digest = digest;
    }

    /// <summary>The blob being deleted.</summary>
    public Digest Digest { get; }
}

/// <summary>What started a garbage collection run.</summary>
public enum GarbageCollectionTrigger
{
    /// <summary>A request to the management API or a call of the collector.</summary>
    Manual = 0,

    /// <summary>The configured schedule.</summary>
    Schedule = 1,
}

/// <summary>The state of a garbage collection run.</summary>
public enum GarbageCollectionStatus
{
    /// <summary>The run is going on.</summary>
    Running = 0,

    /// <summary>The run finished every phase.</summary>
    Completed = 1,

    /// <summary>The run stopped because its time budget ran out; the next run goes on with what is left.</summary>
    BudgetExhausted = 2,

    /// <summary>The run stopped because it was cancelled.</summary>
    Cancelled = 3,

    /// <summary>The run stopped on an error, recorded in <see cref="GarbageCollectionRun.Errors"/>.</summary>
    Failed = 4,

    /// <summary>The host that ran it stopped or lost the collection lease before the run ended.</summary>
    Interrupted = 5,
}

/// <summary>The record of one garbage collection run.</summary>
public sealed record GarbageCollectionRun
{
    /// <summary>The run's id, unique across hosts.</summary>
    public required string Id { get; init; }

    /// <summary>What started the run.</summary>
    public GarbageCollectionTrigger Trigger { get; init; }

    /// <summary>Whether the run only reports what it would remove.</summary>
    public bool DryRun { get; init; }

    /// <summary>Whether manifests that no tag reaches are removed.</summary>
    public bool DeleteUntagged { get; init; }

    /// <summary>The time budget, or null for none.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>The user who started the run, or null for the schedule or a call without a user.</summary>
    public string? RequestedBy { get; init; }

    /// <summary>The name of the host that runs it.</summary>
    public string? Host { get; init; }

    /// <summary>The run's state.</summary>
    public GarbageCollectionStatus Status { get; init; }

    /// <summary>When the run started.</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the run ended, or null while it is running.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>When the host running it last recorded progress.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>Whether someone asked to cancel the run.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The manifests removed (or, in a dry run, that would be removed).</summary>
    public long ManifestsDeleted { get; init; }

    /// <summary>The repository blob links removed.</summary>
    public long BlobLinksDeleted { get; init; }

    /// <summary>The blobs whose bytes were removed from the blob store.</summary>
    public long BlobsDeleted { get; init; }

    /// <summary>The bytes freed in the blob store by removed blobs.</summary>
    public long BytesFreed { get; init; }

    /// <summary>The upload sessions removed with their data.</summary>
    public long UploadsPurged { get; init; }

    /// <summary>Errors met during the run, at most a few dozen; the run goes on past an error on one item.</summary>
    public IReadOnlyList<string> Errors { get; init; } = [];
}

/// <summary>The kind of a <see cref="GarbageCollectionItem"/>.</summary>
public enum GarbageCollectionItemKind
{
    /// <summary>A manifest in a repository.</summary>
    Manifest = 0,

    /// <summary>A blob link in a repository.</summary>
    BlobLink = 1,

    /// <summary>A blob's bytes in the blob store.</summary>
    Blob = 2,

    /// <summary>An upload session and its data.</summary>
    Upload = 3,
}

/// <summary>One thing a run removed, or that a dry run would remove.</summary>
/// <param name="Position">The item's position in the run's list, from 1; ignored by <see cref="IGarbageCollectionStore.AddRunItemsAsync"/>.</param>
/// <param name="Kind">What was removed.</param>
/// <param name="Repository">The repository, or null for a blob.</param>
/// <param name="Digest">The manifest or blob digest, or null for an upload.</param>
/// <param name="UploadId">The upload id, or null for other kinds.</param>
/// <param name="Size">The bytes it took: the manifest's, blob's or upload's length.</param>
public sealed record GarbageCollectionItem(
    long Position,
    GarbageCollectionItemKind Kind,
    string? Repository,
    Digest? Digest,
    string? UploadId,
    long Size);

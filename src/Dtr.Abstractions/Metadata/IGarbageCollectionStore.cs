using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Metadata;

/// <summary>
/// The metadata that garbage collection reads and changes. Marking reads each repository's manifests, tags and blob
/// links. Sweeping uses conditional deletes, and deletion marks that keep a blob from being linked while its bytes are
/// deleted. The store also lists stale upload sessions and keeps the record of each run. The embedded implementation
/// keeps all of this in the same database as <see cref="IMetadataStore"/>.
/// </summary>
/// <remarks>
/// <para>
/// Collection runs while clients push and pull. Every delete below therefore re-checks, in the transaction that
/// deletes, the condition that made the item garbage when it was marked, and skips an item that a client started to
/// use meanwhile. Writers of one store run one at a time (see the implementations), so a delete and a concurrent
/// <see cref="IMetadataStore.PutManifestAsync"/> or <see cref="IMetadataStore.LinkBlobAsync"/> never interleave:
/// either the put sees the link gone and reports the blob missing, or the delete sees the new reference and keeps it.
/// </para>
/// <para>
/// Times are the caller's clock, stored in whole milliseconds. A <c>cutoff</c> parameter is the time before which an
/// item must have been created or last used to be removed: the start of the run minus the grace period.
/// </para>
/// </remarks>
public interface IGarbageCollectionStore
{
    // ----- Marking -----

    /// <summary>
    /// Lists every repository row in ordinal order after <paramref name="last"/> (exclusive), including repositories
    /// that hold only upload sessions or nothing at all, which <see cref="IMetadataStore.ListRepositoriesAsync"/> hides.
    /// </summary>
    ValueTask<IReadOnlyList<RepositoryName>> ListAllRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads one repository's manifests, with their tags, child manifests, referenced blobs and subjects, and its blob
    /// links, in one snapshot. Returns null when the repository does not exist.
    /// </summary>
    ValueTask<RepositoryContents?> GetRepositoryContentsAsync(RepositoryName repository, CancellationToken cancellationToken = default);

    // ----- Sweeping manifests and links -----

    /// <summary>
    /// Deletes manifests of one repository in the order given, in one transaction, and returns those deleted. A
    /// manifest is deleted only when, at that point of the transaction: it exists; no tag points to it; no other
    /// manifest of the repository lists it as a child; its subject, if it has one, is not a manifest of the
    /// repository; and it was created before <paramref name="cutoff"/>. Because the manifests are handled in order, an
    /// index given before its children frees them for deletion in the same call, and so does a subject given before
    /// its referrers. When no manifest with a deleted digest remains in any repository, the digest's scan result and
    /// waiting scan jobs are deleted too.
    /// </summary>
    ValueTask<IReadOnlyList<Digest>> DeleteUnreferencedManifestsAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes blob links of one repository, in one transaction, and returns those deleted with their sizes. A link is
    /// deleted only when no manifest of the repository references the blob as its config or a layer, the link was
    /// created before <paramref name="cutoff"/>, and the blob was not used since then (a use is a <see cref="IMetadataStore.LinkBlobAsync"/> into any repository
    /// or a <see cref="TryUseBlobAsync"/>).
    /// </summary>
    ValueTask<IReadOnlyList<BlobLinkEntry>> DeleteUnusedBlobLinksAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    // ----- Sweeping blobs -----

    /// <summary>
    /// Returns, of <paramref name="digests"/>, those that collection must keep: blobs linked into any repository,
    /// referenced by any manifest as its config or a layer, used at or after <paramref name="cutoff"/>, or already
    /// marked for deletion by another run. The other digests are garbage at the time of the call.
    /// </summary>
    ValueTask<IReadOnlySet<Digest>> FindBlobsToKeepAsync(IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks blobs for deletion by run <paramref name="runId"/>, in one transaction, and returns those marked: each
    /// digest that <see cref="FindBlobsToKeepAsync"/> would not keep at that moment. From then until
    /// <see cref="EndBlobDeletionAsync"/>, <see cref="IMetadataStore.LinkBlobAsync"/> and <see cref="TryUseBlobAsync"/>
    /// reject the marked digests, so the caller may delete their bytes without a client linking them meanwhile.
    /// </summary>
    ValueTask<IReadOnlyList<Digest>> BeginBlobDeletionAsync(string runId, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes the deletion marks of <paramref name="digests"/>, in one transaction. When <paramref name="deleted"/> is
    /// true the bytes are gone, and the store also deletes the blobs' use records and cached layer analyses. When it is
    /// false the delete failed or was cancelled, and the blobs are usable again.
    /// </summary>
    ValueTask EndBlobDeletionAsync(IReadOnlyList<Digest> digests, bool deleted, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists up to <paramref name="limit"/> digests still marked for deletion by a run that is no longer running, such
    /// as one whose host stopped between the mark and the delete, with the id of that run.
    /// </summary>
    ValueTask<IReadOnlyList<PendingBlobDeletion>> ListPendingBlobDeletionsAsync(int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that a client is about to store or link the blob, such as an upload about to move its verified bytes
    /// into the blob store, so that a collection run that starts now keeps it for its grace period. Returns false,
    /// and records nothing, while a run has the blob marked for deletion; the caller waits and tries again.
    /// </summary>
    ValueTask<bool> TryUseBlobAsync(Digest digest, DateTimeOffset now, CancellationToken cancellationToken = default);

    // ----- Upload sessions -----

    /// <summary>
    /// Lists up to <paramref name="limit"/> upload sessions that last received data before <paramref name="updatedBefore"/>,
    /// oldest first.
    /// </summary>
    ValueTask<IReadOnlyList<UploadSession>> ListStaleUploadsAsync(DateTimeOffset updatedBefore, int limit, CancellationToken cancellationToken = default);

    // ----- Run records -----

    /// <summary>Stores a new run record.</summary>
    /// <exception cref="InvalidOperationException">A run with the same id exists.</exception>
    ValueTask CreateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default);

    /// <summary>
    /// Replaces a run record's status, times, counts and errors with those of <paramref name="run"/>. The
    /// cancellation request flag is kept as stored, because another host may have set it.
    /// </summary>
    ValueTask UpdateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default);

    /// <summary>Returns a run record, or null when it does not exist.</summary>
    ValueTask<GarbageCollectionRun?> GetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists run records newest first (by start time, then id), starting after the run <paramref name="after"/>
    /// (exclusive; null starts with the newest), optionally only those started by <paramref name="trigger"/>.
    /// </summary>
    ValueTask<IReadOnlyList<GarbageCollectionRun>> ListRunsAsync(string? after, int limit, GarbageCollectionTrigger? trigger = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets the cancellation request flag of a running run, which the host that runs it reads at its next heartbeat.
    /// Returns false when the run does not exist or is not running.
    /// </summary>
    ValueTask<bool> RequestRunCancellationAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Marks every run still recorded as running, except <paramref name="exceptRunId"/>, as interrupted at
    /// <paramref name="endedAt"/>, and returns how many it changed. The caller holds the collection lease, so no other
    /// host can still be running them.
    /// </summary>
    ValueTask<int> MarkRunsInterruptedAsync(string exceptRunId, DateTimeOffset endedAt, CancellationToken cancellationToken = default);

    /// <summary>Appends items that a run removed, or that a dry run would remove.</summary>
    ValueTask AddRunItemsAsync(string runId, IReadOnlyList<GarbageCollectionItem> items, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists a run's items in the order they were added, after position <paramref name="after"/> (exclusive; 0 starts
    /// at the first), optionally only those of one kind.
    /// </summary>
    ValueTask<IReadOnlyList<GarbageCollectionItem>> ListRunItemsAsync(string runId, long after, int limit, GarbageCollectionItemKind? kind = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes the records and items of runs that ended before <paramref name="endedBefore"/>, and returns how many runs.</summary>
    ValueTask<int> DeleteRunsEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default);
}

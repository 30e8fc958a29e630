using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Names;

namespace Dtr.Metadata;

/// <summary>
/// Everything the registry stores besides blob bytes: repositories, which blobs each repository may see,
/// manifests (their bytes as pushed), tags, referrers and upload sessions.
/// </summary>
/// <remarks>
/// Implementations must be safe under many concurrent callers, and each method is one transaction: a caller
/// never observes half of a manifest write or delete.
/// </remarks>
public interface IMetadataStore
{
    /// <summary>Creates or upgrades the schema. Idempotent; hosts call it once at start.</summary>
    ValueTask MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>Returns whether the repository exists.</summary>
    ValueTask<bool> RepositoryExistsAsync(RepositoryName repository, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists repository names in ordinal order, starting after <paramref name="last"/> (exclusive; it need not exist).
    /// Only repositories created with settings or containing content (a manifest or a blob link) are listed. An
    /// upload session alone does not make a repository visible.
    /// </summary>
    /// <param name="last">The name to start after, or null to start at the beginning.</param>
    /// <param name="limit">The maximum number of names to return.</param>
    ValueTask<IReadOnlyList<string>> ListRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that <paramref name="repository"/> may see the blob, creating the repository when it does not exist.
    /// Linking a blob that is already linked adds no link. Either way the store records the time as the blob's last use,
    /// which garbage collection compares with its grace period (see <see cref="IGarbageCollectionStore"/>).
    /// </summary>
    /// <exception cref="BlobDeletionPendingException">A garbage collection run is deleting the blob's bytes.</exception>
    ValueTask LinkBlobAsync(RepositoryName repository, Digest digest, long size, CancellationToken cancellationToken = default);

    /// <summary>Returns the size of a blob linked into the repository, or null when it is not linked there.</summary>
    ValueTask<long?> GetBlobLinkAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>Removes a blob link and returns whether it existed. The blob's bytes stay until garbage collection.</summary>
    ValueTask<bool> UnlinkBlobAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a manifest and points the given tags at it, in one transaction, after checking that every blob and
    /// child manifest it references is present in the repository (the subject excepted, which may be missing).
    /// Storing a manifest that is already stored only updates the tags. When the repository's tags are immutable
    /// and a tag already points to another manifest, nothing is stored and the result lists those tags.
    /// </summary>
    ValueTask<ManifestWriteResult> PutManifestAsync(ManifestWrite manifest, CancellationToken cancellationToken = default);

    /// <summary>Returns a manifest by tag or digest, or null when the repository has no such manifest.</summary>
    ValueTask<StoredManifest?> GetManifestAsync(RepositoryName repository, ManifestReference reference, CancellationToken cancellationToken = default);

    /// <summary>Removes one tag and returns whether it existed; the manifest it pointed to stays.</summary>
    /// <exception cref="ImmutableTagException">The tag exists and the repository's tags are immutable.</exception>
    ValueTask<bool> DeleteTagAsync(RepositoryName repository, string tag, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a manifest from the repository, with every tag that points to it and its referrer record, and
    /// returns whether it existed.
    /// </summary>
    /// <exception cref="ImmutableTagException">A tag points to the manifest and the repository's tags are immutable.</exception>
    ValueTask<bool> DeleteManifestAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists a repository's tags in case-insensitive lexical order, as the OCI distribution specification requires
    /// (tags that differ only in case follow ordinal order), after <paramref name="last"/> (exclusive; it need not
    /// exist), or returns null when the repository does not exist, or has neither settings nor content (no manifest and
    /// no blob link).
    /// </summary>
    ValueTask<IReadOnlyList<string>?> ListTagsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists a repository's tags like <see cref="ListTagsAsync"/>, in the same order and with the same paging, each
    /// with the manifest it points to and when it was last pushed, or returns null when the repository does not exist.
    /// </summary>
    ValueTask<IReadOnlyList<TagDetails>?> ListTagDetailsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists the tags that point to a manifest of the repository, in the order of <see cref="ListTagsAsync"/>. The list
    /// is empty when the repository or manifest does not exist, or when no tag points to the manifest.
    /// </summary>
    ValueTask<IReadOnlyList<string>> ListManifestTagsAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists the manifests in the repository whose subject is <paramref name="subject"/>, optionally only those
    /// with the given artifact type, ordered by digest.
    /// </summary>
    ValueTask<IReadOnlyList<Descriptor>> ListReferrersAsync(RepositoryName repository, Digest subject, string? artifactType, CancellationToken cancellationToken = default);

    /// <summary>Records a new upload session, creating the repository when it does not exist.</summary>
    ValueTask CreateUploadAsync(UploadSession session, CancellationToken cancellationToken = default);

    /// <summary>Returns an upload session, or null when it does not exist.</summary>
    ValueTask<UploadSession?> GetUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>Records that the upload received data at <paramref name="updatedAt"/>.</summary>
    ValueTask TouchUploadAsync(string uploadId, DateTimeOffset updatedAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records that an upload's content hashed to <paramref name="digest"/>, just before the upload is moved into the
    /// blob store. A completion that fails after the move can then be retried: the retry finds the session's
    /// <see cref="UploadSession.VerifiedDigest"/> and the blob, although the upload's data is gone. Does nothing when
    /// the session does not exist.
    /// </summary>
    ValueTask MarkUploadVerifiedAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default);

    /// <summary>Removes an upload session, with any lease on it, and returns whether it existed.</summary>
    ValueTask<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes or extends the lease on an upload session, which registry hosts that share this store hold while one
    /// request writes to the upload. The lease goes to <paramref name="holder"/> when it is free, when it
    /// expired (its expiry is at or before <paramref name="now"/>), or when <paramref name="holder"/> already holds
    /// it, and then it expires at <paramref name="expiresAt"/>. The check and the update are one atomic step, so of
    /// many callers at once exactly one gets a free lease.
    /// </summary>
    /// <param name="uploadId">The upload session.</param>
    /// <param name="holder">An id unique to the request that takes the lease, such as a new GUID.</param>
    /// <param name="now">The caller's current time, against which an existing lease's expiry is compared.</param>
    /// <param name="expiresAt">When the lease expires unless it is extended; later than <paramref name="now"/>.</param>
    /// <returns>
    /// True when <paramref name="holder"/> now holds the lease. False when another holder's lease has not expired,
    /// and also when the session does not exist (callers that need to tell the two apart read the session).
    /// </returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="holder"/> is empty or longer than 200 characters, or <paramref name="expiresAt"/> is not later
    /// than <paramref name="now"/>.
    /// </exception>
    ValueTask<bool> TryAcquireUploadLeaseAsync(string uploadId, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases the lease on an upload session when <paramref name="holder"/> holds it, so the next request does not
    /// wait for it to expire. Does nothing when another holder has the lease, the lease is free, or the session
    /// does not exist.
    /// </summary>
    ValueTask ReleaseUploadLeaseAsync(string uploadId, string holder, CancellationToken cancellationToken = default);
}

/// <summary>A manifest to store, with the tags to point at it.</summary>
public sealed record ManifestWrite
{
    /// <summary>The repository.</summary>
    public required RepositoryName Repository { get; init; }

    /// <summary>The digest of <see cref="Content"/>.</summary>
    public required Digest Digest { get; init; }

    /// <summary>The manifest bytes exactly as pushed.</summary>
    public required ReadOnlyMemory<byte> Content { get; init; }

    /// <summary>The parsed manifest, whose descriptors are checked and indexed.</summary>
    public required ParsedManifest Manifest { get; init; }

    /// <summary>Tags to create or move to this manifest; may be empty.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];
}

/// <summary>The outcome of <see cref="IMetadataStore.PutManifestAsync"/>.</summary>
/// <param name="Stored">Whether the manifest was stored. When false, nothing was changed.</param>
/// <param name="MissingBlobs">Referenced blobs (config and layers) that the repository does not have.</param>
/// <param name="MissingManifests">Referenced child manifests that the repository does not have.</param>
public sealed record ManifestWriteResult(bool Stored, IReadOnlyList<Digest> MissingBlobs, IReadOnlyList<Digest> MissingManifests)
{
    /// <summary>The result of a manifest that was stored.</summary>
    public static ManifestWriteResult Success { get; } = new(true, [], []);

    /// <summary>
    /// Requested tags that already point to a different manifest in a repository whose tags are immutable. When
    /// the list is not empty, <see cref="Stored"/> is false and the missing-reference lists are empty, because the
    /// store checks tags first.
    /// </summary>
    public IReadOnlyList<string> ImmutableTags { get; init; } = [];

    /// <summary>
    /// Config and layer digests that are linked in the repository, but whose descriptor gives a size other than the
    /// stored blob's. When the list is not empty, <see cref="Stored"/> is false.
    /// </summary>
    public IReadOnlyList<Digest> BlobSizeMismatches { get; init; } = [];
}

/// <summary>
/// Thrown when a delete would remove a tag of a repository whose tags are immutable.
/// </summary>
public sealed class ImmutableTagException : InvalidOperationException
{
    /// <summary>Creates the exception for one tag, with a message that names the tag and the repository.</summary>
    public ImmutableTagException(RepositoryName repository, string tag, string message)
        : base(message)
    {
        Repository = repository;
        Tag = tag;
    }

    /// <summary>The repository whose tags are immutable.</summary>
    public RepositoryName Repository { get; }

    /// <summary>The tag that the operation would have removed.</summary>
    public string Tag { get; }
}

/// <summary>A stored manifest.</summary>
/// <param name="Digest">The manifest's digest.</param>
/// <param name="MediaType">The media type it was stored with.</param>
/// <param name="Content">The bytes exactly as pushed.</param>
public sealed record StoredManifest(Digest Digest, string MediaType, ReadOnlyMemory<byte> Content);

/// <summary>A tag with the manifest it points to.</summary>
/// <param name="Name">The tag.</param>
/// <param name="Manifest">The manifest the tag points to.</param>
/// <param name="PushedAt">When the tag was last created or moved to a manifest.</param>
public sealed record TagDetails(string Name, StoredManifest Manifest, DateTimeOffset PushedAt);

/// <summary>An upload session of the blob upload API.</summary>
/// <param name="Id">The upload id, which also names the upload in the blob store.</param>
/// <param name="Repository">The repository the blob is uploaded to.</param>
/// <param name="StartedAt">When the session was created.</param>
/// <param name="UpdatedAt">When the session last received data.</param>
public sealed record UploadSession(string Id, RepositoryName Repository, DateTimeOffset StartedAt, DateTimeOffset UpdatedAt)
{
    /// <summary>
    /// The digest that the upload's content was verified against by a completion that then moved it into the blob
    /// store, or null while no completion got that far (see <see cref="IMetadataStore.MarkUploadVerifiedAsync"/>).
    /// </summary>
    public Digest? VerifiedDigest { get; init; }
}

using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Telemetry;

/// <summary>
/// A metadata store decorator that wraps the repository, blob link, manifest, tag, referrer and upload session calls
/// of the <c>/v2</c> API in a span of <see cref="RegistryTelemetry.ActivitySource"/>. Without a listener it only
/// forwards the call.
/// </summary>
internal sealed class TracingMetadataStore(IMetadataStore inner) : IMetadataStore, ITracingDecorator
{
    public object Inner => inner;

    public ValueTask MigrateAsync(CancellationToken cancellationToken = default) => inner.MigrateAsync(cancellationToken);

    public ValueTask<bool> RepositoryExistsAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.repository_exists", StoreTracing.RepositoryTag, repository),
            inner,
            (repository, cancellationToken),
            static (store, arguments) => store.RepositoryExistsAsync(arguments.repository, arguments.cancellationToken));

    public ValueTask<IReadOnlyList<string>> ListRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.list_repositories", StoreTracing.RepositoryTag, last),
            inner,
            (last, limit, cancellationToken),
            static (store, arguments) => store.ListRepositoriesAsync(arguments.last, arguments.limit, arguments.cancellationToken));

    public ValueTask LinkBlobAsync(RepositoryName repository, Digest digest, long size, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.link_blob", StoreTracing.DigestTag, digest),
            inner,
            (repository, digest, size, cancellationToken),
            static (store, arguments) => store.LinkBlobAsync(arguments.repository, arguments.digest, arguments.size, arguments.cancellationToken));

    public ValueTask<long?> GetBlobLinkAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.get_blob_link", StoreTracing.DigestTag, digest),
            inner,
            (repository, digest, cancellationToken),
            static (store, arguments) => store.GetBlobLinkAsync(arguments.repository, arguments.digest, arguments.cancellationToken));

    public ValueTask<bool> UnlinkBlobAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.unlink_blob", StoreTracing.DigestTag, digest),
            inner,
            (repository, digest, cancellationToken),
            static (store, arguments) => store.UnlinkBlobAsync(arguments.repository, arguments.digest, arguments.cancellationToken));

    public ValueTask<ManifestWriteResult> PutManifestAsync(ManifestWrite manifest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.put_manifest", StoreTracing.DigestTag, manifest.Digest),
            inner,
            (manifest, cancellationToken),
            static (store, arguments) => store.PutManifestAsync(arguments.manifest, arguments.cancellationToken));

    public ValueTask<StoredManifest?> GetManifestAsync(RepositoryName repository, ManifestReference reference, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.get_manifest", StoreTracing.RepositoryTag, repository),
            inner,
            (repository, reference, cancellationToken),
            static (store, arguments) => store.GetManifestAsync(arguments.repository, arguments.reference, arguments.cancellationToken));

    public ValueTask<bool> DeleteTagAsync(RepositoryName repository, string tag, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.delete_tag", StoreTracing.RepositoryTag, repository),
            inner,
            (repository, tag, cancellationToken),
            static (store, arguments) => store.DeleteTagAsync(arguments.repository, arguments.tag, arguments.cancellationToken));

    public ValueTask<bool> DeleteManifestAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.delete_manifest", StoreTracing.DigestTag, digest),
            inner,
            (repository, digest, cancellationToken),
            static (store, arguments) => store.DeleteManifestAsync(arguments.repository, arguments.digest, arguments.cancellationToken));

    public ValueTask<IReadOnlyList<string>?> ListTagsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.list_tags", StoreTracing.RepositoryTag, repository),
            inner,
            (repository, last, limit, cancellationToken),
            static (store, arguments) => store.ListTagsAsync(arguments.repository, arguments.last, arguments.limit, arguments.cancellationToken));

    public ValueTask<IReadOnlyList<Descriptor>> ListReferrersAsync(RepositoryName repository, Digest subject, string? artifactType, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.list_referrers", StoreTracing.DigestTag, subject),
            inner,
            (repository, subject, artifactType, cancellationToken),
            static (store, arguments) => store.ListReferrersAsync(arguments.repository, arguments.subject, arguments.artifactType, arguments.cancellationToken));

    public ValueTask CreateUploadAsync(UploadSession session, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.create_upload", StoreTracing.UploadTag, session.Id),
            inner,
            (session, cancellationToken),
            static (store, arguments) => store.CreateUploadAsync(arguments.session, arguments.cancellationToken));

    public ValueTask<UploadSession?> GetUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.get_upload", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.GetUploadAsync(arguments.uploadId, arguments.cancellationToken));

    public ValueTask<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("metadata_store.delete_upload", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.DeleteUploadAsync(arguments.uploadId, arguments.cancellationToken));

    // TODO: the calls below, which the management API and the upload progress and lease bookkeeping make, have no span yet.
    public ValueTask<IReadOnlyList<TagDetails>?> ListTagDetailsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default) =>
        inner.ListTagDetailsAsync(repository, last, limit, cancellationToken);

    public ValueTask<IReadOnlyList<string>> ListManifestTagsAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default) =>
        inner.ListManifestTagsAsync(repository, digest, cancellationToken);

    public ValueTask TouchUploadAsync(string uploadId, DateTimeOffset updatedAt, CancellationToken cancellationToken = default) =>
        inner.TouchUploadAsync(uploadId, updatedAt, cancellationToken);

    public ValueTask MarkUploadVerifiedAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default) =>
        inner.MarkUploadVerifiedAsync(uploadId, digest, cancellationToken);

    public ValueTask<bool> TryAcquireUploadLeaseAsync(string uploadId, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) =>
        inner.TryAcquireUploadLeaseAsync(uploadId, holder, now, expiresAt, cancellationToken);

    public ValueTask ReleaseUploadLeaseAsync(string uploadId, string holder, CancellationToken cancellationToken = default) =>
        inner.ReleaseUploadLeaseAsync(uploadId, holder, cancellationToken);
}

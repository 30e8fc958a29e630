using Dtr.Digests;
using Dtr.Storage;

namespace Dtr.Telemetry;

/// <summary>
/// A blob store decorator that wraps each call in a span of <see cref="RegistryTelemetry.ActivitySource"/>. Without a
/// listener it only forwards the call.
/// </summary>
/// <remarks>
/// <see cref="OpenReadAsync"/> spans the opening of the stream, not the reading of it. <see cref="ListAsync"/> and
/// the writes of <see cref="IBlobUploadWriter"/> are forwarded without a span.
/// </remarks>
internal sealed class TracingBlobStore(IBlobStore inner) : IBlobStore, ITracingDecorator
{
    public object Inner => inner;

    public ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.stat", StoreTracing.DigestTag, digest),
            inner,
            (digest, cancellationToken),
            static (store, arguments) => store.StatAsync(arguments.digest, arguments.cancellationToken));

    public ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.open_read", StoreTracing.DigestTag, digest),
            inner,
            (digest, offset, cancellationToken),
            static (store, arguments) => store.OpenReadAsync(arguments.digest, arguments.offset, arguments.cancellationToken));

    public ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.delete", StoreTracing.DigestTag, digest),
            inner,
            (digest, cancellationToken),
            static (store, arguments) => store.DeleteAsync(arguments.digest, arguments.cancellationToken));

    public IAsyncEnumerable<BlobInfo> ListAsync(CancellationToken cancellationToken = default) =>
        inner.ListAsync(cancellationToken);

    public ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.create_upload", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.CreateUploadAsync(arguments.uploadId, arguments.cancellationToken));

    public ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.get_upload_length", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.GetUploadLengthAsync(arguments.uploadId, arguments.cancellationToken));

    public ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.open_upload_writer", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.OpenUploadWriterAsync(arguments.uploadId, arguments.cancellationToken));

    public ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.open_upload_reader", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.OpenUploadReaderAsync(arguments.uploadId, arguments.cancellationToken));

    public ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.commit_upload", StoreTracing.DigestTag, digest),
            inner,
            (uploadId, digest, cancellationToken),
            static (store, arguments) => store.CommitUploadAsync(arguments.uploadId, arguments.digest, arguments.cancellationToken));

    public ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default) =>
        StoreTracing.Run(
            StoreTracing.Start("blob_store.delete_upload", StoreTracing.UploadTag, uploadId),
            inner,
            (uploadId, cancellationToken),
            static (store, arguments) => store.DeleteUploadAsync(arguments.uploadId, arguments.cancellationToken));
}

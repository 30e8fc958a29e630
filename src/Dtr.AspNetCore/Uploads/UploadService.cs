using System.Buffers;
using System.IO.Pipelines;
using System.Security.Cryptography;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.GarbageCollection;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Logging;
using Dtr.AspNetCore.Telemetry;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Uploads;

/// <summary>
/// The blob upload protocol: starting sessions, appending chunks or streams, and closing a session by verifying
/// its digest and moving it into the blob store.
/// </summary>
/// <remarks>
/// A request that reads or writes an upload first takes the upload's lock in this process, which queues requests of
/// one host without database round trips, and then the upload's lease in the metadata store (<see cref="UploadLease"/>),
/// which keeps requests on other hosts out.
/// <para>
/// Garbage collection runs while uploads complete. Before a completion moves verified bytes into the blob store, it
/// records a use of the blob, so a run that starts later keeps the blob for its grace period. While a run is deleting
/// the same digest, the completion waits. After linking, it checks that the bytes are still there, because with a
/// zero grace period a run can delete them between that use and the link.
/// </para>
/// </remarks>
internal sealed class UploadService
{
    /// <summary>How long a completion waits between checks while garbage collection is deleting the blob.</summary>
    internal static readonly TimeSpan BlobDeletionPollInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// How long a completion waits for garbage collection to finish deleting the blob before it fails with 503. A
    /// run removes its mark once it has deleted the batch of blobs that the mark belongs to. A mark that stays longer
    /// was most likely left by a host that stopped midway, and the next run finishes that deletion.
    /// </summary>
    internal static readonly TimeSpan BlobDeletionMaxWait = TimeSpan.FromSeconds(30);

    private readonly IBlobStore _blobs;
    private readonly IMetadataStore _metadata;
    private readonly IGarbageCollectionStore? _collection;
    private readonly UploadStateCache _states;
    private readonly RegistryMetrics _metrics;
    private readonly TimeProvider _timeProvider;
    private readonly RegistryOptions _options;
    private readonly ILogger<UploadService> _logger;

    /// <param name="services">
    /// Supplies the <see cref="IGarbageCollectionStore"/>, when the metadata store has one. Without it no collection
    /// runs, and completions skip the use records and checks that guard against one.
    /// </param>
    public UploadService(
        IBlobStore blobs,
        IMetadataStore metadata,
        IServiceProvider services,
        UploadStateCache states,
        RegistryMetrics metrics,
        TimeProvider timeProvider,
        IOptions<RegistryOptions> options,
        ILogger<UploadService> logger)
    {
        _blobs = blobs;
        _metadata = metadata;
        _collection = services.GetService<IGarbageCollectionStore>();
        _states = states;
        _metrics = metrics;
        _timeProvider = timeProvider;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>
    /// Creates an empty upload session in <paramref name="repository"/>. Garbage collection removes sessions that
    /// receive no data for <c>Registry:GarbageCollection:UploadMaxAge</c>.
    /// </summary>
    public async Task<UploadSession> StartAsync(RepositoryName repository, CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();
        var session = new UploadSession(Guid.NewGuid().ToString("N"), repository, now, now);

        await _blobs.CreateUploadAsync(session.Id, cancellationToken);
        await _metadata.CreateUploadAsync(session, cancellationToken);
        _states.GetOrAdd(session.Id).LastUsed = now;

        RegistryLog.UploadStarted(_logger, repository.Value, session.Id);
        return session;
    }

    /// <summary>Returns the session of <paramref name="uploadId"/> in <paramref name="repository"/>, or throws BLOB_UPLOAD_UNKNOWN.</summary>
    public async Task<UploadSession> GetSessionAsync(RepositoryName repository, string uploadId, CancellationToken cancellationToken)
    {
        var session = await _metadata.GetUploadAsync(uploadId, cancellationToken);
        if (session is null || session.Repository != repository)
        {
            throw new RegistryException(
                OciErrorCode.BlobUploadUnknown,
                $"The upload '{Truncate(uploadId)}' does not exist in repository '{repository}'; it may have completed or been cancelled. Start a new upload with POST /v2/{repository}/blobs/uploads/.");
        }

        return session;
    }

    /// <summary>Returns the number of bytes an upload holds.</summary>
    public async Task<long> GetLengthAsync(UploadSession session, CancellationToken cancellationToken)
    {
        return await _blobs.GetUploadLengthAsync(session.Id, cancellationToken) ?? throw UploadDataMissing(session);
    }

    /// <summary>
    /// Appends a request body to an upload and returns the upload's new length.
    /// </summary>
    /// <param name="expectedStart">
    /// The first byte's offset from <c>Content-Range</c>, or null for a streamed body. A chunk that does not start at
    /// the upload's current end is rejected with 416 and nothing is appended.
    /// </param>
    public async Task<long> AppendAsync(UploadSession session, PipeReader body, long? expectedStart, CancellationToken cancellationToken)
    {
        var state = _states.GetOrAdd(session.Id);
        await state.Lock.WaitAsync(cancellationToken);
        try
        {
            await using var lease = await AcquireLeaseAsync(session, cancellationToken);
            var length = await AppendLockedAsync(session, state, lease, body, expectedStart, RegistryOperations.UploadPatch, cancellationToken);
            await _metadata.TouchUploadAsync(session.Id, state.LastUsed, cancellationToken);
            return length;
        }
        finally
        {
            state.Lock.Release();
        }
    }

    /// <summary>
    /// Closes an upload: appends the optional last chunk, checks the content against <paramref name="digest"/>, moves
    /// it into the blob store and links it into the repository. On a digest mismatch the upload is discarded and
    /// DIGEST_INVALID is thrown, so nothing is stored.
    /// </summary>
    /// <param name="operation">The <see cref="RegistryOperations"/> name that tags the body's bytes in the metrics.</param>
    public async Task<BlobInfo> CompleteAsync(UploadSession session, Digest digest, PipeReader? body, long? expectedStart, string operation, CancellationToken cancellationToken)
    {
        var state = _states.GetOrAdd(session.Id);
        await state.Lock.WaitAsync(cancellationToken);
        try
        {
            await using var lease = await AcquireLeaseAsync(session, cancellationToken);

            // 0. An earlier completion may have moved the verified bytes into the blob store and then failed before it
            // recorded the blob in the database. The upload's data is gone then, so the blob is finished from the store.
            if (session.VerifiedDigest is { } verified && await _blobs.GetUploadLengthAsync(session.Id, cancellationToken) is null)
            {
                return await FinishMovedUploadAsync(session, verified, digest, cancellationToken);
            }

            // 1. Append the last chunk, if the request has one.
            var length = body is null
                ? await GetLengthAsync(session, cancellationToken)
                : await AppendLockedAsync(session, state, lease, body, expectedStart, operation, cancellationToken);

            // 2. Verify the content, from the running hash when it covers every byte, otherwise from storage.
            var actual = await ComputeDigestAsync(session, state, lease, digest.Algorithm, length, cancellationToken);
            if (actual != digest)
            {
                await DiscardAsync(session, cancellationToken);
                RegistryLog.UploadDigestMismatch(_logger, session.Repository.Value, session.Id, digest.Value, actual.Value);
                throw new RegistryException(
                    OciErrorCode.DigestInvalid,
                    $"The uploaded content has digest {actual}, not the {digest} given; the upload was discarded. Check the content and upload it again.",
                    new { expected = digest.Value, actual = actual.Value });
            }

            // 3. Record the use, so that garbage collection keeps an existing copy of the digest, which the commit
            // keeps in place of these bytes. Then move the verified bytes into the content store.
            // NOTE: the lease is not renewed during one storage call, so a write or commit that outlasts half the
            // lease duration can still be running when another request takes the lease over.
            await lease.RenewIfDueAsync(cancellationToken);
            var usedAt = await WaitToUseBlobAsync(session, digest, lease, cancellationToken);
            await _metadata.MarkUploadVerifiedAsync(session.Id, digest, cancellationToken);
            var blob = await _blobs.CommitUploadAsync(session.Id, digest, cancellationToken);

            // 4. Make the blob visible in the repository, then forget the session.
            await LinkStoredBlobAsync(session, digest, blob.Size, usedAt, cancellationToken);
            await _metadata.DeleteUploadAsync(session.Id, cancellationToken);
            _states.Remove(session.Id);

            _metrics.UploadCompleted();
            RegistryLog.BlobCommitted(_logger, session.Repository.Value, digest.Value, blob.Size, session.Id);
            return blob;
        }
        finally
        {
            state.Lock.Release();
        }
    }

    /// <summary>
    /// Finishes a completion that was interrupted after its verified bytes were moved into the blob store: links the
    /// stored blob into the repository and removes the session. The request's digest must be the verified one.
    /// </summary>
    private async Task<BlobInfo> FinishMovedUploadAsync(UploadSession session, Digest verified, Digest requested, CancellationToken cancellationToken)
    {
        if (verified != requested)
        {
            throw new RegistryException(
                OciErrorCode.DigestInvalid,
                $"The upload '{session.Id}' was already verified and stored as {verified}, not the {requested} given; complete it with digest={verified}.",
                new { expected = requested.Value, actual = verified.Value });
        }

        var usedAt = await WaitToUseBlobAsync(session, verified, lease: null, cancellationToken);
        var blob = await _blobs.StatAsync(verified, cancellationToken) ?? throw UploadDataMissing(session);
        await LinkStoredBlobAsync(session, verified, blob.Size, usedAt, cancellationToken);
        await _metadata.DeleteUploadAsync(session.Id, cancellationToken);
        _states.Remove(session.Id);

        _metrics.UploadCompleted();
        RegistryLog.InterruptedUploadFinished(_logger, session.Repository.Value, verified.Value, blob.Size, session.Id);
        return blob;
    }

    /// <summary>
    /// Records a use of the blob before its bytes are stored or linked, waiting while a garbage collection run is
    /// deleting the digest, and throws UNAVAILABLE (503) when the run keeps it for <see cref="BlobDeletionMaxWait"/>.
    /// The session stays, so the client can send the completion again.
    /// </summary>
    /// <returns>The <see cref="TimeProvider"/> timestamp of the recorded use, or null when no collection can run.</returns>
    private async Task<long?> WaitToUseBlobAsync(UploadSession session, Digest digest, UploadLease? lease, CancellationToken cancellationToken)
    {
        if (_collection is null)
        {
            return null;
        }

        var started = _timeProvider.GetTimestamp();
        var waiting = false;
        while (!await _collection.TryUseBlobAsync(digest, _timeProvider.GetUtcNow(), cancellationToken))
        {
            var waited = _timeProvider.GetElapsedTime(started);
            if (waited >= BlobDeletionMaxWait)
            {
                GarbageCollectionHttpLog.BlobDeletionWaitTimedOut(_logger, session.Repository.Value, session.Id, digest.Value, waited.TotalSeconds);
                throw new RegistryException(
                    OciErrorCode.Unavailable,
                    $"The blob {digest} stayed marked for deletion by garbage collection for the {waited.TotalSeconds:F0} s this request waited, so the upload cannot store it now; send the completion of upload '{session.Id}' again in a minute.");
            }

            if (!waiting)
            {
                GarbageCollectionHttpLog.WaitingForBlobDeletion(_logger, session.Repository.Value, session.Id, digest.Value);
                waiting = true;
            }

            await Task.Delay(BlobDeletionPollInterval, _timeProvider, cancellationToken);
            if (lease is not null)
            {
                await lease.RenewIfDueAsync(cancellationToken);
            }
        }

        return _timeProvider.GetTimestamp();
    }

    /// <summary>
    /// Links a blob whose bytes the completion just stored or found in the blob store. A run whose cutoff is later
    /// than the use that <see cref="WaitToUseBlobAsync"/> recorded can delete those bytes, which happens only with a
    /// zero grace period or a completion slower than half of it. In that case the bytes are read back after linking.
    /// When they are gone, the link is removed, the session is discarded, and the request fails with
    /// BLOB_UPLOAD_INVALID, whose message tells the client to upload the blob again.
    /// </summary>
    /// <param name="usedAt">The timestamp that <see cref="WaitToUseBlobAsync"/> returned.</param>
    private async Task LinkStoredBlobAsync(UploadSession session, Digest digest, long size, long? usedAt, CancellationToken cancellationToken)
    {
        try
        {
            await _metadata.LinkBlobAsync(session.Repository, digest, size, cancellationToken);
        }
        catch (BlobDeletionPendingException)
        {
            // A run marked the digest after the use was recorded and is deleting the bytes the commit just stored.
            throw await BlobDeletedDuringCompletionAsync(session, digest, unlink: false);
        }

        // Half the grace period leaves room for clock skew between this host and the host that runs collection.
        var protectedUse = usedAt is not { } timestamp
            || _timeProvider.GetElapsedTime(timestamp) < _options.GarbageCollection.GracePeriod / 2;
        if (!protectedUse && await _blobs.StatAsync(digest, cancellationToken) is null)
        {
            throw await BlobDeletedDuringCompletionAsync(session, digest, unlink: true);
        }
    }

    private async Task<RegistryException> BlobDeletedDuringCompletionAsync(UploadSession session, Digest digest, bool unlink)
    {
        // The client must upload again anyway, so the cleanup runs even when the request was aborted meanwhile.
        if (unlink)
        {
            await _metadata.UnlinkBlobAsync(session.Repository, digest, CancellationToken.None);
        }

        await DiscardAsync(session, CancellationToken.None);
        GarbageCollectionHttpLog.BlobDeletedDuringCompletion(_logger, session.Repository.Value, session.Id, digest.Value);
        return new RegistryException(
            OciErrorCode.BlobUploadInvalid,
            $"Garbage collection deleted the blob {digest} while upload '{session.Id}' completed, and the upload was discarded; upload the blob again with POST /v2/{session.Repository}/blobs/uploads/.");
    }

    /// <summary>Cancels an upload and deletes its data.</summary>
    public async Task CancelAsync(UploadSession session, CancellationToken cancellationToken)
    {
        var state = _states.GetOrAdd(session.Id);
        await state.Lock.WaitAsync(cancellationToken);
        try
        {
            await using var lease = await AcquireLeaseAsync(session, cancellationToken);
            await DiscardAsync(session, cancellationToken);
            RegistryLog.UploadCancelled(_logger, session.Repository.Value, session.Id);
        }
        finally
        {
            state.Lock.Release();
        }
    }

    private Task<UploadLease> AcquireLeaseAsync(UploadSession session, CancellationToken cancellationToken) =>
        UploadLease.AcquireAsync(_metadata, session, _options.UploadLeaseDuration, _timeProvider, _logger, cancellationToken);

    private async Task DiscardAsync(UploadSession session, CancellationToken cancellationToken)
    {
        await _blobs.DeleteUploadAsync(session.Id, cancellationToken);
        await _metadata.DeleteUploadAsync(session.Id, cancellationToken);
        _states.Remove(session.Id);
    }

    private async Task<long> AppendLockedAsync(UploadSession session, UploadState state, UploadLease lease, PipeReader body, long? expectedStart, string operation, CancellationToken cancellationToken)
    {
        state.LastUsed = _timeProvider.GetUtcNow();
        var length = await GetLengthAsync(session, cancellationToken);
        if (expectedStart is { } start && start != length)
        {
            throw new RegistryException(
                OciErrorCode.RangeInvalid,
                $"The chunk starts at byte {start}, but the upload holds {length} bytes; send the chunk that starts at byte {length}.")
            {
                Headers = new Dictionary<string, string>
                {
                    ["Range"] = RegistryHeaders.FormatUploadRange(length),
                    [RegistryHeaders.UploadUuid] = session.Id,
                },
            };
        }

        var hash = state.TakeHashAt(length);
        var buffer = ArrayPool<byte>.Shared.Rent(_options.UploadBufferBytes);
        var received = 0L;
        var active = _metrics.UploadStarted();
        try
        {
            await using var writer = await _blobs.OpenUploadWriterAsync(session.Id, cancellationToken);
            received = await CopyBodyAsync(body, writer, hash, lease, buffer.AsMemory(0, _options.UploadBufferBytes), cancellationToken);
            await lease.RenewIfDueAsync(cancellationToken);
            await writer.FlushAsync(cancellationToken);
            length = writer.Length;
        }
        catch (RegistryException error) when (error.Error == OciErrorCode.ContentTooLarge)
        {
            // The upload can never complete within the limit, so it goes now instead of waiting for garbage collection.
            await DiscardAsync(session, CancellationToken.None);
            throw;
        }
        catch
        {
            // The stored bytes and the running hash may now disagree; the next completion hashes from storage.
            // TODO: roll the upload back to its length at the start of this request. The filesystem and S3 stores
            // keep the bytes written before the failure, so a client that resends the whole body instead of resuming
            // from the Range that GET on the upload reports gets DIGEST_INVALID.
            state.ResetHash();
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            active.Dispose();
            _metrics.BytesReceived(operation, received);
        }

        if (hash is not null)
        {
            state.SetHash(hash, length);
        }

        return length;
    }

    /// <summary>
    /// Copies a request body into an upload through one pooled buffer split in two halves. While storage writes one
    /// half, the request reads the network into the other and hashes it, so receiving, hashing and writing overlap
    /// and storage still receives few large writes whatever the size of the network reads. The lease is renewed after
    /// each read and checked before each write, because a slow client can take longer than one lease duration to send
    /// a large body. Returns the number of bytes copied.
    /// </summary>
    private async Task<long> CopyBodyAsync(PipeReader body, IBlobUploadWriter writer, IncrementalHash? hash, UploadLease lease, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var maxBlobBytes = _options.MaxBlobBytes;
        var halfLength = buffer.Length / 2;
        var current = buffer[..halfLength];
        var other = buffer[halfLength..(2 * halfLength)];
        var filled = 0;
        var initialLength = writer.Length;
        var accepted = initialLength;
        var pendingWrite = Task.CompletedTask;
        ReadResult result = default;
        var holdingRead = false;
        try
        {
            while (true)
            {
                result = await body.ReadAsync(cancellationToken);
                holdingRead = true;
                await lease.RenewIfDueAsync(cancellationToken);
                var sequence = result.Buffer;
                while (!sequence.IsEmpty)
                {
                    var count = (int)Math.Min(sequence.Length, current.Length - filled);
                    sequence.Slice(0, count).CopyTo(current.Span[filled..]);
                    sequence = sequence.Slice(count);
                    filled += count;
                    if (filled == current.Length)
                    {
                        await StartWriteAsync(current);
                        (current, other) = (other, current);
                        filled = 0;
                    }
                }

                body.AdvanceTo(result.Buffer.End);
                holdingRead = false;
                if (result.IsCompleted || result.IsCanceled)
                {
                    break;
                }
            }

            if (filled > 0)
            {
                await StartWriteAsync(current[..filled]);
            }

            await pendingWrite;
            return accepted - initialLength;
        }
        finally
        {
            // A read that an exception interrupted must be released, or the server cannot drain the rest of the body.
            if (holdingRead)
            {
                body.AdvanceTo(result.Buffer.End);
            }

            // The pooled buffer goes back to the pool after this returns, so no write may still be reading it.
            // The caller gets the exception that ended the copy, so a failed write is not rethrown here.
            await pendingWrite.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        // Hashes this half while storage may still be writing the other, waits for that write, then starts this one.
        async ValueTask StartWriteAsync(ReadOnlyMemory<byte> chunk)
        {
            if (maxBlobBytes is { } max && accepted + chunk.Length > max)
            {
                throw new RegistryException(
                    OciErrorCode.ContentTooLarge,
                    $"The blob exceeds the registry's limit of {max} bytes (Registry:MaxBlobBytes), so the upload was discarded.");
            }

            hash?.AppendData(chunk.Span);
            accepted += chunk.Length;
            await pendingWrite;
            await lease.RenewIfDueAsync(cancellationToken);
            pendingWrite = writer.WriteAsync(chunk, cancellationToken).AsTask();
        }
    }

    private async Task<Digest> ComputeDigestAsync(UploadSession session, UploadState state, UploadLease lease, DigestAlgorithm algorithm, long length, CancellationToken cancellationToken)
    {
        if (algorithm == DigestAlgorithm.Sha256 && state.TakeHashAt(length) is { } running)
        {
            var digest = Digest.FromIncrementalHash(algorithm, running);
            state.ResetHash();
            return digest;
        }

        RegistryLog.UploadRehashed(_logger, session.Repository.Value, session.Id, length);
        using var hash = algorithm.CreateHash();
        var buffer = ArrayPool<byte>.Shared.Rent(_options.UploadBufferBytes);
        try
        {
            await using var stream = await _blobs.OpenUploadReaderAsync(session.Id, cancellationToken);
            int read;
            while ((read = await stream.ReadAsync(buffer.AsMemory(0, _options.UploadBufferBytes), cancellationToken)) > 0)
            {
                hash.AppendData(buffer, 0, read);

                // Hashing a large upload again can outlast the lease, and the commit that follows needs it.
                await lease.RenewIfDueAsync(cancellationToken);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return Digest.FromIncrementalHash(algorithm, hash);
    }

    private static RegistryException UploadDataMissing(UploadSession session) => new(
        OciErrorCode.BlobUploadUnknown,
        $"The data of upload '{session.Id}' is missing from storage; start a new upload with POST /v2/{session.Repository}/blobs/uploads/.");

    private static string Truncate(string value) => value.Length <= 80 ? value : value[..80] + "…";
}

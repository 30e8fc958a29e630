using System.Collections.Concurrent;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Storage;

namespace Dtr.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>
    /// Deletes the bytes of blobs that earlier runs marked for deletion and did not finish, for example because their
    /// host stopped (step 2 of a run). Until then, uploads of those blobs wait.
    /// </summary>
    private async Task FinishPendingDeletionsAsync(RunContext context)
    {
        var finished = 0;
        while (true)
        {
            context.ThrowIfStopped();
            var pending = await _store.ListPendingBlobDeletionsAsync(Options.BatchSize, context.Token);
            if (pending.Count == 0)
            {
                break;
            }

            var digests = pending.Select(deletion => deletion.Digest).Distinct().ToList();
            await DeleteMarkedBlobsAsync(context, digests, sizes: null);
            finished += digests.Count;
        }

        if (finished > 0)
        {
            GcLog.PendingDeletionsFinished(_logger, context.RunId, finished);
        }
    }

    /// <summary>
    /// Deletes the blob store's blobs that nothing keeps (step 4 of a run): not linked or referenced after the
    /// repository sweep, written before the cutoff, and confirmed unused by the metadata store.
    /// </summary>
    private async Task SweepBlobsAsync(RunContext context, BlobMarks marks)
    {
        // Listing first and deleting afterwards keeps deletes from disturbing a listing in progress.
        var candidates = new List<BlobInfo>();
        await foreach (var blob in _blobs.ListAsync(context.Token))
        {
            // A blob of unknown age is kept: it might have been written a moment ago.
            if (marks.Keep.Contains(blob.Digest) || blob.LastModified is not { } modified || modified >= context.Cutoff)
            {
                continue;
            }

            candidates.Add(blob);
        }

        context.ThrowIfStopped();
        candidates.Sort((left, right) => string.CompareOrdinal(left.Digest.Value, right.Digest.Value));
        foreach (var batch in candidates.Chunk(Options.BatchSize))
        {
            context.ThrowIfStopped();
            await SweepBlobBatchAsync(context, batch, marks);
        }
    }

    private async Task SweepBlobBatchAsync(RunContext context, BlobInfo[] batch, BlobMarks marks)
    {
        // Blobs whose links this run removed (or would remove) are garbage by the run's own marking. The others had no
        // link when the repositories were read, and only the metadata store can tell whether that is still true.
        var neverLinked = batch.Where(blob => !marks.Linked.Contains(blob.Digest)).Select(blob => blob.Digest).ToList();
        IReadOnlySet<Digest> keep = neverLinked.Count == 0
            ? new HashSet<Digest>()
            : await _store.FindBlobsToKeepAsync(neverLinked, context.Cutoff, context.Token);
        var garbage = batch.Where(blob => !keep.Contains(blob.Digest)).ToList();
        if (garbage.Count == 0)
        {
            return;
        }

        if (context.DryRun)
        {
            foreach (var blob in garbage)
            {
                context.CountBlob(blob.Size);
                await context.AddItemAsync(new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, blob.Digest, null, blob.Size));
            }

            return;
        }

        var marked = await _store.BeginBlobDeletionAsync(context.RunId, [.. garbage.Select(blob => blob.Digest)], context.Cutoff, context.Token);
        var sizes = garbage.ToDictionary(blob => blob.Digest, blob => blob.Size);
        await DeleteMarkedBlobsAsync(context, marked, sizes);
    }

    /// <summary>
    /// Deletes the bytes of blobs marked for deletion, by this run or an interrupted one, <see cref="GarbageCollectionOptions.DeleteConcurrency"/>
    /// at a time, and then clears every mark. Blobs whose bytes are gone end as deleted. Failed deletes, and blobs not
    /// reached because the run stopped, become usable again.
    /// </summary>
    /// <param name="context">The run.</param>
    /// <param name="marked">The marked digests.</param>
    /// <param name="sizes">The blobs' sizes from the listing, or null to read each size before deleting.</param>
    private async Task DeleteMarkedBlobsAsync(RunContext context, IReadOnlyList<Digest> marked, IReadOnlyDictionary<Digest, long>? sizes)
    {
        var freed = new ConcurrentDictionary<Digest, long>();
        var deleted = new ConcurrentBag<Digest>();
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Options.DeleteConcurrency, CancellationToken = context.Token };
        try
        {
            await Parallel.ForEachAsync(marked, parallel, async (digest, _) =>
            {
                try
                {
                    // A delete once started is not cancelled, so a mark is never cleared as "usable" for a blob
                    // whose bytes may be half gone.
                    long? size = sizes is null ? (await _blobs.StatAsync(digest, CancellationToken.None))?.Size : sizes[digest];
                    if (await _blobs.DeleteAsync(digest, CancellationToken.None) && size is { } length)
                    {
                        freed[digest] = length;
                    }

                    deleted.Add(digest);
                }
                catch (Exception exception)
                {
                    GcLog.BlobDeleteFailed(_logger, context.RunId, digest.Value, exception);
                    context.AddError($"Deleting blob {digest} failed: {exception.Message}");
                }
            });
        }
        finally
        {
            await EndBlobDeletionsAsync(context, marked, [.. deleted]);
            // Items follow digest order, as in a dry run, whatever order the deletes finished in.
            foreach (var digest in marked.OrderBy(digest => digest.Value, StringComparer.Ordinal))
            {
                if (freed.TryGetValue(digest, out var size))
                {
                    context.CountBlob(size);
                    await context.AddItemAsync(new GarbageCollectionItem(0, GarbageCollectionItemKind.Blob, null, digest, null, size));
                }
            }
        }
    }

    private async Task EndBlobDeletionsAsync(RunContext context, IReadOnlyList<Digest> marked, IReadOnlyList<Digest> deleted)
    {
        var deletedSet = deleted.ToHashSet();
        var remaining = marked.Where(digest => !deletedSet.Contains(digest)).ToList();
        try
        {
            if (deleted.Count > 0)
            {
                await _store.EndBlobDeletionAsync(deleted, deleted: true, CancellationToken.None);
            }

            if (remaining.Count > 0)
            {
                await _store.EndBlobDeletionAsync(remaining, deleted: false, CancellationToken.None);
            }
        }
        catch (Exception exception)
        {
            // The marks stay; once this run is no longer running, the next run lists them as pending and finishes them.
            GcLog.EndDeletionFailed(_logger, context.RunId, marked.Count, exception);
            context.AddError($"Clearing the deletion marks of {marked.Count} blobs failed: {exception.Message}");
        }
    }
}

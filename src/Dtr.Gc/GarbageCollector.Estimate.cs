using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Storage;

namespace Dtr.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>The most stale upload sessions that an estimate counts.</summary>
    private const int MaxEstimatedUploads = 100_000;

    /// <inheritdoc />
    /// <remarks>An estimate is reused for 30 seconds per value of <paramref name="deleteUntagged"/>.</remarks>
    public async ValueTask<ReclaimableEstimate> EstimateReclaimableAsync(bool deleteUntagged, CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        if (_estimates.TryGetValue(deleteUntagged, out var cached) && now - cached.ComputedAt < EstimateLifetime)
        {
            return cached;
        }

        var estimate = await ComputeEstimateAsync(deleteUntagged, now, cancellationToken);
        _estimates[deleteUntagged] = estimate;
        return estimate;
    }

    /// <summary>
    /// Counts what a dry run started now would remove: marks every repository as in step 3, counts the blob store's
    /// blobs that nothing keeps as in step 4, and counts the stale upload sessions.
    /// </summary>
    private async Task<ReclaimableEstimate> ComputeEstimateAsync(bool deleteUntagged, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - Options.GracePeriod;
        long manifests = 0;
        var marks = new BlobMarks();
        string? last = null;
        while (true)
        {
            var page = await _store.ListAllRepositoriesAsync(last, RepositoryPageSize, cancellationToken);
            foreach (var repository in page)
            {
                var contents = await _store.GetRepositoryContentsAsync(repository, cancellationToken);
                if (contents is null)
                {
                    continue;
                }

                var dead = RepositoryMarker.FindDeadManifests(contents, cutoff, deleteUntagged);
                manifests += dead.Count;
                var (unused, used) = RepositoryMarker.FindUnusedLinks(contents, dead.Select(manifest => manifest.Digest).ToHashSet(), cutoff);
                marks.Keep.UnionWith(used);
                var unusedDigests = unused.Select(link => link.Digest).ToHashSet();
                foreach (var link in contents.BlobLinks)
                {
                    marks.Linked.Add(link.Digest);
                    if (!unusedDigests.Contains(link.Digest))
                    {
                        marks.Keep.Add(link.Digest);
                    }
                }
            }

            if (page.Count < RepositoryPageSize)
            {
                break;
            }

            last = page[^1].Value;
        }

        var (blobs, bytes) = await CountReclaimableBlobsAsync(marks, cutoff, cancellationToken);

        // NOTE: counts at most MaxEstimatedUploads sessions, because the listing has no cursor to page with.
        var stale = await _store.ListStaleUploadsAsync(now - Options.UploadMaxAge, MaxEstimatedUploads, cancellationToken);
        return new ReclaimableEstimate(manifests, blobs, bytes, stale.Count, now);
    }

    /// <summary>
    /// Counts the blobs, and their bytes from the listing, that the blob sweep would delete: written before
    /// <paramref name="cutoff"/>, not kept by the repository marks, and, for blobs that had no link, not kept by
    /// the metadata store. Blobs of deleted repositories are among them, because they have no links left.
    /// </summary>
    private async Task<(long Blobs, long Bytes)> CountReclaimableBlobsAsync(BlobMarks marks, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        long blobs = 0;
        long bytes = 0;
        var neverLinked = new List<BlobInfo>();
        await foreach (var blob in _blobs.ListAsync(cancellationToken))
        {
            if (marks.Keep.Contains(blob.Digest) || blob.LastModified is not { } modified || modified >= cutoff)
            {
                continue;
            }

            if (marks.Linked.Contains(blob.Digest))
            {
                blobs++;
                bytes += blob.Size;
            }
            else
            {
                neverLinked.Add(blob);
            }
        }

        foreach (var batch in neverLinked.Chunk(Options.BatchSize))
        {
            var keep = await _store.FindBlobsToKeepAsync([.. batch.Select(blob => blob.Digest)], cutoff, cancellationToken);
            foreach (var blob in batch.Where(blob => !keep.Contains(blob.Digest)))
            {
                blobs++;
                bytes += blob.Size;
            }
        }

        return (blobs, bytes);
    }
}

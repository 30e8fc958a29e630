using Dtr.Digests;
using Dtr.Metadata;

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

    /// <summary>Marks every repository as a dry run would (step 3), and counts the stale upload sessions.</summary>
    private async Task<ReclaimableEstimate> ComputeEstimateAsync(bool deleteUntagged, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - Options.GracePeriod;
        long manifests = 0;
        var keep = new HashSet<Digest>();
        var unlinkedSizes = new Dictionary<Digest, long>();
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
                keep.UnionWith(used);
                var unusedDigests = unused.Select(link => link.Digest).ToHashSet();
                foreach (var link in contents.BlobLinks)
                {
                    if (unusedDigests.Contains(link.Digest))
                    {
                        unlinkedSizes[link.Digest] = link.Size;
                    }
                    else
                    {
                        keep.Add(link.Digest);
                    }
                }
            }

            if (page.Count < RepositoryPageSize)
            {
                break;
            }

            last = page[^1].Value;
        }

        long blobs = 0;
        long bytes = 0;
        foreach (var (digest, size) in unlinkedSizes)
        {
            if (!keep.Contains(digest))
            {
                blobs++;
                bytes += size;
            }
        }

        // NOTE: counts at most MaxEstimatedUploads sessions, because the listing has no cursor to page with.
        var stale = await _store.ListStaleUploadsAsync(now - Options.UploadMaxAge, MaxEstimatedUploads, cancellationToken);
        return new ReclaimableEstimate(manifests, blobs, bytes, stale.Count, now);
    }
}

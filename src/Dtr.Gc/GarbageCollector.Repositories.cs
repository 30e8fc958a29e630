using Dtr.Digests;
using Dtr.Metadata;

namespace Dtr.Gc;

internal sealed partial class GarbageCollector
{
    private const int RepositoryPageSize = 100;

    /// <summary>
    /// Removes dead manifests and unused blob links repository by repository (step 3 of a run), and returns which blobs
    /// the blob sweep must keep.
    /// </summary>
    private async Task<BlobMarks> SweepRepositoriesAsync(RunContext context)
    {
        var marks = new BlobMarks();
        string? last = null;
        while (true)
        {
            context.ThrowIfStopped();
            var page = await _store.ListAllRepositoriesAsync(last, RepositoryPageSize, context.Token);
            foreach (var repository in page)
            {
                context.ThrowIfStopped();
                try
                {
                    await SweepRepositoryAsync(context, repository, marks);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // Going on is safe, because the blob sweep checks blobs it did not see linked with the metadata
                    // store, and the store re-checks every blob before marking it.
                    GcLog.RepositoryFailed(_logger, context.RunId, repository.Value, exception);
                    context.AddError($"Sweeping repository {repository} failed: {exception.Message}");
                }
            }

            if (page.Count < RepositoryPageSize)
            {
                return marks;
            }

            last = page[^1].Value;
        }
    }

    private async Task SweepRepositoryAsync(RunContext context, Names.RepositoryName repository, BlobMarks marks)
    {
        var contents = await _store.GetRepositoryContentsAsync(repository, context.Token);
        if (contents is null)
        {
            return;
        }

        var batchSize = Options.BatchSize;
        var dead = RepositoryMarker.FindDeadManifests(contents, context.Cutoff, context.Run.DeleteUntagged);
        var removed = new HashSet<Digest>();
        var sizes = dead.ToDictionary(manifest => manifest.Digest, manifest => manifest.Size);
        foreach (var batch in dead.Select(manifest => manifest.Digest).Chunk(batchSize))
        {
            context.ThrowIfStopped();
            var deleted = context.DryRun
                ? batch
                : await _store.DeleteUnreferencedManifestsAsync(repository, batch, context.Cutoff, context.Token);
            foreach (var digest in deleted)
            {
                removed.Add(digest);
                context.CountManifest();
                await context.AddItemAsync(new GarbageCollectionItem(0, GarbageCollectionItemKind.Manifest, repository.Value, digest, null, sizes[digest]));
            }
        }

        var (unusedLinks, usedBlobs) = RepositoryMarker.FindUnusedLinks(contents, removed, context.Cutoff);
        var unlinked = new HashSet<Digest>();
        foreach (var batch in unusedLinks.Chunk(batchSize))
        {
            context.ThrowIfStopped();
            var deleted = context.DryRun
                ? batch
                : await _store.DeleteUnusedBlobLinksAsync(repository, [.. batch.Select(link => link.Digest)], context.Cutoff, context.Token);
            foreach (var link in deleted)
            {
                unlinked.Add(link.Digest);
                context.CountBlobLink();
                await context.AddItemAsync(new GarbageCollectionItem(0, GarbageCollectionItemKind.BlobLink, repository.Value, link.Digest, null, link.Size));
            }
        }

        marks.Keep.UnionWith(usedBlobs);
        foreach (var link in contents.BlobLinks)
        {
            marks.Linked.Add(link.Digest);
            if (!unlinked.Contains(link.Digest))
            {
                marks.Keep.Add(link.Digest);
            }
        }

        GcLog.RepositorySwept(_logger, context.RunId, repository.Value, removed.Count, unlinked.Count);
    }

    /// <summary>What the repository sweep learned about blobs, across every repository.</summary>
    private sealed class BlobMarks
    {
        /// <summary>Blobs that keep a link or that a remaining manifest references.</summary>
        public HashSet<Digest> Keep { get; } = [];

        /// <summary>Blobs that had a link in some repository when the run read it.</summary>
        public HashSet<Digest> Linked { get; } = [];
    }
}

using Dtr.Digests;
using Dtr.Metadata;

namespace Dtr.Gc;

/// <summary>
/// Marks one repository's manifests and blob links in memory, from a snapshot read by
/// <see cref="IGarbageCollectionStore.GetRepositoryContentsAsync"/>. It changes nothing; the conditional deletes of the
/// store re-check every decision in the transaction that deletes.
/// </summary>
internal static class RepositoryMarker
{
    /// <summary>
    /// Finds the manifests that no live manifest reaches, ordered so that each index comes before its children and each
    /// subject before its referrers. A manifest is live when a tag points to it, when it was created at or after
    /// <paramref name="cutoff"/>, when <paramref name="deleteUntagged"/> is false, when a live index lists it, or when
    /// its subject is live. The result is empty unless <paramref name="deleteUntagged"/> is true.
    /// </summary>
    public static IReadOnlyList<ManifestNode> FindDeadManifests(RepositoryContents contents, DateTimeOffset cutoff, bool deleteUntagged)
    {
        ArgumentNullException.ThrowIfNull(contents);
        if (!deleteUntagged)
        {
            return [];
        }

        var byDigest = new Dictionary<Digest, ManifestNode>();
        var referrersBySubject = new Dictionary<Digest, List<ManifestNode>>();
        foreach (var manifest in contents.Manifests)
        {
            byDigest[manifest.Digest] = manifest;
            if (manifest.Subject is { } subject)
            {
                if (!referrersBySubject.TryGetValue(subject, out var referrers))
                {
                    referrersBySubject[subject] = referrers = [];
                }

                referrers.Add(manifest);
            }
        }

        var live = new HashSet<Digest>();
        var pending = new Stack<ManifestNode>();
        foreach (var manifest in contents.Manifests)
        {
            if ((manifest.Tagged || manifest.CreatedAt >= cutoff) && live.Add(manifest.Digest))
            {
                pending.Push(manifest);
            }
        }

        // Follow children and referrers from the roots until nothing new becomes live.
        while (pending.TryPop(out var manifest))
        {
            foreach (var child in manifest.Children)
            {
                if (byDigest.TryGetValue(child, out var node) && live.Add(child))
                {
                    pending.Push(node);
                }
            }

            if (referrersBySubject.TryGetValue(manifest.Digest, out var referrers))
            {
                foreach (var referrer in referrers)
                {
                    if (live.Add(referrer.Digest))
                    {
                        pending.Push(referrer);
                    }
                }
            }
        }

        var dead = byDigest.Values.Where(manifest => !live.Contains(manifest.Digest)).ToDictionary(manifest => manifest.Digest);
        return OrderForDeletion(dead, referrersBySubject);
    }

    /// <summary>
    /// Finds the blob links that no remaining manifest uses and that are older than <paramref name="cutoff"/>, both by
    /// their creation and by the blob's last use in any repository, and the blobs that remaining manifests reference.
    /// </summary>
    /// <param name="contents">The repository's snapshot.</param>
    /// <param name="removedManifests">Manifests of the snapshot that were deleted, or that a dry run would delete.</param>
    /// <param name="cutoff">The run's cutoff.</param>
    public static (IReadOnlyList<BlobLinkEntry> UnusedLinks, IReadOnlySet<Digest> UsedBlobs) FindUnusedLinks(
        RepositoryContents contents,
        IReadOnlySet<Digest> removedManifests,
        DateTimeOffset cutoff)
    {
        ArgumentNullException.ThrowIfNull(contents);
        ArgumentNullException.ThrowIfNull(removedManifests);

        var used = new HashSet<Digest>();
        foreach (var manifest in contents.Manifests)
        {
            if (!removedManifests.Contains(manifest.Digest))
            {
                used.UnionWith(manifest.Blobs);
            }
        }

        var unused = contents.BlobLinks
            .Where(link => !used.Contains(link.Digest)
                && link.LinkedAt < cutoff
                && (link.LastUsedAt ?? DateTimeOffset.MinValue) < cutoff)
            .OrderBy(link => link.Digest.Value, StringComparer.Ordinal)
            .ToList();
        return (unused, used);
    }

    /// <summary>
    /// Orders dead manifests topologically (Kahn's algorithm), with digests in ordinal order among those ready at once,
    /// so that the order is the same in a dry run and in the real run that follows.
    /// </summary>
    private static List<ManifestNode> OrderForDeletion(Dictionary<Digest, ManifestNode> dead, Dictionary<Digest, List<ManifestNode>> referrersBySubject)
    {
        // An edge A -> B means A must be deleted before B: an index before its child, a subject before its referrer.
        var successors = new Dictionary<Digest, List<Digest>>();
        var predecessorCount = dead.Keys.ToDictionary(digest => digest, _ => 0);
        void AddEdge(Digest from, Digest to)
        {
            if (!successors.TryGetValue(from, out var list))
            {
                successors[from] = list = [];
            }

            list.Add(to);
            predecessorCount[to]++;
        }

        foreach (var manifest in dead.Values)
        {
            foreach (var child in manifest.Children.Distinct())
            {
                if (dead.ContainsKey(child) && child != manifest.Digest)
                {
                    AddEdge(manifest.Digest, child);
                }
            }

            if (referrersBySubject.TryGetValue(manifest.Digest, out var referrers))
            {
                foreach (var referrer in referrers)
                {
                    if (dead.ContainsKey(referrer.Digest) && referrer.Digest != manifest.Digest)
                    {
                        AddEdge(manifest.Digest, referrer.Digest);
                    }
                }
            }
        }

        var ready = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (digest, count) in predecessorCount)
        {
            if (count == 0)
            {
                ready.Add(digest.Value);
            }
        }

        var ordered = new List<ManifestNode>(dead.Count);
        while (ready.Count > 0)
        {
            var next = Digest.Parse(ready.Min!);
            ready.Remove(next.Value);
            ordered.Add(dead[next]);
            if (successors.TryGetValue(next, out var followers))
            {
                foreach (var follower in followers)
                {
                    if (--predecessorCount[follower] == 0)
                    {
                        ready.Add(follower.Value);
                    }
                }
            }
        }

        // Content addressing rules out cycles, but a store that returned one must not lose manifests: the deletes
        // re-check every condition, so appending the rest only means some of them stay.
        if (ordered.Count < dead.Count)
        {
            var placed = ordered.Select(manifest => manifest.Digest).ToHashSet();
            ordered.AddRange(dead.Values.Where(manifest => !placed.Contains(manifest.Digest)).OrderBy(manifest => manifest.Digest.Value, StringComparer.Ordinal));
        }

        return ordered;
    }
}

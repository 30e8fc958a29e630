using System.Diagnostics;
using System.Globalization;
using Dtr.Metadata;
using Dtr.Storage;

namespace Dtr.Benchmarks.GarbageCollection;

/// <summary>
/// Writes a <see cref="GcSeedPlan"/> into real stores through their public interfaces, as pushes would leave it:
/// blob uploads committed to the blob store, blob links, manifests with their tags, deleted tags, and stale uploads.
/// </summary>
/// <param name="metadata">The metadata store, already migrated.</param>
/// <param name="blobs">The blob store.</param>
/// <param name="concurrency">Store calls in flight at once in each step.</param>
/// <param name="timeProvider">The clock that dates the stale uploads.</param>
/// <param name="log">Receives one progress line per step.</param>
/// <param name="writeBlob">Writes one blob of the plan in place of an upload through <paramref name="blobs"/>, or null to upload.</param>
internal sealed class GcSeeder(
    IMetadataStore metadata,
    IBlobStore blobs,
    int concurrency,
    TimeProvider timeProvider,
    Action<string> log,
    Func<GcSeedPlan, int, CancellationToken, ValueTask>? writeBlob = null)
{
    /// <summary>How long before seeding the stale uploads last received data.</summary>
    public static readonly TimeSpan StaleUploadAge = TimeSpan.FromDays(2);

    /// <summary>Bytes written to each stale upload.</summary>
    public const int StaleUploadBytes = 1024;

    /// <summary>Seeds the whole plan, step by step.</summary>
    public async Task SeedAsync(GcSeedPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);

        var blobWriter = writeBlob ?? UploadBlobAsync;
        await StepAsync($"wrote {plan.Shape.Blobs} blobs", Enumerable.Range(0, plan.Shape.Blobs), async (blob, token) =>
        {
            await blobWriter(plan, blob, token);
        }, cancellationToken);

        // A push links every blob of an image into its repository before it puts the manifest.
        var links = plan.Manifests
            .SelectMany(manifest => manifest.Blobs.Select(blob => (manifest.Repository, Blob: blob)))
            .Concat(plan.ExtraLinks)
            .Distinct()
            .ToList();
        await StepAsync($"linked {links.Count} blobs", links, async (link, token) =>
        {
            await metadata.LinkBlobAsync(GcSeedPlan.RepositoryName(link.Repository), plan.BlobDigest(link.Blob), GcSeedPlan.BlobSize(link.Blob), token);
        }, cancellationToken);

        await StepAsync($"put {plan.Manifests.Count} manifests", plan.Manifests, async (manifest, token) =>
        {
            await PutManifestAsync(plan, manifest, token);
        }, cancellationToken);

        var tagDeleted = plan.Manifests.Where(manifest => manifest.Fate == ManifestFate.TagDeleted).ToList();
        await StepAsync($"deleted {tagDeleted.Count} tags", tagDeleted, async (manifest, token) =>
        {
            var repository = GcSeedPlan.RepositoryName(manifest.Repository);
            if (!await metadata.DeleteTagAsync(repository, GcSeedPlan.Tag(manifest.Version), token))
            {
                throw new InvalidOperationException($"The tag {GcSeedPlan.Tag(manifest.Version)} of {repository} was not found to delete.");
            }
        }, cancellationToken);

        var uploads = Enumerable.Range(0, plan.Shape.Repositories)
            .SelectMany(repository => Enumerable.Range(0, plan.Shape.StaleUploadsPerRepository).Select(_ => repository))
            .ToList();
        await StepAsync($"started {uploads.Count} stale uploads", uploads, async (repository, token) =>
        {
            await StartStaleUploadAsync(repository, token);
        }, cancellationToken);
    }

    private async Task StepAsync<T>(string description, IEnumerable<T> items, Func<T, CancellationToken, ValueTask> action, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        var options = new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(items, options, action);
        log(string.Create(CultureInfo.InvariantCulture, $"Seeding: {description} in {stopwatch.Elapsed.TotalSeconds:F1} s"));
    }

    private async ValueTask UploadBlobAsync(GcSeedPlan plan, int blob, CancellationToken cancellationToken)
    {
        var uploadId = Guid.NewGuid().ToString("N");
        await blobs.CreateUploadAsync(uploadId, cancellationToken);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId, cancellationToken))
        {
            await writer.WriteAsync(GcSeedPlan.BlobContent(blob), cancellationToken);
            await writer.FlushAsync(cancellationToken);
        }

        await blobs.CommitUploadAsync(uploadId, plan.BlobDigest(blob), cancellationToken);
    }

    private async ValueTask PutManifestAsync(GcSeedPlan plan, PlannedManifest manifest, CancellationToken cancellationToken)
    {
        var (content, parsed) = plan.ManifestContent(manifest);
        var repository = GcSeedPlan.RepositoryName(manifest.Repository);
        var write = new ManifestWrite
        {
            Repository = repository,
            Digest = Digests.Digest.Compute(content),
            Content = content,
            Manifest = parsed,
            Tags = manifest.Fate == ManifestFate.PushedUntagged ? [] : [GcSeedPlan.Tag(manifest.Version)],
        };
        var result = await metadata.PutManifestAsync(write, cancellationToken);
        if (!result.Stored)
        {
            throw new InvalidOperationException(
                $"Storing version {manifest.Version} of {repository} failed: missing blobs [{string.Join(", ", result.MissingBlobs)}], " +
                $"size mismatches [{string.Join(", ", result.BlobSizeMismatches)}], immutable tags [{string.Join(", ", result.ImmutableTags)}].");
        }
    }

    private async ValueTask StartStaleUploadAsync(int repository, CancellationToken cancellationToken)
    {
        var uploadId = Guid.NewGuid().ToString("N");
        var lastData = timeProvider.GetUtcNow() - StaleUploadAge;
        await blobs.CreateUploadAsync(uploadId, cancellationToken);
        await using (var writer = await blobs.OpenUploadWriterAsync(uploadId, cancellationToken))
        {
            await writer.WriteAsync(new byte[StaleUploadBytes], cancellationToken);
            await writer.FlushAsync(cancellationToken);
        }

        await metadata.CreateUploadAsync(new UploadSession(uploadId, GcSeedPlan.RepositoryName(repository), lastData, lastData), cancellationToken);
    }
}

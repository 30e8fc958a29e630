using Dtr.Metadata;

namespace Dtr.Gc;

internal sealed partial class GarbageCollector
{
    /// <summary>How long the run holds an upload session's lease while it removes the session.</summary>
    private static readonly TimeSpan UploadLeaseDuration = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Removes upload sessions that received no data for <see cref="GarbageCollectionOptions.UploadMaxAge"/>, with their
    /// data (step 5 of a run). A session whose lease a request holds is skipped.
    /// </summary>
    private async Task PurgeUploadsAsync(RunContext context)
    {
        var staleBefore = _time.GetUtcNow() - Options.UploadMaxAge;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (true)
        {
            context.ThrowIfStopped();

            // The listing has no cursor, and skipped sessions (and every session of a dry run) stay in it, so each page
            // requests the sessions seen so far plus one batch.
            var limit = seen.Count + Options.BatchSize;
            var page = await _store.ListStaleUploadsAsync(staleBefore, limit, context.Token);
            var unseen = page.Where(upload => seen.Add(upload.Id)).ToList();
            foreach (var upload in unseen)
            {
                context.ThrowIfStopped();
                await PurgeUploadAsync(context, upload);
            }

            if (unseen.Count == 0 || page.Count < limit)
            {
                return;
            }
        }
    }

    private async Task PurgeUploadAsync(RunContext context, UploadSession upload)
    {
        if (!context.DryRun)
        {
            var now = _time.GetUtcNow();
            if (!await _metadata.TryAcquireUploadLeaseAsync(upload.Id, context.RunId, now, now + UploadLeaseDuration, context.Token))
            {
                return;
            }
        }

        try
        {
            var size = await _blobs.GetUploadLengthAsync(upload.Id, context.Token) ?? 0;
            if (!context.DryRun)
            {
                await _blobs.DeleteUploadAsync(upload.Id, context.Token);
                await _metadata.DeleteUploadAsync(upload.Id, context.Token);
            }

            context.CountUpload();
            await context.AddItemAsync(new GarbageCollectionItem(0, GarbageCollectionItemKind.Upload, upload.Repository.Value, null, upload.Id, size));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            GcLog.UploadPurgeFailed(_logger, context.RunId, upload.Id, upload.Repository.Value, exception);
            context.AddError($"Purging upload {upload.Id} of {upload.Repository} failed: {exception.Message}");
            if (!context.DryRun)
            {
                await _metadata.ReleaseUploadLeaseAsync(upload.Id, context.RunId, CancellationToken.None);
            }
        }
    }
}

using System.Collections.Concurrent;
using Dtr.Digests;
using Dtr.Gc;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.GarbageCollection;

/// <summary>
/// Records a use of a blob that a client checks or reads in a repository, so that garbage collection keeps the blob
/// and its link for the grace period. A client that finds a layer with <c>HEAD</c> skips its upload and pushes the
/// manifest moments later; without a recorded use, a run could remove the unused-looking link in between.
/// </summary>
/// <remarks>
/// Each host writes a use of one digest at most once per quarter of the grace period (until it has remembered
/// 100,000 digests and starts over), so most repeated reads cost one dictionary lookup. After a skipped write, at least three quarters of the grace period of protection are left.
/// With a zero grace period a use protects nothing beyond the run's start, so nothing is written.
/// </remarks>
internal sealed class BlobUseRecorder
{
    // Forgetting every entry past this size costs at most one extra write per digest.
    private const int MaxRemembered = 100_000;

    private readonly IGarbageCollectionStore? _store;
    private readonly TimeProvider _time;
    private readonly IOptions<GarbageCollectionOptions> _options;
    private readonly ILogger<BlobUseRecorder> _logger;
    private readonly ConcurrentDictionary<Digest, DateTimeOffset> _recorded = new();

    /// <param name="services">Supplies the <see cref="IGarbageCollectionStore"/>, when the metadata store has one.</param>
    public BlobUseRecorder(IServiceProvider services, TimeProvider time, IOptions<GarbageCollectionOptions> options, ILogger<BlobUseRecorder> logger)
    {
        _store = services.GetService<IGarbageCollectionStore>();
        _time = time;
        _options = options;
        _logger = logger;
    }

    /// <summary>Records a use of the blob unless this host recorded one recently.</summary>
    public async ValueTask RecordAsync(Digest digest, CancellationToken cancellationToken)
    {
        var grace = _options.Value.GracePeriod;
        if (_store is null || grace <= TimeSpan.Zero)
        {
            return;
        }

        var now = _time.GetUtcNow();
        if (_recorded.TryGetValue(digest, out var last) && now - last < grace / 4)
        {
            return;
        }

        if (_recorded.Count >= MaxRemembered)
        {
            _recorded.Clear();
        }

        // False means a run is deleting the blob, which then has no link left, so the request fails on its own.
        if (await _store.TryUseBlobAsync(digest, now, cancellationToken))
        {
            _recorded[digest] = now;
        }
        else
        {
            GarbageCollectionHttpLog.UseOfDeletedBlob(_logger, digest.Value);
        }
    }
}

using Dtr.Metadata;

namespace Dtr.Gc;

/// <summary>
/// Starts, watches and cancels garbage collection runs. Runs are recorded in the metadata store, so every host that
/// shares it lists the same runs, and a lease there lets only one run go on at a time across hosts.
/// </summary>
public interface IGarbageCollector
{
    /// <summary>
    /// Takes the collection lease and starts a run in the background on this host, and returns its record in the
    /// <see cref="GarbageCollectionStatus.Running"/> state.
    /// </summary>
    /// <exception cref="GarbageCollectionConflictException">Another run holds the lease.</exception>
    ValueTask<GarbageCollectionRun> StartAsync(GarbageCollectionRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the collection lease and runs a run to its end on the caller's task, and returns its final record.
    /// Cancelling <paramref name="cancellationToken"/> cancels the run.
    /// </summary>
    /// <exception cref="GarbageCollectionConflictException">Another run holds the lease.</exception>
    ValueTask<GarbageCollectionRun> RunAsync(GarbageCollectionRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns a run's record, or null when it does not exist. A run recorded as running whose host stopped without
    /// ending it, so that it has renewed neither its heartbeat nor the lease for a lease duration, is marked
    /// <see cref="GarbageCollectionStatus.Interrupted"/> first.
    /// </summary>
    ValueTask<GarbageCollectionRun?> GetRunAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists run records newest first, after the run <paramref name="after"/> (exclusive; null starts with the newest).
    /// Runs whose host stopped without ending them are marked interrupted first, as in <see cref="GetRunAsync"/>.
    /// </summary>
    ValueTask<IReadOnlyList<GarbageCollectionRun>> ListRunsAsync(string? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>Lists what a run removed, or what a dry run would remove, in order, after position <paramref name="after"/>.</summary>
    ValueTask<IReadOnlyList<GarbageCollectionItem>> ListRunItemsAsync(string runId, long after, int limit, GarbageCollectionItemKind? kind = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Asks a running run to stop, whichever host runs it; it stops at its next check, within a heartbeat interval.
    /// Returns false when the run does not exist or is not running.
    /// </summary>
    ValueTask<bool> CancelAsync(string runId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Estimates what a dry run started now would remove: with <paramref name="deleteUntagged"/> the manifests that no
    /// tag reaches, the blobs in the blob store that no remaining manifest or link keeps (including blobs of deleted
    /// repositories), and the stale upload sessions. The grace period is applied as if a run started now. The
    /// estimate reads every repository's metadata and lists the whole blob store, so implementations may reuse a
    /// recent result.
    /// </summary>
    ValueTask<ReclaimableEstimate> EstimateReclaimableAsync(bool deleteUntagged, CancellationToken cancellationToken = default);
}

/// <summary>What a garbage collection run should do.</summary>
public sealed record GarbageCollectionRequest
{
    /// <summary>Whether the run only records what it would remove, and changes nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>Whether manifests that no tag reaches, directly, through an index or as a referrer, are removed.</summary>
    public bool DeleteUntagged { get; init; }

    /// <summary>
    /// The time budget, after which the run stops with <see cref="GarbageCollectionStatus.BudgetExhausted"/>; null for none.
    /// It must be positive and at most <see cref="MaxDurationLimit"/>.
    /// </summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>The longest time budget a run accepts: 30 days. A longer run should have no budget.</summary>
    public static TimeSpan MaxDurationLimit { get; } = TimeSpan.FromDays(30);

    /// <summary>Throws when <see cref="MaxDuration"/> is zero, negative or longer than <see cref="MaxDurationLimit"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The budget is out of range.</exception>
    internal void Validate()
    {
        if (MaxDuration is { } budget && (budget <= TimeSpan.Zero || budget > MaxDurationLimit))
        {
            throw new ArgumentOutOfRangeException(
                nameof(MaxDuration),
                budget,
                $"The time budget {budget} is invalid; give a positive duration of at most {MaxDurationLimit.TotalDays:F0} days, or null for no budget.");
        }
    }

    /// <summary>The user who asked for the run, recorded with it.</summary>
    public string? RequestedBy { get; init; }

    /// <summary>What started the run.</summary>
    public GarbageCollectionTrigger Trigger { get; init; }

    /// <summary>
    /// The due time of a scheduled run. Under the lease, the run is skipped when a scheduled run already started at or
    /// after it, because another host ran that due time between this host's reading of the run list and its lease.
    /// </summary>
    internal DateTimeOffset? ScheduledFor { get; init; }
}

/// <summary>An estimate of what a garbage collection run would free.</summary>
/// <param name="Manifests">Manifests that would be removed (zero unless untagged manifests are counted).</param>
/// <param name="Blobs">Blobs whose bytes would be removed.</param>
/// <param name="Bytes">Bytes those blobs take in the blob store.</param>
/// <param name="StaleUploads">Upload sessions older than the upload age limit.</param>
/// <param name="ComputedAt">When the estimate was computed.</param>
public sealed record ReclaimableEstimate(long Manifests, long Blobs, long Bytes, long StaleUploads, DateTimeOffset ComputedAt);

/// <summary>Thrown when a run cannot start because another run holds the collection lease.</summary>
public sealed class GarbageCollectionConflictException : InvalidOperationException
{
    /// <summary>Creates the exception, naming the run that holds the lease when it is known.</summary>
    public GarbageCollectionConflictException(string? runningRunId)
        : base(runningRunId is null
            ? "Another garbage collection run is in progress; wait for it to end or cancel it."
            : $"The garbage collection run '{runningRunId}' is in progress; wait for it to end or cancel it.")
    {
        RunningRunId = runningRunId;
    }

    /// <summary>The id of the run in progress, or null when it is not known.</summary>
    public string? RunningRunId { get; }
}

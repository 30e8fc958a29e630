using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Scanning;

/// <summary>
/// Everything image scanning keeps in the metadata store: the vulnerability database, a cache of layer analyses,
/// each image's package inventory and scan result, the queue of scans to run and each repository's pull policy.
/// The embedded implementation keeps them in the same database as <see cref="Metadata.IMetadataStore"/>.
/// </summary>
/// <remarks>
/// The store treats inventories, analyses, results and vulnerability records as opaque JSON documents that the scanner
/// writes and reads. It indexes only the columns that the methods below filter on. Each method is one transaction,
/// except that the methods that replace or remove a copy of a source may delete that copy's rows afterwards, in
/// further transactions, after the copy stopped being visible.
/// </remarks>
public interface IScanStore
{
    // ----- Vulnerability database -----

    /// <summary>
    /// Starts importing a new copy of one source of the vulnerability database. Records added to the import stay
    /// invisible to <see cref="FindVulnerabilitiesAsync"/> until <see cref="CompleteVulnerabilityImportAsync"/>, so
    /// lookups keep using the source's previous copy meanwhile. Rows of earlier imports of the same source that were
    /// never completed are removed.
    /// </summary>
    /// <param name="source">The source's name: its URL for online updates, or a name given to an uploaded archive.</param>
    /// <returns>The import's id, which the other import methods take.</returns>
    ValueTask<long> BeginVulnerabilityImportAsync(string source, CancellationToken cancellationToken = default);

    /// <summary>Adds a batch of records to an import that has not completed.</summary>
    /// <exception cref="InvalidOperationException">The import does not exist or has completed.</exception>
    ValueTask AddVulnerabilitiesAsync(long importId, IReadOnlyList<VulnerabilityEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes an import the source's current copy, removes the previous copy, and raises the database version by one,
    /// in one transaction. A store may delete the previous copy's rows in later transactions, but lookups never see
    /// them after the switch.
    /// </summary>
    /// <returns>The database's state after the switch.</returns>
    /// <exception cref="InvalidOperationException">The import does not exist or has completed.</exception>
    ValueTask<VulnerabilityDatabaseState> CompleteVulnerabilityImportAsync(long importId, VulnerabilitySourceUpdate update, CancellationToken cancellationToken = default);

    /// <summary>Removes an import that has not completed and its records. Does nothing when it does not exist.</summary>
    ValueTask AbortVulnerabilityImportAsync(long importId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Removes a source and its records and raises the database version by one. Returns false when no such source
    /// exists, and then nothing changes.
    /// </summary>
    ValueTask<bool> RemoveVulnerabilitySourceAsync(string source, CancellationToken cancellationToken = default);

    /// <summary>Returns the database's version and sources. A store that never imported returns version 0 and no sources.</summary>
    ValueTask<VulnerabilityDatabaseState> GetVulnerabilityDatabaseAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the current records of every source that index at least one of <paramref name="packages"/>. A record
    /// is returned once per source, however many of the keys it matches. Keys compare ordinally.
    /// </summary>
    ValueTask<IReadOnlyList<VulnerabilityEntry>> FindVulnerabilitiesAsync(IReadOnlyCollection<VulnerabilityPackageKey> packages, CancellationToken cancellationToken = default);

    // ----- Layer analyses -----

    /// <summary>
    /// Returns the stored analysis of a layer blob made by the given analyzer version, or null. Analyses are shared by
    /// every image and repository that contains the layer.
    /// </summary>
    ValueTask<string?> GetLayerAnalysisAsync(Digest layer, int analyzerVersion, CancellationToken cancellationToken = default);

    /// <summary>Stores a layer analysis, replacing one stored earlier for the same layer and analyzer version.</summary>
    ValueTask PutLayerAnalysisAsync(Digest layer, int analyzerVersion, string analysisJson, CancellationToken cancellationToken = default);

    // ----- Image scans -----

    /// <summary>
    /// Stores the scan of an image manifest, replacing the previous one. Scans are kept by manifest digest, because an
    /// image's content and so its packages are the same in every repository that contains it.
    /// </summary>
    ValueTask PutImageScanAsync(ImageScan scan, CancellationToken cancellationToken = default);

    /// <summary>Returns the scan of an image manifest, or null when it was never scanned.</summary>
    ValueTask<ImageScan?> GetImageScanAsync(Digest manifest, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the status and summary of the scans of many manifests at once, for tag lists and pull checks, without
    /// the documents. Manifests that were never scanned are missing from the result.
    /// </summary>
    ValueTask<IReadOnlyDictionary<Digest, ImageScanSummary>> GetImageScanSummariesAsync(IReadOnlyCollection<Digest> manifests, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists completed scans whose inventory was matched against a database version older than
    /// <paramref name="databaseVersion"/>, ordered by manifest digest, after <paramref name="after"/> (exclusive), so
    /// a re-match after a database change can page through them and resume after a restart.
    /// </summary>
    ValueTask<IReadOnlyList<ImageScan>> ListImageScansToRematchAsync(long databaseVersion, Digest? after, int limit, CancellationToken cancellationToken = default);

    // ----- Scan queue -----

    /// <summary>
    /// Queues a scan of a manifest. Returns false and changes nothing when a scan of the same manifest is already
    /// queued and not yet claimed.
    /// </summary>
    ValueTask<bool> EnqueueScanAsync(ScanJobRequest request, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the oldest queued scan that no one holds, or whose holder's lease expired at or before
    /// <paramref name="now"/>, for <paramref name="holder"/> until <paramref name="leaseExpiresAt"/>, and raises its
    /// attempt count by one. Of many callers at once, each job goes to exactly one. Returns null when none is free.
    /// </summary>
    ValueTask<ScanJob?> TryClaimScanJobAsync(string holder, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default);

    /// <summary>Extends the lease on a claimed job. Returns false when the lease is no longer <paramref name="holder"/>'s.</summary>
    ValueTask<bool> RenewScanJobAsync(long jobId, string holder, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default);

    /// <summary>Removes a finished job when <paramref name="holder"/> has its lease. Returns whether the job was removed.</summary>
    ValueTask<bool> CompleteScanJobAsync(long jobId, string holder, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the oldest queued or claimed job for a manifest, or null. A manifest can have two jobs: a claimed one
    /// and one queued while it ran.
    /// </summary>
    ValueTask<ScanJob?> FindScanJobAsync(Digest manifest, CancellationToken cancellationToken = default);

    /// <summary>Returns the number of jobs in the queue, claimed ones included.</summary>
    ValueTask<int> CountScanJobsAsync(CancellationToken cancellationToken = default);

    // ----- Pull policy -----

    /// <summary>Returns a repository's pull policy, or null when none was set. Deleting the repository removes it.</summary>
    ValueTask<ScanPolicy?> GetScanPolicyAsync(RepositoryName repository, CancellationToken cancellationToken = default);

    /// <summary>Sets a repository's pull policy, replacing the previous one.</summary>
    /// <exception cref="Identity.IdentityNotFoundException">The repository has no settings (it was never created).</exception>
    ValueTask SetScanPolicyAsync(RepositoryName repository, ScanPolicy policy, CancellationToken cancellationToken = default);
}

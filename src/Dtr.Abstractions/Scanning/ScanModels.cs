using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Scanning;

/// <summary>The key under which vulnerability records are indexed: an OSV ecosystem and a package name in it.</summary>
/// <param name="Ecosystem">The OSV ecosystem, such as <c>Debian:12</c>, <c>Alpine:v3.18</c> or <c>NuGet</c>.</param>
/// <param name="Package">The package name as the scanner normalises it for that ecosystem.</param>
public readonly record struct VulnerabilityPackageKey(string Ecosystem, string Package);

/// <summary>One vulnerability record of one source, as stored.</summary>
/// <param name="Id">The record id, such as <c>CVE-2023-4911</c> or <c>DSA-5514-1</c>.</param>
/// <param name="Severity">The severity the importer derived.</param>
/// <param name="Packages">The keys the record is indexed under; at least one.</param>
/// <param name="RecordJson">The record as the scanner serialised it.</param>
public sealed record VulnerabilityEntry(string Id, Severity Severity, IReadOnlyList<VulnerabilityPackageKey> Packages, string RecordJson)
{
    /// <summary>The source the record belongs to; set by the store when it returns records.</summary>
    public string? Source { get; init; }
}

/// <summary>What an importer learned about a source while importing it.</summary>
/// <param name="RecordCount">The number of records imported.</param>
/// <param name="UpdatedAt">When the import completed.</param>
public sealed record VulnerabilitySourceUpdate(int RecordCount, DateTimeOffset UpdatedAt)
{
    /// <summary>The <c>ETag</c> of the downloaded archive, for conditional requests; null for uploads.</summary>
    public string? ETag { get; init; }

    /// <summary>The <c>Last-Modified</c> of the downloaded archive, for conditional requests; null for uploads.</summary>
    public DateTimeOffset? LastModified { get; init; }

    /// <summary>The SHA-256 digest of the archive.</summary>
    public string? ArchiveDigest { get; init; }

    /// <summary>Whether the archive's detached signature was checked against the configured public key.</summary>
    public bool SignatureVerified { get; init; }
}

/// <summary>A source of the vulnerability database and its current copy.</summary>
/// <param name="Name">The source's name.</param>
/// <param name="RecordCount">The number of records.</param>
/// <param name="UpdatedAt">When its current copy was imported.</param>
public sealed record VulnerabilitySource(string Name, int RecordCount, DateTimeOffset UpdatedAt)
{
    /// <summary>The <c>ETag</c> of the archive it came from, or null.</summary>
    public string? ETag { get; init; }

    /// <summary>The <c>Last-Modified</c> of the archive it came from, or null.</summary>
    public DateTimeOffset? LastModified { get; init; }

    /// <summary>The SHA-256 digest of the archive it came from, or null.</summary>
    public string? ArchiveDigest { get; init; }

    /// <summary>Whether the archive's signature was verified.</summary>
    public bool SignatureVerified { get; init; }
}

/// <summary>The vulnerability database as a whole.</summary>
/// <param name="Version">Raised by one with every completed import or removed source; 0 before the first import.</param>
/// <param name="UpdatedAt">When the version last changed, or null before the first import.</param>
/// <param name="Sources">The sources, ordered by name.</param>
public sealed record VulnerabilityDatabaseState(long Version, DateTimeOffset? UpdatedAt, IReadOnlyList<VulnerabilitySource> Sources)
{
    /// <summary>The number of records across all sources.</summary>
    public int RecordCount => Sources.Sum(source => source.RecordCount);
}

/// <summary>The outcome of an image scan.</summary>
public enum ScanStatus
{
    /// <summary>The scan finished; the result lists what was found.</summary>
    Completed = 0,

    /// <summary>
    /// The scan finished, but at least one layer could not be read fully (over a limit, or not a valid archive), so
    /// the result may miss packages. The result names the layers.
    /// </summary>
    Partial = 1,

    /// <summary>The scan failed; the result carries the error.</summary>
    Failed = 2,
}

/// <summary>The stored scan of one image manifest.</summary>
/// <param name="Manifest">The image manifest's digest.</param>
/// <param name="Status">The outcome.</param>
/// <param name="ScannedAt">When the layers were read and the inventory built.</param>
/// <param name="MatchedAt">When the inventory was last matched against the database.</param>
/// <param name="DatabaseVersion">The database version it was last matched against.</param>
/// <param name="Summary">The counts of vulnerabilities found.</param>
/// <param name="InventoryJson">The package inventory, which a re-match reads instead of the layers; null when the scan failed.</param>
/// <param name="ResultJson">The full result document.</param>
public sealed record ImageScan(
    Digest Manifest,
    ScanStatus Status,
    DateTimeOffset ScannedAt,
    DateTimeOffset MatchedAt,
    long DatabaseVersion,
    ScanSummary Summary,
    string? InventoryJson,
    string ResultJson);

/// <summary>The columns of an <see cref="ImageScan"/> that tag lists and pull checks need.</summary>
/// <param name="Status">The outcome.</param>
/// <param name="MatchedAt">When the inventory was last matched.</param>
/// <param name="DatabaseVersion">The database version it was last matched against.</param>
/// <param name="Summary">The counts of vulnerabilities found.</param>
public sealed record ImageScanSummary(ScanStatus Status, DateTimeOffset MatchedAt, long DatabaseVersion, ScanSummary Summary);

/// <summary>Why a scan was queued.</summary>
public enum ScanReason
{
    /// <summary>The image was pushed to a repository with scanning on push.</summary>
    Push = 0,

    /// <summary>A user asked for it.</summary>
    Request = 1,
}

/// <summary>A scan to queue.</summary>
/// <param name="Repository">The repository whose blobs the scan reads.</param>
/// <param name="Manifest">The manifest to scan: an image manifest, or an index whose children are each scanned.</param>
/// <param name="Reason">Why it was queued.</param>
/// <param name="EnqueuedAt">When it was queued.</param>
public sealed record ScanJobRequest(RepositoryName Repository, Digest Manifest, ScanReason Reason, DateTimeOffset EnqueuedAt);

/// <summary>A queued scan.</summary>
/// <param name="Id">The job's id.</param>
/// <param name="Repository">The repository whose blobs the scan reads.</param>
/// <param name="Manifest">The manifest to scan.</param>
/// <param name="Reason">Why it was queued.</param>
/// <param name="EnqueuedAt">When it was queued.</param>
/// <param name="Attempts">How many times it was claimed, this claim included.</param>
/// <param name="Holder">Who holds it, or null while it waits.</param>
/// <param name="LeaseExpiresAt">When the holder's lease expires, or null while it waits.</param>
public sealed record ScanJob(
    long Id,
    RepositoryName Repository,
    Digest Manifest,
    ScanReason Reason,
    DateTimeOffset EnqueuedAt,
    int Attempts,
    string? Holder,
    DateTimeOffset? LeaseExpiresAt);

/// <summary>A repository's rule for pulling images by their scan results.</summary>
/// <param name="BlockSeverity">
/// Pulls of images with a vulnerability at or above this severity are denied, unless the vulnerability is allowlisted;
/// null turns blocking off.
/// </param>
/// <param name="AllowUnscanned">Whether images without a scan result may be pulled while blocking is on.</param>
/// <param name="Allowlist">Vulnerabilities that never block, each until it expires.</param>
public sealed record ScanPolicy(Severity? BlockSeverity, bool AllowUnscanned, IReadOnlyList<AllowlistEntry> Allowlist)
{
    /// <summary>The policy of a repository that set none: nothing is blocked.</summary>
    public static ScanPolicy None { get; } = new(null, true, []);
}

/// <summary>A vulnerability that does not block pulls.</summary>
/// <param name="Id">The vulnerability id or one of its aliases, such as <c>CVE-2023-4911</c>.</param>
/// <param name="ExpiresAt">When the exception ends, or null for never.</param>
/// <param name="Reason">Why it is allowed.</param>
public sealed record AllowlistEntry(string Id, DateTimeOffset? ExpiresAt, string? Reason);

namespace Dtr.Metadata;

/// <summary>
/// The audit log: who changed what through the management API, who pushed or deleted content on <c>/v2</c>, and
/// which requests the permission checks rejected. Entries are appended in batches and read newest first. Each entry
/// gets a sequence number when stored, and paging resumes after a sequence number.
/// </summary>
public interface IAuditStore
{
    /// <summary>Stores <paramref name="entries"/> in one transaction, in the order given.</summary>
    /// <exception cref="ArgumentException">An entry has an empty action or a field longer than its maximum.</exception>
    ValueTask AppendAuditEntriesAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns at most <paramref name="limit"/> entries that match <paramref name="filter"/>, newest first, with a
    /// sequence number below <paramref name="before"/> when it is given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="limit"/> is less than 1.</exception>
    ValueTask<IReadOnlyList<StoredAuditEntry>> ListAuditEntriesAsync(AuditFilter filter, long? before, int limit, CancellationToken cancellationToken = default);

    /// <summary>Deletes the entries recorded before <paramref name="cutoff"/> and returns how many it deleted.</summary>
    ValueTask<long> DeleteAuditEntriesBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default);
}

/// <summary>The outcome of an audited request.</summary>
public enum AuditResult
{
    /// <summary>The request succeeded (status below 400).</summary>
    Succeeded = 0,

    /// <summary>Authentication or a permission check rejected the request (401 or 403).</summary>
    Denied = 1,

    /// <summary>The request failed for another reason (another status of 400 or above).</summary>
    Failed = 2,
}

/// <summary>One audited request.</summary>
/// <param name="Time">When the request ended; stores keep whole milliseconds.</param>
/// <param name="Actor">The user name, or null for an anonymous caller or one whose credentials were rejected.</param>
/// <param name="ClientAddress">The client's IP address as the server saw it, or null when unknown.</param>
/// <param name="Repository">The repository the request named, or null.</param>
/// <param name="Action">What was requested, such as <c>manifest.push</c> or <c>POST /api/v1/users</c>.</param>
/// <param name="Result">The outcome.</param>
/// <param name="Status">The HTTP status code of the response.</param>
/// <param name="Detail">A short description, such as the tag pushed or the reason of a denial; never a secret.</param>
public sealed record AuditEntry(
    DateTimeOffset Time,
    string? Actor,
    string? ClientAddress,
    string? Repository,
    string Action,
    AuditResult Result,
    int Status,
    string? Detail)
{
    /// <summary>The maximum length of <see cref="Action"/>, <see cref="Actor"/>, <see cref="Repository"/> and <see cref="ClientAddress"/>.</summary>
    public const int MaxFieldLength = 300;

    /// <summary>The maximum length of <see cref="Detail"/>.</summary>
    public const int MaxDetailLength = 1000;
}

/// <summary>A stored audit entry with its sequence number, which grows with each append.</summary>
public sealed record StoredAuditEntry(long Sequence, AuditEntry Entry);

/// <summary>Conditions that listed entries must all meet; a null field matches every entry.</summary>
/// <param name="Actor">The exact user name.</param>
/// <param name="Repository">The exact repository name.</param>
/// <param name="Action">The exact action.</param>
/// <param name="Result">The outcome.</param>
/// <param name="Since">The earliest time, inclusive.</param>
/// <param name="Until">The latest time, exclusive.</param>
public sealed record AuditFilter(
    string? Actor = null,
    string? Repository = null,
    string? Action = null,
    AuditResult? Result = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null);

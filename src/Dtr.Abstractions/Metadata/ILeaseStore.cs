namespace Dtr.Metadata;

/// <summary>
/// Named leases that registry hosts sharing one metadata store use so that only one of them runs a job at a time, such
/// as a vulnerability database import. The embedded implementation keeps them in the same database as
/// <see cref="IMetadataStore"/>.
/// </summary>
public interface ILeaseStore
{
    /// <summary>
    /// Takes or extends the lease called <paramref name="name"/>. The lease goes to <paramref name="holder"/> when it is
    /// free, when it expired (its expiry is at or before <paramref name="now"/>), or when <paramref name="holder"/>
    /// already holds it, and then it expires at <paramref name="expiresAt"/>. The check and the update are one atomic
    /// step, so of many callers at once exactly one gets a free lease.
    /// </summary>
    /// <returns>True when <paramref name="holder"/> now holds the lease.</returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="name"/> or <paramref name="holder"/> is empty or longer than 200 characters, or
    /// <paramref name="expiresAt"/> is not later than <paramref name="now"/>.
    /// </exception>
    ValueTask<bool> TryAcquireLeaseAsync(string name, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default);

    /// <summary>Releases the lease when <paramref name="holder"/> holds it; does nothing otherwise.</summary>
    ValueTask ReleaseLeaseAsync(string name, string holder, CancellationToken cancellationToken = default);
}

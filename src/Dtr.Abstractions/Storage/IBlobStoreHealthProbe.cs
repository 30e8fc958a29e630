namespace Dtr.Storage;

/// <summary>
/// An optional capability of a blob store: a cheap check that the store can take writes now. The readiness endpoint
/// runs it on every request, which a load balancer may send every few seconds, so it should cost no more than one
/// small write.
/// </summary>
/// <remarks>
/// A store without this capability that has an <see cref="IBlobStoreStartupCheck"/> is probed with that check instead.
/// </remarks>
public interface IBlobStoreHealthProbe
{
    /// <summary>Checks that the store can write now, for example by writing and deleting a small file.</summary>
    /// <exception cref="IOException">The store cannot write. The message names the path and what is wrong with it.</exception>
    /// <exception cref="UnauthorizedAccessException">The process has no write access to the store's folder.</exception>
    ValueTask ProbeAsync(CancellationToken cancellationToken = default);
}

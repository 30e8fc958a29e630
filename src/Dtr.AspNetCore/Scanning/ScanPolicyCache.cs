using System.Collections.Concurrent;
using Dtr.Names;
using Dtr.Scanning;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// Keeps each repository's pull policy in memory for a few seconds, so the manifest GET path reads the store at most
/// once per repository in that time. A policy set on this host replaces the cached copy at once; one set on another
/// host that shares the store takes effect here within <see cref="Lifetime"/>.
/// </summary>
internal sealed class ScanPolicyCache
{
    /// <summary>How long a policy is served from memory.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(5);

    // Bounds memory on registries with very many repositories; clearing is cheap because entries live seconds.
    private const int MaxEntries = 10_000;

    private readonly ConcurrentDictionary<RepositoryName, (ScanPolicy Policy, DateTimeOffset ExpiresAt)> _entries = new();
    private readonly IScanStore _store;
    private readonly TimeProvider _time;

    public ScanPolicyCache(IScanStore store, TimeProvider time)
    {
        _store = store;
        _time = time;
    }

    /// <summary>Returns the repository's policy, or <see cref="ScanPolicy.None"/> when it has none.</summary>
    public async ValueTask<ScanPolicy> GetAsync(RepositoryName repository, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_entries.TryGetValue(repository, out var entry) && entry.ExpiresAt > now)
        {
            return entry.Policy;
        }

        var policy = await _store.GetScanPolicyAsync(repository, cancellationToken) ?? ScanPolicy.None;
        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        _entries[repository] = (policy, now + Lifetime);
        return policy;
    }

    /// <summary>Replaces the cached policy of a repository after it was set on this host.</summary>
    public void Set(RepositoryName repository, ScanPolicy policy) => _entries[repository] = (policy, _time.GetUtcNow() + Lifetime);
}

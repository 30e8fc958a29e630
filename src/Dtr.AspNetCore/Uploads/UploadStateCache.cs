using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Dtr.AspNetCore.Uploads;

/// <summary>
/// Per-upload state kept in this process between requests: a lock that serializes requests to one upload, and
/// the running SHA-256 of the bytes received so far, so that closing an upload does not read the data again.
/// </summary>
/// <remarks>
/// The hash is an optimization, never the source of truth. It is trusted only when its length equals the upload's
/// length in the blob store. After a restart, an append by another host or a failed write, the upload is hashed
/// again from storage. That check is enough across hosts because an upload only grows: once another host appended,
/// the stored length is larger than the length this process hashed, and stays larger. The lock serializes only this
/// process's requests, and <see cref="UploadLease"/> keeps other hosts out while one request runs.
/// </remarks>
internal sealed class UploadStateCache : IDisposable
{
    // Abandoned uploads leave entries behind; once there are this many, entries idle for longer than
    // StaleAfter are dropped when new uploads start.
    private const int PruneThreshold = 256;
    private static readonly TimeSpan StaleAfter = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, UploadState> _states = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;

    public UploadStateCache(TimeProvider timeProvider) => _timeProvider = timeProvider;

    /// <summary>Returns the state of an upload, creating it when this process has none.</summary>
    public UploadState GetOrAdd(string uploadId)
    {
        if (_states.TryGetValue(uploadId, out var existing))
        {
            return existing;
        }

        if (_states.Count >= PruneThreshold)
        {
            Prune();
        }

        return _states.GetOrAdd(uploadId, static _ => new UploadState());
    }

    /// <summary>Forgets an upload after it was committed or cancelled.</summary>
    public void Remove(string uploadId)
    {
        if (_states.TryRemove(uploadId, out var state))
        {
            state.ResetHash();
        }
    }

    private void Prune()
    {
        var cutoff = _timeProvider.GetUtcNow() - StaleAfter;
        foreach (var (id, state) in _states)
        {
            if (state.LastUsed < cutoff && state.Lock.CurrentCount == 1)
            {
                Remove(id);
            }
        }
    }

    public void Dispose()
    {
        foreach (var state in _states.Values)
        {
            state.ResetHash();
        }

        _states.Clear();
    }
}

/// <summary>The in-process state of one upload; see <see cref="UploadStateCache"/>.</summary>
internal sealed class UploadState
{
    /// <summary>Held while a request reads or writes the upload.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    /// <summary>When a request last used the upload.</summary>
    public DateTimeOffset LastUsed { get; set; }

    /// <summary>The SHA-256 of the first <see cref="HashedLength"/> bytes, or null when unknown.</summary>
    public IncrementalHash? Hash { get; private set; }

    /// <summary>The number of bytes <see cref="Hash"/> covers.</summary>
    public long HashedLength { get; private set; }

    /// <summary>Returns a hash covering exactly <paramref name="length"/> bytes, or null when the cached one does not.</summary>
    public IncrementalHash? TakeHashAt(long length)
    {
        if (Hash is not null && HashedLength == length)
        {
            return Hash;
        }

        ResetHash();
        if (length == 0)
        {
            Hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            HashedLength = 0;
            return Hash;
        }

        return null;
    }

    /// <summary>Records that <paramref name="hash"/> now covers <paramref name="length"/> bytes.</summary>
    public void SetHash(IncrementalHash hash, long length)
    {
        if (!ReferenceEquals(hash, Hash))
        {
            ResetHash();
        }

        Hash = hash;
        HashedLength = length;
    }

    /// <summary>Drops the hash, for example after a write failed half-way.</summary>
    public void ResetHash()
    {
        Hash?.Dispose();
        Hash = null;
        HashedLength = 0;
    }
}

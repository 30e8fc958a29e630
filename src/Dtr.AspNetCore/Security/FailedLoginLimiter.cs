using System.Threading.RateLimiting;
using Dtr.AspNetCore.Configuration;
using Dtr.Names;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Counts failed sign-ins in a sliding window of <see cref="RegistryAuthOptions.FailedLoginWindow"/>, per client address
/// and per user name. A client address may fail <see cref="RegistryAuthOptions.FailedLoginLimit"/> times, for any
/// user names. A user name may fail <see cref="UserLimitFactor"/> times as often, counted over all addresses, which
/// bounds guessing spread over many addresses. Once a count is used up, further sign-ins from that address or for
/// that name are rejected before the password is checked, so the limits also cap the password hashing an attacker
/// can cause.
/// </summary>
/// <remarks>
/// One address can never lock a user out on its own, because it reaches its own limit first. No separate count per
/// (user name, address) pair is kept: every failure also counts against the address, so a pair count could never
/// reach the limit before the address count does.
/// </remarks>
internal sealed class FailedLoginLimiter : IDisposable
{
    /// <summary>The multiple of <see cref="RegistryAuthOptions.FailedLoginLimit"/> that one user name may fail, counted over all addresses.</summary>
    public const int UserLimitFactor = 10;

    private const int SegmentsPerWindow = 6;

    private const string UserKeyPrefix = "user:";

    private readonly PartitionedRateLimiter<string> _limiter;

    public FailedLoginLimiter(IOptions<RegistryOptions> options)
    {
        var auth = options.Value.Auth;
        var window = auth.FailedLoginWindow > TimeSpan.Zero ? auth.FailedLoginWindow : TimeSpan.FromMinutes(1);
        var addressLimit = Math.Max(1, auth.FailedLoginLimit);
        var userLimit = (int)Math.Min((long)addressLimit * UserLimitFactor, int.MaxValue);

        // The sliding window limiter of System.Threading.RateLimiting (.NET 10) lists RetryAfter metadata on a
        // rejected lease but stores no value in it. In a probe with a 3-second window of 6 segments, it released a
        // failure 2.9 to 3.5 seconds after counting it, that is, within one window plus one segment. That sum plus one
        // second for timer latency bounds every wait.
        RetryAfter = window + window / SegmentsPerWindow + TimeSpan.FromSeconds(1);

        var addressOptions = CreateOptions(addressLimit, window);
        var userOptions = CreateOptions(userLimit, window);
        _limiter = PartitionedRateLimiter.Create<string, string>(key => key.StartsWith(UserKeyPrefix, StringComparison.Ordinal)
            ? RateLimitPartition.GetSlidingWindowLimiter(key, _ => userOptions)
            : RateLimitPartition.GetSlidingWindowLimiter(key, _ => addressOptions));
    }

    /// <summary>
    /// The wait reported to a rejected client: an upper bound of the time until the failures counted so far expire.
    /// New failures counted for the same user name from other addresses can extend the block.
    /// </summary>
    public TimeSpan RetryAfter { get; }

    /// <summary>
    /// Returns how long the caller must wait when the client address or the user name has used up its failures, or
    /// null when a sign-in may be tried. Consumes nothing.
    /// </summary>
    public TimeSpan? CheckBlocked(string userName, string clientAddress) =>
        IsExhausted(AddressKey(clientAddress)) || IsExhausted(UserKey(userName)) ? RetryAfter : null;

    /// <summary>Counts one failed sign-in against the client address and the user name.</summary>
    public void RecordFailure(string userName, string clientAddress)
    {
        _limiter.AttemptAcquire(AddressKey(clientAddress), 1).Dispose();
        _limiter.AttemptAcquire(UserKey(userName), 1).Dispose();
    }

    public void Dispose() => _limiter.Dispose();

    private static SlidingWindowRateLimiterOptions CreateOptions(int limit, TimeSpan window) => new()
    {
        PermitLimit = limit,
        Window = window,
        SegmentsPerWindow = SegmentsPerWindow,
        QueueLimit = 0,
        AutoReplenishment = true,
    };

    private bool IsExhausted(string key)
    {
        // Asking for zero permits tests whether any remain without taking one.
        using var lease = _limiter.AttemptAcquire(key, 0);
        return !lease.IsAcquired;
    }

    // The name is lower-cased because registry names are lowercase, so "Alice" and "alice" share one count. Names
    // longer than any valid one are cut, so a client cannot make the limiter keep arbitrarily long keys.
    private static string UserKey(string userName)
    {
        var name = userName.Length > RepositoryName.MaxLength ? userName[..RepositoryName.MaxLength] : userName;
        return UserKeyPrefix + name.ToLowerInvariant();
    }

    private static string AddressKey(string clientAddress) => "address:" + clientAddress;
}

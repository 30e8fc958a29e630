using System.Threading.RateLimiting;
using Dtr.AspNetCore.Configuration;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Counts failed sign-ins per user name and, separately, per client address in a sliding window of
/// <see cref="RegistryAuthOptions.FailedLoginWindow"/>. Once either count reaches
/// <see cref="RegistryAuthOptions.FailedLoginLimit"/>, further sign-ins for that name or from that address are
/// rejected before the password is checked, so the limit also caps the cost of password hashing an attacker can cause.
/// </summary>
internal sealed class FailedLoginLimiter : IDisposable
{
    private const int SegmentsPerWindow = 6;

    private readonly PartitionedRateLimiter<string> _limiter;
    private readonly TimeSpan _segment;

    public FailedLoginLimiter(IOptions<RegistryOptions> options)
    {
        var auth = options.Value.Auth;
        var window = auth.FailedLoginWindow > TimeSpan.Zero ? auth.FailedLoginWindow : TimeSpan.FromMinutes(1);
        var limit = Math.Max(1, auth.FailedLoginLimit);
        _segment = window / SegmentsPerWindow;
        var limiterOptions = new SlidingWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = window,
            SegmentsPerWindow = SegmentsPerWindow,
            QueueLimit = 0,
            AutoReplenishment = true,
        };

        _limiter = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetSlidingWindowLimiter(key, _ => limiterOptions));
    }

    /// <summary>
    /// Returns how long the caller must wait when the user name or the client address has used up its failures, or
    /// null when a sign-in may be tried. Consumes nothing.
    /// </summary>
    public TimeSpan? CheckBlocked(string userName, string clientAddress)
    {
        var byUser = Check(UserKey(userName));
        var byAddress = Check(AddressKey(clientAddress));
        if (byUser is { } user && byAddress is { } address)
        {
            return user > address ? user : address;
        }

        return byUser ?? byAddress;
    }

    /// <summary>Counts one failed sign-in against the user name and the client address.</summary>
    public void RecordFailure(string userName, string clientAddress)
    {
        _limiter.AttemptAcquire(UserKey(userName), 1).Dispose();
        _limiter.AttemptAcquire(AddressKey(clientAddress), 1).Dispose();
    }

    public void Dispose() => _limiter.Dispose();

    private TimeSpan? Check(string key)
    {
        // Asking for zero permits tests whether any remain without taking one.
        using var lease = _limiter.AttemptAcquire(key, 0);
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : _segment;
    }

    // The key is lower-cased because registry names are lowercase, so "Alice" and "alice" share one count.
    private static string UserKey(string userName) => "user:" + userName.ToLowerInvariant();

    private static string AddressKey(string clientAddress) => "address:" + clientAddress;
}

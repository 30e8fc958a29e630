using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Tests.Security;

public sealed class FailedLoginLimiterTests
{
    private const int Limit = 3;

    [Fact]
    public void OneAddress_BlocksOnlyThatAddress()
    {
        using var limiter = CreateLimiter();
        for (var attempt = 0; attempt < Limit; attempt++)
        {
            limiter.RecordFailure("dave", "10.0.0.1");
        }

        Assert.NotNull(limiter.CheckBlocked("dave", "10.0.0.1"));
        Assert.NotNull(limiter.CheckBlocked("erin", "10.0.0.1"));
        Assert.Null(limiter.CheckBlocked("dave", "10.0.0.2"));
    }

    [Fact]
    public void UserName_BlockedAcrossManyAddresses()
    {
        using var limiter = CreateLimiter();
        var userLimit = Limit * FailedLoginLimiter.UserLimitFactor;
        for (var attempt = 0; attempt < userLimit - 1; attempt++)
        {
            limiter.RecordFailure("Dave", $"10.0.1.{attempt}");
        }

        Assert.Null(limiter.CheckBlocked("dave", "10.0.2.1"));

        limiter.RecordFailure("dave", "10.0.1.250");

        Assert.NotNull(limiter.CheckBlocked("dave", "10.0.2.1"));
        Assert.NotNull(limiter.CheckBlocked("DAVE", "10.0.2.2"));
        Assert.Null(limiter.CheckBlocked("erin", "10.0.2.1"));
    }

    [Fact]
    public void RetryAfter_CoversWindowAndSegment()
    {
        using var limiter = CreateLimiter();
        for (var attempt = 0; attempt < Limit; attempt++)
        {
            limiter.RecordFailure("dave", "10.0.0.1");
        }

        // One minute plus one of six segments plus one second of timer latency.
        Assert.Equal(TimeSpan.FromSeconds(71), limiter.CheckBlocked("dave", "10.0.0.1"));
    }

    private static FailedLoginLimiter CreateLimiter()
    {
        var options = new RegistryOptions();
        options.Auth.FailedLoginLimit = Limit;
        options.Auth.FailedLoginWindow = TimeSpan.FromMinutes(1);
        return new FailedLoginLimiter(Options.Create(options));
    }
}

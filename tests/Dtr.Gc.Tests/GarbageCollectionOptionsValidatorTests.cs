namespace Dtr.Gc.Tests;

public sealed class GarbageCollectionOptionsValidatorTests
{
    private static string Single(GarbageCollectionOptions options)
    {
        var errors = GarbageCollectionOptionsValidator.Check(options);
        return Assert.Single(errors);
    }

    [Fact]
    public void Defaults_AreValid()
    {
        var result = new GarbageCollectionOptionsValidator().Validate(null, new GarbageCollectionOptions());

        Assert.True(result.Succeeded);
    }

    [Fact]
    public void NegativeGracePeriod_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { GracePeriod = TimeSpan.FromSeconds(-1) });

        Assert.StartsWith("Registry:GarbageCollection:GracePeriod is -00:00:01;", message);
    }

    [Fact]
    public void ZeroGracePeriod_IsValid()
    {
        Assert.Empty(GarbageCollectionOptionsValidator.Check(new GarbageCollectionOptions { GracePeriod = TimeSpan.Zero }));
    }

    [Fact]
    public void ShortUploadMaxAge_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { UploadMaxAge = TimeSpan.FromSeconds(59) });

        Assert.Contains("Registry:GarbageCollection:UploadMaxAge is 00:00:59", message);
        Assert.Contains("00:01:00 or more", message);
    }

    [Fact]
    public void BothSchedules_AreRejected()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleInterval = TimeSpan.FromHours(1), ScheduleCron = "0 3 * * *" });

        Assert.Contains("Registry:GarbageCollection:ScheduleInterval", message);
        Assert.Contains("Registry:GarbageCollection:ScheduleCron", message);
        Assert.Contains("remove one", message);
    }

    [Fact]
    public void ShortInterval_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleInterval = TimeSpan.FromSeconds(30) });

        Assert.StartsWith("Registry:GarbageCollection:ScheduleInterval is 00:00:30;", message);
    }

    [Theory]
    [InlineData("0 3 * * *")]
    [InlineData("30 0 3 * * MON-FRI")]
    [InlineData("*/15 * * * *")]
    [InlineData("0 0 29 2 *")]
    public void ValidCron_IsAccepted(string cron)
    {
        Assert.Empty(GarbageCollectionOptionsValidator.Check(new GarbageCollectionOptions { ScheduleCron = cron }));
    }

    [Fact]
    public void CronWithWrongFieldCount_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleCron = "0 3 * *" });

        Assert.Contains("Registry:GarbageCollection:ScheduleCron '0 3 * *' has 4 fields", message);
    }

    [Fact]
    public void CronWithBadField_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleCron = "61 3 * * *" });

        Assert.StartsWith("Registry:GarbageCollection:ScheduleCron '61 3 * * *' is invalid:", message);
    }

    [Theory]
    [InlineData("0 0 30 2 *")]
    [InlineData("0 0 0 31 4 *")]
    public void CronThatNeverOccurs_IsNamed(string cron)
    {
        var message = Single(new GarbageCollectionOptions { ScheduleCron = cron });

        Assert.StartsWith($"Registry:GarbageCollection:ScheduleCron '{cron}' has no occurrence", message);
    }

    [Fact]
    public void UnknownTimeZone_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleTimeZone = "Mars/Olympus" });

        Assert.StartsWith("Registry:GarbageCollection:ScheduleTimeZone 'Mars/Olympus' is not a time zone", message);
    }

    [Fact]
    public void IanaTimeZone_IsAccepted()
    {
        Assert.Empty(GarbageCollectionOptionsValidator.Check(new GarbageCollectionOptions { ScheduleTimeZone = "Europe/Berlin" }));
    }

    [Fact]
    public void ZeroBudget_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleMaxDuration = TimeSpan.Zero });

        Assert.StartsWith("Registry:GarbageCollection:ScheduleMaxDuration is 00:00:00;", message);
    }

    [Fact]
    public void BudgetOver30Days_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { ScheduleMaxDuration = TimeSpan.FromDays(31) });

        Assert.StartsWith("Registry:GarbageCollection:ScheduleMaxDuration is 31.00:00:00;", message);
    }

    [Fact]
    public void NoBudget_IsValid()
    {
        Assert.Empty(GarbageCollectionOptionsValidator.Check(new GarbageCollectionOptions { ScheduleMaxDuration = null }));
    }

    [Fact]
    public void ShortLease_IsNamed()
    {
        var message = GarbageCollectionOptionsValidator.Check(new GarbageCollectionOptions { LeaseDuration = TimeSpan.FromSeconds(9), HeartbeatInterval = TimeSpan.FromSeconds(1) });

        Assert.StartsWith("Registry:GarbageCollection:LeaseDuration is 00:00:09;", Assert.Single(message));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(-5)]
    public void HeartbeatOutOfRange_IsNamed(int seconds)
    {
        var message = Single(new GarbageCollectionOptions { LeaseDuration = TimeSpan.FromMinutes(2), HeartbeatInterval = TimeSpan.FromSeconds(seconds) });

        Assert.Contains("Registry:GarbageCollection:HeartbeatInterval is", message);
        Assert.Contains("less than half of Registry:GarbageCollection:LeaseDuration (00:02:00)", message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    public void BatchSizeOutOfRange_IsNamed(int size)
    {
        var message = Single(new GarbageCollectionOptions { BatchSize = size });

        Assert.StartsWith($"Registry:GarbageCollection:BatchSize is {size}; set a value from 1 to 10000", message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(257)]
    public void DeleteConcurrencyOutOfRange_IsNamed(int concurrency)
    {
        var message = Single(new GarbageCollectionOptions { DeleteConcurrency = concurrency });

        Assert.StartsWith($"Registry:GarbageCollection:DeleteConcurrency is {concurrency}; set a value from 1 to 256", message);
    }

    [Fact]
    public void ZeroRetention_IsNamed()
    {
        var message = Single(new GarbageCollectionOptions { RunRetention = TimeSpan.Zero });

        Assert.StartsWith("Registry:GarbageCollection:RunRetention is 00:00:00;", message);
    }

    [Fact]
    public void Validate_ReportsEveryProblem()
    {
        var result = new GarbageCollectionOptionsValidator().Validate(null, new GarbageCollectionOptions { BatchSize = 0, DeleteConcurrency = 0 });

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
    }
}

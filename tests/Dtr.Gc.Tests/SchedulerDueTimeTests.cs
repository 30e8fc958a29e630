using Cronos;

namespace Dtr.Gc.Tests;

public sealed class SchedulerDueTimeTests
{
    private static readonly DateTimeOffset HostStart = new(2026, 3, 1, 10, 17, 0, TimeSpan.Zero);

    [Fact]
    public void Interval_CountsFromHostStartFirst()
    {
        var due = GarbageCollectionScheduler.ComputeNextDue(TimeSpan.FromHours(6), null, TimeZoneInfo.Utc, null, HostStart);

        Assert.Equal(HostStart.AddHours(6), due);
    }

    [Fact]
    public void Interval_CountsFromLastScheduledStart()
    {
        var last = HostStart.AddDays(-2);

        var due = GarbageCollectionScheduler.ComputeNextDue(TimeSpan.FromHours(6), null, TimeZoneInfo.Utc, last, HostStart);

        Assert.Equal(last.AddHours(6), due);
    }

    [Fact]
    public void Cron_NextOccurrenceAfterHostStart()
    {
        var cron = CronExpression.Parse("0 3 * * *");

        var due = GarbageCollectionScheduler.ComputeNextDue(null, cron, TimeZoneInfo.Utc, null, HostStart);

        Assert.Equal(new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero), due);
    }

    [Fact]
    public void Cron_NextOccurrenceAfterLastRunIsExclusive()
    {
        var cron = CronExpression.Parse("0 3 * * *");
        var last = new DateTimeOffset(2026, 3, 1, 3, 0, 0, TimeSpan.Zero);

        var due = GarbageCollectionScheduler.ComputeNextDue(null, cron, TimeZoneInfo.Utc, last, HostStart);

        Assert.Equal(new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.Zero), due);
    }

    [Fact]
    public void Cron_ReadInTimeZone()
    {
        var cron = CronExpression.Parse("0 3 * * *");
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

        var due = GarbageCollectionScheduler.ComputeNextDue(null, cron, berlin, null, HostStart);

        // 03:00 in Berlin on 2 March 2026 is 02:00 UTC (CET, UTC+1).
        Assert.Equal(new DateTimeOffset(2026, 3, 2, 2, 0, 0, TimeSpan.Zero), due?.ToUniversalTime());
    }

    [Fact]
    public void Cron_WithSeconds()
    {
        var cron = GarbageCollectionOptionsValidator.ParseCron("30 */10 * * * *");

        var due = GarbageCollectionScheduler.ComputeNextDue(null, cron, TimeZoneInfo.Utc, null, HostStart);

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 20, 30, TimeSpan.Zero), due);
    }

    [Fact]
    public void NoSchedule_HasNoDueTime()
    {
        Assert.Null(GarbageCollectionScheduler.ComputeNextDue(null, null, TimeZoneInfo.Utc, null, HostStart));
    }
}

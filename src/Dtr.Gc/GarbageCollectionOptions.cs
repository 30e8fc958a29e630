namespace Dtr.Gc;

/// <summary>Settings of garbage collection (<c>Registry:GarbageCollection</c>).</summary>
public sealed class GarbageCollectionOptions
{
    /// <summary>
    /// How long a blob, link or manifest is kept after it was created or last used, on top of everything used since
    /// the run began. Pushes in progress finish their manifest within it. Default 1 hour.
    /// </summary>
    /// <remarks>
    /// Hosts compare their own clocks with the times other hosts stored, so the grace period must exceed the clock
    /// skew between hosts. With a grace period of zero, an upload that completes while a run starts may fail and
    /// need to be sent again, but no image loses a blob.
    /// </remarks>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Age, since an upload session last received data, after which a run removes it with its data. Default 24 hours.</summary>
    public TimeSpan UploadMaxAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Starts a run at this interval, measured from the start of the previous scheduled run. Null (the default) with no
    /// <see cref="ScheduleCron"/> turns the schedule off. At most one of the two may be set.
    /// </summary>
    public TimeSpan? ScheduleInterval { get; set; }

    /// <summary>
    /// Starts a run at the times of this cron expression: five fields (minute, hour, day of month, month, day of
    /// week), or six with seconds first, in <see cref="ScheduleTimeZone"/>. Null (the default) with no
    /// <see cref="ScheduleInterval"/> turns the schedule off.
    /// </summary>
    public string? ScheduleCron { get; set; }

    /// <summary>The IANA or Windows id of the time zone that <see cref="ScheduleCron"/> is read in. Default <c>UTC</c>.</summary>
    public string ScheduleTimeZone { get; set; } = "UTC";

    /// <summary>Whether scheduled runs also remove manifests that no tag reaches. Default false.</summary>
    public bool ScheduleDeletesUntagged { get; set; }

    /// <summary>Time budget of a scheduled run, after which it stops and the next run goes on. Default 1 hour; null for none.</summary>
    public TimeSpan? ScheduleMaxDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// How long the collection lease lasts unless the running host renews it. Another host can start a run this long
    /// after the running host stopped. Default 2 minutes.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often a running host renews its lease, records progress and reads cancellation requests from other hosts.
    /// Must be less than half of <see cref="LeaseDuration"/>. Default 15 seconds.
    /// </summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How many blobs, links or manifests one metadata transaction handles. Default 500.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>How many blob deletes run at once against the blob store. Default 8.</summary>
    public int DeleteConcurrency { get; set; } = 8;

    /// <summary>How long run records and their item lists are kept after the run ended. Default 90 days.</summary>
    public TimeSpan RunRetention { get; set; } = TimeSpan.FromDays(90);
}

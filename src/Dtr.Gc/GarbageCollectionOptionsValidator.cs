using Cronos;
using Microsoft.Extensions.Options;

namespace Dtr.Gc;

/// <summary>Checks <see cref="GarbageCollectionOptions"/> when the host starts and reports every problem at once, each with its fix.</summary>
internal sealed class GarbageCollectionOptionsValidator : IValidateOptions<GarbageCollectionOptions>
{
    private const string Prefix = "Registry:GarbageCollection";

    /// <summary>The longest wait for the first run that a cron schedule may have; a longer one is taken for a mistake.</summary>
    private static readonly TimeSpan MaxCronGap = TimeSpan.FromDays(5 * 366);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, GarbageCollectionOptions options)
    {
        var errors = Check(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Returns the problems, each naming the setting, its value and the fix.</summary>
    public static List<string> Check(GarbageCollectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (options.GracePeriod < TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:GracePeriod is {options.GracePeriod}; set 00:00:00 or more (the default is 01:00:00).");
        }

        if (options.UploadMaxAge < TimeSpan.FromMinutes(1))
        {
            errors.Add($"{Prefix}:UploadMaxAge is {options.UploadMaxAge}; set 00:01:00 or more (the default is 1.00:00:00).");
        }

        if (options.ScheduleInterval is not null && options.ScheduleCron is not null)
        {
            errors.Add($"{Prefix}:ScheduleInterval ({options.ScheduleInterval}) and {Prefix}:ScheduleCron ('{options.ScheduleCron}') are both set; remove one of them.");
        }

        if (options.ScheduleInterval is { } interval && interval < TimeSpan.FromMinutes(1))
        {
            errors.Add($"{Prefix}:ScheduleInterval is {interval}; set 00:01:00 or more, or remove it to turn the interval schedule off.");
        }

        if (options.ScheduleCron is { } cron)
        {
            // An unknown time zone gets its own error below, so the occurrence check uses UTC in its place.
            CheckCron(cron, TryFindTimeZone(options.ScheduleTimeZone) ?? TimeZoneInfo.Utc, errors);
        }

        if (TryFindTimeZone(options.ScheduleTimeZone) is null)
        {
            errors.Add($"{Prefix}:ScheduleTimeZone '{options.ScheduleTimeZone}' is not a time zone of this machine; set an IANA id such as 'Europe/Berlin' or 'UTC' (the default).");
        }

        if (options.ScheduleMaxDuration is { } budget && (budget <= TimeSpan.Zero || budget > GarbageCollectionRequest.MaxDurationLimit))
        {
            errors.Add($"{Prefix}:ScheduleMaxDuration is {budget}; set a positive duration of at most 30.00:00:00 such as 01:00:00 (the default), or remove it for no budget.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(10))
        {
            errors.Add($"{Prefix}:LeaseDuration is {options.LeaseDuration}; set 00:00:10 or more (the default is 00:02:00).");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval >= options.LeaseDuration / 2)
        {
            errors.Add($"{Prefix}:HeartbeatInterval is {options.HeartbeatInterval}; set a positive duration less than half of {Prefix}:LeaseDuration ({options.LeaseDuration}) (the default is 00:00:15).");
        }

        if (options.BatchSize is < 1 or > 10_000)
        {
            errors.Add($"{Prefix}:BatchSize is {options.BatchSize}; set a value from 1 to 10000 (the default is 500).");
        }

        if (options.DeleteConcurrency is < 1 or > 256)
        {
            errors.Add($"{Prefix}:DeleteConcurrency is {options.DeleteConcurrency}; set a value from 1 to 256 (the default is 8).");
        }

        if (options.RunRetention <= TimeSpan.Zero)
        {
            errors.Add($"{Prefix}:RunRetention is {options.RunRetention}; set a positive duration (the default is 90.00:00:00).");
        }

        return errors;
    }

    /// <summary>
    /// Parses a cron expression of five fields (minute first) or six (seconds first), or returns null when it has
    /// another number of fields.
    /// </summary>
    /// <exception cref="CronFormatException">A field is invalid.</exception>
    public static CronExpression? ParseCron(string cron)
    {
        ArgumentNullException.ThrowIfNull(cron);
        var fields = cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
        return fields switch
        {
            5 => CronExpression.Parse(cron, CronFormat.Standard),
            6 => CronExpression.Parse(cron, CronFormat.IncludeSeconds),
            _ => null,
        };
    }

    /// <summary>Returns the time zone with the IANA or Windows id, or null when this machine does not have it.</summary>
    public static TimeZoneInfo? TryFindTimeZone(string? id)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            return null;
        }
        catch (InvalidTimeZoneException)
        {
            return null;
        }
    }

    private static void CheckCron(string cron, TimeZoneInfo timeZone, List<string> errors)
    {
        try
        {
            var expression = ParseCron(cron);
            if (expression is null)
            {
                errors.Add($"{Prefix}:ScheduleCron '{cron}' has {cron.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length} fields; set five (minute hour day-of-month month day-of-week, such as '0 3 * * *') or six with seconds first.");
                return;
            }

            // A valid expression can still name a date that never comes, such as 30 February, and then the schedule
            // would never start a run. Cronos returns null when it finds no occurrence at all.
            var now = DateTimeOffset.UtcNow;
            if (expression.GetNextOccurrence(now, timeZone) is not { } next || next > now + MaxCronGap)
            {
                errors.Add($"{Prefix}:ScheduleCron '{cron}' has no occurrence in the next five years; check the day of month, month and day of week fields, such as '0 3 * * *' for 03:00 every day.");
            }
        }
        catch (CronFormatException exception)
        {
            errors.Add($"{Prefix}:ScheduleCron '{cron}' is invalid: {exception.Message} Set five fields (minute hour day-of-month month day-of-week, such as '0 3 * * *') or six with seconds first.");
        }
    }
}

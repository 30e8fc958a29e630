using Dtr.AspNetCore.Configuration;

namespace Dtr.AspNetCore.Webhooks;

/// <summary>Checks <see cref="RegistryWebhookOptions"/> and returns one message per invalid setting.</summary>
internal static class WebhookOptionsValidator
{
    public static IEnumerable<string> Check(RegistryWebhookOptions options)
    {
        const string Prefix = "Registry:Webhooks:";
        if (options.AttemptTimeout < TimeSpan.FromSeconds(1) || options.AttemptTimeout > TimeSpan.FromMinutes(5))
        {
            yield return $"{Prefix}AttemptTimeout is {options.AttemptTimeout}; set a value from 00:00:01 to 00:05:00 (the default is 00:00:10).";
        }

        if (options.AttemptsPerRound is < 1 or > 10)
        {
            yield return $"{Prefix}AttemptsPerRound is {options.AttemptsPerRound}; set a value from 1 to 10 (the default is 3).";
        }

        if (options.RetryDelay < TimeSpan.Zero || options.RetryDelay > TimeSpan.FromMinutes(1))
        {
            yield return $"{Prefix}RetryDelay is {options.RetryDelay}; set a value from 00:00:00 to 00:01:00 (the default is 00:00:02).";
        }

        if (options.RescheduleDelay < TimeSpan.FromSeconds(1) || options.RescheduleDelay > TimeSpan.FromDays(1))
        {
            yield return $"{Prefix}RescheduleDelay is {options.RescheduleDelay}; set a value from 00:00:01 to 1.00:00:00 (the default is 00:01:00).";
        }

        if (options.MaxRescheduleDelay < options.RescheduleDelay || options.MaxRescheduleDelay > TimeSpan.FromDays(1))
        {
            yield return $"{Prefix}MaxRescheduleDelay is {options.MaxRescheduleDelay}; set a value from RescheduleDelay ({options.RescheduleDelay}) to 1.00:00:00 (the default is 01:00:00).";
        }

        if (options.MaxAttempts is < 1 or > 100)
        {
            yield return $"{Prefix}MaxAttempts is {options.MaxAttempts}; set a value from 1 to 100 (the default is 15).";
        }

        if (options.MaxAge < TimeSpan.FromMinutes(1) || options.MaxAge > TimeSpan.FromDays(30))
        {
            yield return $"{Prefix}MaxAge is {options.MaxAge}; set a value from 00:01:00 to 30.00:00:00 (the default is 1.00:00:00).";
        }

        var round = MaxRoundDuration(options);
        if (options.LeaseDuration <= round || options.LeaseDuration > TimeSpan.FromDays(1))
        {
            yield return $"{Prefix}LeaseDuration is {options.LeaseDuration}; set a value above {round} (AttemptsPerRound times AttemptTimeout plus the retry delays) and at most 1.00:00:00 (the default is 00:05:00).";
        }

        if (options.Concurrency is < 1 or > 64)
        {
            yield return $"{Prefix}Concurrency is {options.Concurrency}; set a value from 1 to 64 (the default is 4).";
        }

        if (options.PollInterval < TimeSpan.FromMilliseconds(100) || options.PollInterval > TimeSpan.FromMinutes(5))
        {
            yield return $"{Prefix}PollInterval is {options.PollInterval}; set a value from 00:00:00.1 to 00:05:00 (the default is 00:00:05).";
        }

        if (options.Retention < TimeSpan.FromHours(1) || options.Retention > TimeSpan.FromDays(365))
        {
            yield return $"{Prefix}Retention is {options.Retention}; set a value from 01:00:00 to 365.00:00:00 (the default is 14.00:00:00).";
        }
    }

    /// <summary>
    /// Returns the longest delay before a retry within a round: the last nominal delay, which doubles from
    /// <see cref="RegistryWebhookOptions.RetryDelay"/>, with room for jitter. The retry strategy caps each delay at it.
    /// </summary>
    public static TimeSpan MaxRetryDelay(RegistryWebhookOptions options)
    {
        var attempts = Math.Clamp(options.AttemptsPerRound, 1, 10);
        return attempts < 2 ? TimeSpan.Zero : options.RetryDelay * (1 << (attempts - 2)) * 1.5;
    }

    /// <summary>Returns the longest a round can take: every attempt timing out, and every retry delay at its maximum.</summary>
    public static TimeSpan MaxRoundDuration(RegistryWebhookOptions options)
    {
        var attempts = Math.Clamp(options.AttemptsPerRound, 1, 10);
        return options.AttemptTimeout * attempts + MaxRetryDelay(options) * (attempts - 1);
    }
}

namespace Dtr.Resilience;

/// <summary>
/// Settings of the resilience pipeline that a storage driver or database store wraps around each call to its
/// service: retries with jittered exponential backoff for transient faults, a timeout per attempt, and a circuit
/// breaker that fails calls fast while the service keeps failing.
/// </summary>
public sealed class StorageResilienceOptions
{
    /// <summary>Whether the pipeline runs at all; when false every call is made once, with no timeout or breaker.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Retries after the first attempt for a transient fault; 0 turns retries off. Default 4.</summary>
    public int MaxRetryAttempts { get; set; } = 4;

    /// <summary>Median delay before the first retry; later retries back off exponentially. Default 200 ms.</summary>
    public TimeSpan BaseDelay { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Upper bound of any single retry delay. Default 5 s.</summary>
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Time one attempt may take before it is cancelled and counted as a transient fault; <c>null</c> sets no
    /// timeout. Default 100 s, enough for one multi-megabyte part on a slow link.
    /// </summary>
    public TimeSpan? AttemptTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Whether the circuit breaker runs. Default true.</summary>
    public bool CircuitBreakerEnabled { get; set; } = true;

    /// <summary>Share of failed calls, from 0 to 1, within <see cref="SamplingDuration"/> that opens the circuit. Default 0.5.</summary>
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Calls needed within <see cref="SamplingDuration"/> before the breaker may open. Default 20.</summary>
    public int MinimumThroughput { get; set; } = 20;

    /// <summary>Window over which the breaker counts failures. Default 30 s.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time the circuit stays open, failing calls at once, before it lets a trial call through. Default 15 s.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Returns a list of the settings that are out of range, empty when all are valid.</summary>
    public IReadOnlyList<string> Validate(string sectionName)
    {
        var failures = new List<string>();
        if (MaxRetryAttempts is < 0 or > 20)
        {
            failures.Add($"{sectionName}:MaxRetryAttempts must be between 0 and 20; it is {MaxRetryAttempts}.");
        }

        if (BaseDelay <= TimeSpan.Zero || BaseDelay > MaxDelay)
        {
            failures.Add($"{sectionName}:BaseDelay must be positive and at most MaxDelay ({MaxDelay}); it is {BaseDelay}.");
        }

        if (AttemptTimeout is { } timeout && (timeout < TimeSpan.FromMilliseconds(10) || timeout > TimeSpan.FromHours(24)))
        {
            failures.Add($"{sectionName}:AttemptTimeout must be between 10 ms and 24 h, or empty for none; it is {timeout}.");
        }

        if (FailureRatio is <= 0 or > 1)
        {
            failures.Add($"{sectionName}:FailureRatio must be greater than 0 and at most 1; it is {FailureRatio}.");
        }

        if (MinimumThroughput < 2)
        {
            failures.Add($"{sectionName}:MinimumThroughput must be at least 2; it is {MinimumThroughput}.");
        }

        if (SamplingDuration < TimeSpan.FromMilliseconds(500))
        {
            failures.Add($"{sectionName}:SamplingDuration must be at least 500 ms; it is {SamplingDuration}.");
        }

        if (BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            failures.Add($"{sectionName}:BreakDuration must be at least 500 ms; it is {BreakDuration}.");
        }

        return failures;
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Health;

/// <summary>
/// Logs the results of the readiness endpoint's checks when they change, because orchestrators poll it every few
/// seconds and the same error on every run would flood the log. A check that starts failing, or fails with another
/// description, is logged at Error with its exception. Further failed runs are logged at Debug, and the first run
/// that passes again at Information with the number of failed runs.
/// </summary>
internal sealed class ReadinessStateLog
{
    private readonly Dictionary<string, Failure> _failures = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly ILogger<ReadinessStateLog> _logger;

    public ReadinessStateLog(TimeProvider time, ILogger<ReadinessStateLog> logger)
    {
        _time = time;
        _logger = logger;
    }

    /// <summary>Compares each check of the report with its previous run and logs the changes.</summary>
    public void Record(HealthReport report)
    {
        foreach (var (name, entry) in report.Entries)
        {
            Record(name, entry);
        }
    }

    private void Record(string name, HealthReportEntry entry)
    {
        Failure? previous;
        Failure? current = null;
        lock (_lock)
        {
            _failures.TryGetValue(name, out previous);
            if (entry.Status == HealthStatus.Healthy)
            {
                _failures.Remove(name);
            }
            else
            {
                // A failure with another description keeps the start and count of the run of failures.
                current = previous is null
                    ? new Failure(_time.GetUtcNow(), entry.Description, FailedRuns: 1)
                    : previous with { Description = entry.Description, FailedRuns = previous.FailedRuns + 1 };
                _failures[name] = current;
            }
        }

        if (current is null)
        {
            if (previous is not null)
            {
                HealthLog.CheckRecovered(_logger, name, previous.FailedRuns, previous.Since);
            }
        }
        else if (previous is not null && previous.Description == current.Description)
        {
            HealthLog.CheckStillFailing(_logger, name, current.FailedRuns, current.Since, current.Description);
        }
        else
        {
            HealthLog.CheckFailed(_logger, name, entry.Status.ToString(), entry.Description, entry.Exception);
        }
    }

    /// <summary>A check's current run of failed runs: when it started, the last description and the number of runs.</summary>
    private sealed record Failure(DateTimeOffset Since, string? Description, int FailedRuns);
}

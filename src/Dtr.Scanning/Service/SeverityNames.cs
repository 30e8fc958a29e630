namespace Dtr.Scanning.Service;

/// <summary>The lowercase severity names of the scanning API: critical, high, medium, low and unknown.</summary>
internal static class SeverityNames
{
    /// <summary>Returns the lowercase name of a severity.</summary>
    public static string Format(Severity severity) => severity switch
    {
        Severity.Critical => "critical",
        Severity.High => "high",
        Severity.Medium => "medium",
        Severity.Low => "low",
        _ => "unknown",
    };

    /// <summary>Parses a severity name, ignoring case.</summary>
    public static bool TryParse(string? text, out Severity severity)
    {
        severity = Severity.Unknown;
        switch (text?.Trim().ToLowerInvariant())
        {
            case "critical":
                severity = Severity.Critical;
                return true;
            case "high":
                severity = Severity.High;
                return true;
            case "medium":
                severity = Severity.Medium;
                return true;
            case "low":
                severity = Severity.Low;
                return true;
            case "unknown":
                return true;
            default:
                return false;
        }
    }
}

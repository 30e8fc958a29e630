namespace Dtr.Scanning;

/// <summary>
/// The severity of a vulnerability, from its CVSS base score (Critical 9.0–10.0, High 7.0–8.9, Medium 4.0–6.9,
/// Low 0.1–3.9) or from the severity its database names.
/// </summary>
/// <remarks>The numeric values order the levels, so <c>a &gt;= b</c> means "at least as severe".</remarks>
public enum Severity
{
    /// <summary>The record gives no score or severity.</summary>
    Unknown = 0,

    /// <summary>CVSS 0.1–3.9.</summary>
    Low = 1,

    /// <summary>CVSS 4.0–6.9.</summary>
    Medium = 2,

    /// <summary>CVSS 7.0–8.9.</summary>
    High = 3,

    /// <summary>CVSS 9.0–10.0.</summary>
    Critical = 4,
}

/// <summary>Counts of distinct vulnerabilities found in an image, by severity.</summary>
/// <param name="Critical">Vulnerabilities rated Critical.</param>
/// <param name="High">Vulnerabilities rated High.</param>
/// <param name="Medium">Vulnerabilities rated Medium.</param>
/// <param name="Low">Vulnerabilities rated Low.</param>
/// <param name="Unknown">Vulnerabilities without a rating.</param>
public sealed record ScanSummary(int Critical, int High, int Medium, int Low, int Unknown)
{
    /// <summary>A summary with no vulnerabilities.</summary>
    public static ScanSummary Empty { get; } = new(0, 0, 0, 0, 0);

    /// <summary>The total number of vulnerabilities.</summary>
    public int Total => Critical + High + Medium + Low + Unknown;

    /// <summary>
    /// The count in Docker Trusted Registry's "critical" class, which covered CVSS 7.0 and above: Critical plus High.
    /// </summary>
    public int DtrCritical => Critical + High;

    /// <summary>The count in Docker Trusted Registry's "major" class (CVSS 4.0–6.9): Medium.</summary>
    public int DtrMajor => Medium;

    /// <summary>The count in Docker Trusted Registry's "minor" class (CVSS 0.1–3.9): Low.</summary>
    public int DtrMinor => Low;

    /// <summary>Returns the number of vulnerabilities at or above <paramref name="severity"/>.</summary>
    public int CountAtOrAbove(Severity severity) => severity switch
    {
        Severity.Critical => Critical,
        Severity.High => Critical + High,
        Severity.Medium => Critical + High + Medium,
        Severity.Low => Critical + High + Medium + Low,
        _ => Total,
    };
}

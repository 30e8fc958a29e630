namespace Dtr.Scanning.Vulnerabilities;

/// <summary>
/// Computes CVSS base scores from vectors by the base equations of the FIRST specifications of CVSS v3.1, v3.0 and
/// v2. Temporal and environmental metrics in a vector are accepted and ignored, because only the base score is
/// computed.
/// </summary>
internal static class Cvss
{
    private static readonly string[] V3BaseMetrics = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];

    private static readonly HashSet<string> V3OtherMetrics =
        ["E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA"];

    private static readonly string[] V2BaseMetrics = ["AV", "AC", "Au", "C", "I", "A"];

    private static readonly HashSet<string> V2OtherMetrics = ["E", "RL", "RC", "CDP", "TD", "CR", "IR", "AR"];

    /// <summary>Returns the severity band of a base score: 0 is Unknown, because the record rates no impact.</summary>
    public static Severity SeverityOf(double score) => score switch
    {
        >= 9.0 => Severity.Critical,
        >= 7.0 => Severity.High,
        >= 4.0 => Severity.Medium,
        > 0.0 => Severity.Low,
        _ => Severity.Unknown,
    };

    /// <summary>
    /// Computes the base score of a CVSS v3.0 or v3.1 vector such as <c>CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H</c>.
    /// Returns false when the vector is not a valid v3 vector with every base metric.
    /// </summary>
    public static bool TryComputeV3(string vector, out double score)
    {
        score = 0;
        bool roundV31;
        if (vector.StartsWith("CVSS:3.1/", StringComparison.Ordinal))
        {
            roundV31 = true;
        }
        else if (vector.StartsWith("CVSS:3.0/", StringComparison.Ordinal))
        {
            roundV31 = false;
        }
        else
        {
            return false;
        }

        if (!TryParseMetrics(vector["CVSS:3.x/".Length..], V3BaseMetrics, V3OtherMetrics, out var metrics))
        {
            return false;
        }

        var scopeChanged = metrics["S"] switch
        {
            "U" => false,
            "C" => true,
            _ => (bool?)null,
        };
        double? attackVector = metrics["AV"] switch { "N" => 0.85, "A" => 0.62, "L" => 0.55, "P" => 0.2, _ => null };
        double? attackComplexity = metrics["AC"] switch { "L" => 0.77, "H" => 0.44, _ => null };
        double? userInteraction = metrics["UI"] switch { "N" => 0.85, "R" => 0.62, _ => null };
        double? privileges = metrics["PR"] switch
        {
            "N" => 0.85,
            "L" => scopeChanged == true ? 0.68 : 0.62,
            "H" => scopeChanged == true ? 0.5 : 0.27,
            _ => null,
        };
        var confidentiality = V3Impact(metrics["C"]);
        var integrity = V3Impact(metrics["I"]);
        var availability = V3Impact(metrics["A"]);
        if (scopeChanged is null || attackVector is null || attackComplexity is null || userInteraction is null
            || privileges is null || confidentiality is null || integrity is null || availability is null)
        {
            return false;
        }

        // Impact sub-score: ISS = 1 - (1 - C)(1 - I)(1 - A), then the scope-dependent impact formula.
        var iss = 1 - ((1 - confidentiality.Value) * (1 - integrity.Value) * (1 - availability.Value));
        var impact = scopeChanged.Value
            ? (7.52 * (iss - 0.029)) - (3.25 * Math.Pow(iss - 0.02, 15))
            : 6.42 * iss;
        var exploitability = 8.22 * attackVector.Value * attackComplexity.Value * privileges.Value * userInteraction.Value;

        if (impact <= 0)
        {
            score = 0;
            return true;
        }

        var sum = scopeChanged.Value ? 1.08 * (impact + exploitability) : impact + exploitability;
        score = roundV31 ? RoundUpV31(Math.Min(sum, 10)) : RoundUpV30(Math.Min(sum, 10));
        return true;
    }

    /// <summary>
    /// Computes the base score of a CVSS v2 vector such as <c>AV:N/AC:L/Au:N/C:P/I:P/A:P</c>, optionally in
    /// parentheses or after <c>CVSS:2.0/</c>. Returns false when it is not a valid v2 vector with every base metric.
    /// </summary>
    public static bool TryComputeV2(string vector, out double score)
    {
        score = 0;
        var text = vector.Trim();
        if (text.StartsWith('(') && text.EndsWith(')'))
        {
            text = text[1..^1];
        }

        if (text.StartsWith("CVSS:2.0/", StringComparison.Ordinal))
        {
            text = text["CVSS:2.0/".Length..];
        }

        if (!TryParseMetrics(text, V2BaseMetrics, V2OtherMetrics, out var metrics))
        {
            return false;
        }

        double? accessVector = metrics["AV"] switch { "L" => 0.395, "A" => 0.646, "N" => 1.0, _ => null };
        double? accessComplexity = metrics["AC"] switch { "H" => 0.35, "M" => 0.61, "L" => 0.71, _ => null };
        double? authentication = metrics["Au"] switch { "M" => 0.45, "S" => 0.56, "N" => 0.704, _ => null };
        var confidentiality = V2Impact(metrics["C"]);
        var integrity = V2Impact(metrics["I"]);
        var availability = V2Impact(metrics["A"]);
        if (accessVector is null || accessComplexity is null || authentication is null
            || confidentiality is null || integrity is null || availability is null)
        {
            return false;
        }

        var impact = 10.41 * (1 - ((1 - confidentiality.Value) * (1 - integrity.Value) * (1 - availability.Value)));
        var exploitability = 20 * accessVector.Value * accessComplexity.Value * authentication.Value;
        var impactFactor = impact == 0 ? 0 : 1.176;
        var baseScore = ((0.6 * impact) + (0.4 * exploitability) - 1.5) * impactFactor;

        // The v2 guide rounds to one decimal. The small offset keeps a midpoint such as 6.45 that floating point
        // computes as 6.4499999 from rounding down.
        score = Math.Round(baseScore + 1e-9, 1, MidpointRounding.AwayFromZero);
        return true;
    }

    private static double? V3Impact(string value) => value switch { "H" => 0.56, "L" => 0.22, "N" => 0.0, _ => null };

    private static double? V2Impact(string value) => value switch { "N" => 0.0, "P" => 0.275, "C" => 0.660, _ => null };

    /// <summary>
    /// Rounds up to one decimal as the CVSS v3.1 specification defines it: on an integer of hundred-thousandths, so
    /// that floating-point noise such as 4.000000000000001 does not round up to 4.1.
    /// </summary>
    private static double RoundUpV31(double value)
    {
        var scaled = (long)Math.Round(value * 100_000);
        return scaled % 10_000 == 0 ? scaled / 100_000.0 : (Math.Floor(scaled / 10_000.0) + 1) / 10.0;
    }

    /// <summary>Rounds up to one decimal as CVSS v3.0 defines it (the smallest one-decimal number not below the value).</summary>
    private static double RoundUpV30(double value) => Math.Ceiling(value * 10) / 10;

    private static bool TryParseMetrics(
        string text,
        string[] baseMetrics,
        HashSet<string> otherMetrics,
        out Dictionary<string, string> metrics)
    {
        metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var part in text.Split('/'))
        {
            var separator = part.IndexOf(':', StringComparison.Ordinal);
            if (separator <= 0 || separator == part.Length - 1)
            {
                return false;
            }

            var name = part[..separator];
            if (!baseMetrics.Contains(name) && !otherMetrics.Contains(name))
            {
                return false;
            }

            if (!metrics.TryAdd(name, part[(separator + 1)..]))
            {
                return false;
            }
        }

        return baseMetrics.All(metrics.ContainsKey);
    }
}

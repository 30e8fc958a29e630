namespace Dtr.Scanning.Vulnerabilities;

/// <summary>
/// Computes CVSS v4.0 scores from vectors as the FIRST CVSS v4.0 specification defines them. The vector's
/// MacroVector (its six equivalence classes EQ1 to EQ6) gives a score from the specification's lookup table. That
/// score is then lowered by the vector's mean severity distance from the highest vectors of the MacroVector.
/// </summary>
/// <remarks>
/// Threat and environmental metrics take part as the specification defines, so a vector with them gives a CVSS-BT,
/// CVSS-BE or CVSS-BTE score. The lookup table, the highest vectors and the MacroVector depths are the
/// specification's data, as published with FIRST's reference calculator.
/// </remarks>
internal static class CvssV4
{
    private static readonly string[] BaseMetrics = ["AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA"];

    private static readonly Dictionary<string, string[]> AllowedValues = new(StringComparer.Ordinal)
    {
        ["AV"] = ["N", "A", "L", "P"],
        ["AC"] = ["L", "H"],
        ["AT"] = ["N", "P"],
        ["PR"] = ["N", "L", "H"],
        ["UI"] = ["N", "P", "A"],
        ["VC"] = ["H", "L", "N"],
        ["VI"] = ["H", "L", "N"],
        ["VA"] = ["H", "L", "N"],
        ["SC"] = ["H", "L", "N"],
        ["SI"] = ["H", "L", "N"],
        ["SA"] = ["H", "L", "N"],
        ["E"] = ["X", "A", "P", "U"],
        ["CR"] = ["X", "H", "M", "L"],
        ["IR"] = ["X", "H", "M", "L"],
        ["AR"] = ["X", "H", "M", "L"],
        ["MAV"] = ["X", "N", "A", "L", "P"],
        ["MAC"] = ["X", "L", "H"],
        ["MAT"] = ["X", "N", "P"],
        ["MPR"] = ["X", "N", "L", "H"],
        ["MUI"] = ["X", "N", "P", "A"],
        ["MVC"] = ["X", "H", "L", "N"],
        ["MVI"] = ["X", "H", "L", "N"],
        ["MVA"] = ["X", "H", "L", "N"],
        ["MSC"] = ["X", "H", "L", "N"],
        ["MSI"] = ["X", "S", "H", "L", "N"],
        ["MSA"] = ["X", "S", "H", "L", "N"],
        ["S"] = ["X", "N", "P"],
        ["AU"] = ["X", "N", "Y"],
        ["R"] = ["X", "A", "U", "I"],
        ["V"] = ["X", "D", "C"],
        ["RE"] = ["X", "L", "M", "H"],
        ["U"] = ["X", "Clear", "Green", "Amber", "Red"],
    };

    /// <summary>
    /// Scores of every MacroVector, keyed by EQ1, EQ2 and EQ3. Each row lists EQ4 from 0 to 2, within it EQ5 from 0
    /// to 2, and within that EQ6 from 0 to 1 (only 1 when EQ3 is 2, because EQ3 2 with EQ6 0 cannot occur).
    /// </summary>
    private static readonly Dictionary<string, string> ScoreRows = new(StringComparer.Ordinal)
    {
        ["000"] = "10.0 9.9 9.8 9.5 9.5 9.2 10.0 9.6 9.3 8.7 9.1 8.1 9.3 9.0 8.9 8.0 8.1 6.8",
        ["001"] = "9.8 9.5 9.5 9.2 9.0 8.4 9.3 9.2 8.9 8.1 8.1 6.5 8.8 8.0 7.8 7.0 6.9 4.8",
        ["002"] = "9.2 8.2 7.2 7.9 6.9 5.0 6.9 5.5 2.7",
        ["010"] = "9.9 9.7 9.5 9.2 9.2 8.5 9.5 9.1 9.0 8.3 8.4 7.1 9.2 8.1 8.2 7.1 7.2 5.3",
        ["011"] = "9.5 9.3 9.2 8.5 8.5 7.3 9.2 8.2 8.0 7.2 7.0 5.9 8.4 7.0 7.1 5.2 5.0 3.0",
        ["012"] = "8.6 7.5 5.2 7.1 5.2 2.9 6.3 2.9 1.7",
        ["100"] = "9.8 9.5 9.4 8.7 9.1 8.1 9.4 8.9 8.6 7.4 7.7 6.4 8.7 7.5 7.4 6.3 6.3 4.9",
        ["101"] = "9.4 8.9 8.8 7.7 7.6 6.7 8.6 7.6 7.4 5.8 5.9 5.0 7.2 5.7 5.7 5.2 5.2 2.5",
        ["102"] = "8.3 7.0 5.4 6.5 5.8 2.6 5.3 2.1 1.3",
        ["110"] = "9.5 9.0 8.8 7.6 7.6 7.0 9.0 7.7 7.5 6.2 6.1 5.3 7.7 6.6 6.8 5.9 5.2 3.0",
        ["111"] = "8.9 7.8 7.6 6.7 6.2 5.8 7.4 5.9 5.7 5.7 4.7 2.3 6.1 5.2 5.7 2.9 2.4 1.6",
        ["112"] = "7.1 5.9 3.0 5.8 2.6 1.5 2.3 1.3 0.6",
        ["200"] = "9.3 8.7 8.6 7.2 7.5 5.8 8.6 7.4 7.4 6.1 5.6 3.4 7.0 5.4 5.2 4.0 4.0 2.2",
        ["201"] = "8.5 7.5 7.4 5.5 6.2 5.1 7.2 5.7 5.5 4.1 4.6 1.9 5.3 3.6 3.4 1.9 1.9 0.8",
        ["202"] = "6.4 5.1 2.0 4.7 2.1 1.1 2.4 0.9 0.4",
        ["210"] = "8.8 7.5 7.3 5.3 6.0 5.0 7.3 5.5 5.9 4.0 4.1 2.0 5.4 4.3 4.5 2.2 2.0 1.1",
        ["211"] = "7.5 5.5 5.8 4.5 4.0 2.1 6.1 5.1 4.8 1.8 2.0 0.9 4.6 1.8 1.7 0.7 0.8 0.2",
        ["212"] = "5.3 2.4 1.4 2.4 1.2 0.5 1.0 0.3 0.1",
    };

    private static readonly Dictionary<string, double> MacroVectorScores = BuildScores();

    // The highest-severity vectors of each EQ level, which a vector's severity distance is measured from.
    private static readonly string[][] Eq1Maxima = [["AV:N/PR:N/UI:N"], ["AV:A/PR:N/UI:N", "AV:N/PR:L/UI:N", "AV:N/PR:N/UI:P"], ["AV:P/PR:N/UI:N", "AV:A/PR:L/UI:P"]];
    private static readonly string[][] Eq2Maxima = [["AC:L/AT:N"], ["AC:H/AT:N", "AC:L/AT:P"]];
    private static readonly string[][] Eq4Maxima = [["SC:H/SI:S/SA:S"], ["SC:H/SI:H/SA:H"], ["SC:L/SI:L/SA:L"]];
    private static readonly string[][] Eq5Maxima = [["E:A"], ["E:P"], ["E:U"]];

    private static readonly Dictionary<(int Eq3, int Eq6), string[]> Eq3Eq6Maxima = new()
    {
        [(0, 0)] = ["VC:H/VI:H/VA:H/CR:H/IR:H/AR:H"],
        [(0, 1)] = ["VC:H/VI:H/VA:L/CR:M/IR:M/AR:H", "VC:H/VI:H/VA:H/CR:M/IR:M/AR:M"],
        [(1, 0)] = ["VC:L/VI:H/VA:H/CR:H/IR:H/AR:H", "VC:H/VI:L/VA:H/CR:H/IR:H/AR:H"],
        [(1, 1)] = ["VC:L/VI:H/VA:L/CR:H/IR:M/AR:H", "VC:L/VI:H/VA:H/CR:H/IR:M/AR:M", "VC:H/VI:L/VA:H/CR:M/IR:H/AR:M", "VC:H/VI:L/VA:L/CR:M/IR:H/AR:H", "VC:L/VI:L/VA:H/CR:H/IR:H/AR:M"],
        [(2, 1)] = ["VC:L/VI:L/VA:L/CR:H/IR:H/AR:H"],
    };

    // The depth of each EQ level in severity steps, plus one: a vector's distance is divided by it.
    private static readonly int[] Eq1Depth = [1, 4, 5];
    private static readonly int[] Eq2Depth = [1, 2];
    private static readonly int[] Eq4Depth = [6, 5, 4];

    private static readonly Dictionary<(int Eq3, int Eq6), int> Eq3Eq6Depth = new()
    {
        [(0, 0)] = 7,
        [(0, 1)] = 6,
        [(1, 0)] = 8,
        [(1, 1)] = 8,
        [(2, 1)] = 10,
    };

    // Severity levels of each metric value, in tenths: 0 is the most severe.
    private static readonly Dictionary<string, Dictionary<string, double>> Levels = new(StringComparer.Ordinal)
    {
        ["AV"] = new() { ["N"] = 0.0, ["A"] = 0.1, ["L"] = 0.2, ["P"] = 0.3 },
        ["PR"] = new() { ["N"] = 0.0, ["L"] = 0.1, ["H"] = 0.2 },
        ["UI"] = new() { ["N"] = 0.0, ["P"] = 0.1, ["A"] = 0.2 },
        ["AC"] = new() { ["L"] = 0.0, ["H"] = 0.1 },
        ["AT"] = new() { ["N"] = 0.0, ["P"] = 0.1 },
        ["VC"] = new() { ["H"] = 0.0, ["L"] = 0.1, ["N"] = 0.2 },
        ["VI"] = new() { ["H"] = 0.0, ["L"] = 0.1, ["N"] = 0.2 },
        ["VA"] = new() { ["H"] = 0.0, ["L"] = 0.1, ["N"] = 0.2 },
        ["SC"] = new() { ["H"] = 0.1, ["L"] = 0.2, ["N"] = 0.3 },
        ["SI"] = new() { ["S"] = 0.0, ["H"] = 0.1, ["L"] = 0.2, ["N"] = 0.3 },
        ["SA"] = new() { ["S"] = 0.0, ["H"] = 0.1, ["L"] = 0.2, ["N"] = 0.3 },
        ["CR"] = new() { ["H"] = 0.0, ["M"] = 0.1, ["L"] = 0.2 },
        ["IR"] = new() { ["H"] = 0.0, ["M"] = 0.1, ["L"] = 0.2 },
        ["AR"] = new() { ["H"] = 0.0, ["M"] = 0.1, ["L"] = 0.2 },
    };

    /// <summary>
    /// Computes the score of a CVSS v4.0 vector such as <c>CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N</c>.
    /// Returns false when the vector is not a valid v4.0 vector with every base metric.
    /// </summary>
    public static bool TryCompute(string vector, out double score)
    {
        score = 0;
        if (!TryParse(vector, out var metrics))
        {
            return false;
        }

        string Effective(string metric) => EffectiveValue(metrics, metric);

        // 1. A vector with no impact on any system scores 0.
        if (new[] { "VC", "VI", "VA", "SC", "SI", "SA" }.All(metric => Effective(metric) == "N"))
        {
            return true;
        }

        // 2. The MacroVector and its score.
        var eq1 = Effective("AV") == "N" && Effective("PR") == "N" && Effective("UI") == "N" ? 0
            : (Effective("AV") == "N" || Effective("PR") == "N" || Effective("UI") == "N") && Effective("AV") != "P" ? 1
            : 2;
        var eq2 = Effective("AC") == "L" && Effective("AT") == "N" ? 0 : 1;
        var eq3 = Effective("VC") == "H" && Effective("VI") == "H" ? 0
            : Effective("VC") == "H" || Effective("VI") == "H" || Effective("VA") == "H" ? 1
            : 2;
        var eq4 = Effective("MSI") == "S" || Effective("MSA") == "S" ? 0
            : Effective("SC") == "H" || Effective("SI") == "H" || Effective("SA") == "H" ? 1
            : 2;
        var eq5 = Effective("E") switch { "A" => 0, "P" => 1, _ => 2 };
        var eq6 = (Effective("CR") == "H" && Effective("VC") == "H")
            || (Effective("IR") == "H" && Effective("VI") == "H")
            || (Effective("AR") == "H" && Effective("VA") == "H") ? 0 : 1;

        var value = MacroVectorScores[Key(eq1, eq2, eq3, eq4, eq5, eq6)];

        // 3. The score of the next lower MacroVector along each EQ, or null where there is none. EQ3 and EQ6 move
        //    together. From 00 either may step, and the higher of the two scores is taken.
        var lowerEq1 = Score(eq1 + 1, eq2, eq3, eq4, eq5, eq6);
        var lowerEq2 = Score(eq1, eq2 + 1, eq3, eq4, eq5, eq6);
        var lowerEq3Eq6 = (eq3, eq6) switch
        {
            (0, 0) => Max(Score(eq1, eq2, eq3, eq4, eq5, eq6 + 1), Score(eq1, eq2, eq3 + 1, eq4, eq5, eq6)),
            (1, 0) => Score(eq1, eq2, eq3, eq4, eq5, eq6 + 1),
            (0, 1) or (1, 1) => Score(eq1, eq2, eq3 + 1, eq4, eq5, eq6),
            _ => null,
        };
        var lowerEq4 = Score(eq1, eq2, eq3, eq4 + 1, eq5, eq6);
        var lowerEq5 = Score(eq1, eq2, eq3, eq4, eq5 + 1, eq6);

        // 4. The severity distance of the vector from the first highest vector of its MacroVector that is at least
        //    as severe in every metric. The last candidate is used when none is.
        var distances = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var maximum in HighestVectors(eq1, eq2, eq3, eq4, eq5, eq6))
        {
            distances.Clear();
            foreach (var (metric, levels) in Levels)
            {
                distances[metric] = levels[Effective(metric)] - levels[maximum[metric]];
            }

            if (distances.Values.All(distance => distance >= 0))
            {
                break;
            }
        }

        var distanceEq1 = distances["AV"] + distances["PR"] + distances["UI"];
        var distanceEq2 = distances["AC"] + distances["AT"];
        var distanceEq3Eq6 = distances["VC"] + distances["VI"] + distances["VA"] + distances["CR"] + distances["IR"] + distances["AR"];
        var distanceEq4 = distances["SC"] + distances["SI"] + distances["SA"];

        // 5. Each EQ with a lower MacroVector contributes the score gap to it, scaled by the vector's distance over
        //    the level's depth. EQ5 always contributes 0 but counts. The score drops by the mean contribution.
        const double step = 0.1;
        var contributions = new List<double>();
        AddContribution(contributions, value, lowerEq1, distanceEq1, Eq1Depth[eq1] * step);
        AddContribution(contributions, value, lowerEq2, distanceEq2, Eq2Depth[eq2] * step);
        AddContribution(contributions, value, lowerEq3Eq6, distanceEq3Eq6, Eq3Eq6Depth[(eq3, eq6)] * step);
        AddContribution(contributions, value, lowerEq4, distanceEq4, Eq4Depth[eq4] * step);
        AddContribution(contributions, value, lowerEq5, 0, 1);

        var mean = contributions.Count == 0 ? 0 : contributions.Sum() / contributions.Count;
        score = Math.Round(Math.Clamp(value - mean, 0, 10), 1, MidpointRounding.AwayFromZero);
        return true;
    }

    private static void AddContribution(List<double> contributions, double value, double? lower, double distance, double depth)
    {
        if (lower is { } lowerScore)
        {
            contributions.Add((value - lowerScore) * (distance / depth));
        }
    }

    private static IEnumerable<Dictionary<string, string>> HighestVectors(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6)
    {
        foreach (var part1 in Eq1Maxima[eq1])
        {
            foreach (var part2 in Eq2Maxima[eq2])
            {
                foreach (var part3 in Eq3Eq6Maxima[(eq3, eq6)])
                {
                    foreach (var part4 in Eq4Maxima[eq4])
                    {
                        foreach (var part5 in Eq5Maxima[eq5])
                        {
                            yield return $"{part1}/{part2}/{part3}/{part4}/{part5}"
                                .Split('/')
                                .Select(part => part.Split(':'))
                                .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Returns the value a metric takes part in scoring with: a modified (environmental) value overrides the base one,
    /// and an absent or X threat or security requirement counts as its most severe value (E:A, CR:H, IR:H, AR:H).
    /// </summary>
    private static string EffectiveValue(Dictionary<string, string> metrics, string metric)
    {
        if (metrics.TryGetValue("M" + metric, out var modified) && modified != "X")
        {
            return modified;
        }

        var value = metrics.GetValueOrDefault(metric, "X");
        return (metric, value) switch
        {
            ("E", "X") => "A",
            ("CR" or "IR" or "AR", "X") => "H",
            _ => value,
        };
    }

    private static bool TryParse(string vector, out Dictionary<string, string> metrics)
    {
        metrics = new Dictionary<string, string>(StringComparer.Ordinal);
        const string prefix = "CVSS:4.0/";
        if (!vector.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var part in vector[prefix.Length..].Split('/'))
        {
            var separator = part.IndexOf(':', StringComparison.Ordinal);
            if (separator <= 0)
            {
                return false;
            }

            var name = part[..separator];
            var value = part[(separator + 1)..];
            if (!AllowedValues.TryGetValue(name, out var allowed) || !allowed.Contains(value) || !metrics.TryAdd(name, value))
            {
                return false;
            }
        }

        return BaseMetrics.All(metrics.ContainsKey);
    }

    private static double? Score(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) =>
        MacroVectorScores.TryGetValue(Key(eq1, eq2, eq3, eq4, eq5, eq6), out var score) ? score : null;

    private static double? Max(double? left, double? right)
    {
        if (left is null)
        {
            return right;
        }

        return right is null ? left : Math.Max(left.Value, right.Value);
    }

    private static string Key(int eq1, int eq2, int eq3, int eq4, int eq5, int eq6) => $"{eq1}{eq2}{eq3}{eq4}{eq5}{eq6}";

    private static Dictionary<string, double> BuildScores()
    {
        var scores = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var (prefix, row) in ScoreRows)
        {
            var values = row.Split(' ');
            var eq6Values = prefix[2] == '2' ? new[] { 1 } : [0, 1];
            var index = 0;
            for (var eq4 = 0; eq4 <= 2; eq4++)
            {
                for (var eq5 = 0; eq5 <= 2; eq5++)
                {
                    foreach (var eq6 in eq6Values)
                    {
                        scores[$"{prefix}{eq4}{eq5}{eq6}"] = double.Parse(values[index++], System.Globalization.CultureInfo.InvariantCulture);
                    }
                }
            }
        }

        return scores;
    }
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace Dtr.Scanning.Versioning;

/// <summary>
/// Compares Alpine Linux package versions by apk-tools' ordering.
/// </summary>
/// <remarks>
/// A version is <c>digits{.digits}[letter]{_suffix[digits]}[-rN]</c>, for example <c>1.2.3a_rc1-r4</c>. Suffixes
/// sort <c>_alpha &lt; _beta &lt; _pre &lt; _rc &lt;</c> (none) <c>&lt; _cvs &lt; _svn &lt; _git &lt; _hg &lt; _p</c>.
/// A numeric part after a dot that starts with zeros sorts before one that does not, as in apk-tools, so
/// <c>1.01 &lt; 1.1</c>.
/// </remarks>
public sealed partial class ApkVersionComparer : VersionComparerBase<ApkVersionComparer.ApkToken[]>
{
    // Suffixes in ascending order. Those before "cvs" are pre-releases and sort before the version without a suffix.
    private static readonly string[] Suffixes = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
    private const int PreReleaseSuffixCount = 4;

    /// <summary>Shared instance; the comparer has no state.</summary>
    public static ApkVersionComparer Instance { get; } = new();

    private ApkVersionComparer()
    {
    }

    /// <summary>Kind of an <see cref="ApkToken"/>, in the order apk-tools ranks a version's next token when the tokens so far are equal.</summary>
    public enum ApkTokenKind
    {
        /// <summary>Numeric part after a dot.</summary>
        DigitAfterDot,

        /// <summary>First numeric part, or the digits after a dotted part's leading zeros.</summary>
        Digit,

        /// <summary>Single lowercase letter after the numeric parts.</summary>
        Letter,

        /// <summary>Suffix name such as <c>_rc</c>.</summary>
        Suffix,

        /// <summary>Number after a suffix name.</summary>
        SuffixNumber,

        /// <summary>Package revision after <c>-r</c>.</summary>
        Revision,

        /// <summary>End of the version.</summary>
        End,
    }

    /// <summary>One token of a parsed apk version.</summary>
    /// <param name="Kind">Token kind.</param>
    /// <param name="Value">Numeric value, letter code, or suffix rank (negative for pre-release suffixes).</param>
    public readonly record struct ApkToken(ApkTokenKind Kind, long Value);

    /// <inheritdoc />
    public override PackageEcosystem Ecosystem => PackageEcosystem.Apk;

    [GeneratedRegex(@"^(?<first>[0-9]+)(?:\.(?<dotted>[0-9]+))*(?<letter>[a-z])?(?:_(?<suffix>alpha|beta|pre|rc|cvs|svn|git|hg|p)(?<suffixNumber>[0-9]*))*(?:-r(?<revision>[0-9]+))?$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionPattern();

    /// <inheritdoc />
    protected override bool TryParse(string version, out ApkToken[] parsed, out string? error)
    {
        parsed = [];
        var match = VersionPattern().Match(version);
        if (!match.Success)
        {
            error = "expected digits{.digits}[letter]{_suffix[digits]}[-rN], such as 1.2.3_rc1-r0, with suffix alpha, beta, pre, rc, cvs, svn, git, hg or p";
            return false;
        }

        var tokens = new List<ApkToken>();
        if (!TryAddNumber(tokens, ApkTokenKind.Digit, match.Groups["first"].Value, out error))
        {
            return false;
        }

        foreach (Capture dotted in match.Groups["dotted"].Captures)
        {
            // Leading zeros become their own token with value -count, so "1.01" sorts before "1.1" and "1.001" before "1.01".
            var text = dotted.Value;
            var zeros = text.Length - text.TrimStart('0').Length;
            if (zeros == 0)
            {
                if (!TryAddNumber(tokens, ApkTokenKind.DigitAfterDot, text, out error))
                {
                    return false;
                }

                continue;
            }

            tokens.Add(new ApkToken(ApkTokenKind.DigitAfterDot, -zeros));
            if (zeros < text.Length && !TryAddNumber(tokens, ApkTokenKind.Digit, text[zeros..], out error))
            {
                return false;
            }
        }

        if (match.Groups["letter"].Success)
        {
            tokens.Add(new ApkToken(ApkTokenKind.Letter, match.Groups["letter"].Value[0]));
        }

        var suffixes = match.Groups["suffix"].Captures;
        var suffixNumbers = match.Groups["suffixNumber"].Captures;
        for (var k = 0; k < suffixes.Count; k++)
        {
            var rank = Array.IndexOf(Suffixes, suffixes[k].Value) - PreReleaseSuffixCount;
            tokens.Add(new ApkToken(ApkTokenKind.Suffix, rank));
            if (suffixNumbers[k].Length > 0 && !TryAddNumber(tokens, ApkTokenKind.SuffixNumber, suffixNumbers[k].Value, out error))
            {
                return false;
            }
        }

        if (match.Groups["revision"].Success && !TryAddNumber(tokens, ApkTokenKind.Revision, match.Groups["revision"].Value, out error))
        {
            return false;
        }

        tokens.Add(new ApkToken(ApkTokenKind.End, 0));
        parsed = [.. tokens];
        error = null;
        return true;
    }

    /// <inheritdoc />
    protected override int CompareParsed(ApkToken[] left, ApkToken[] right)
    {
        // Both arrays end with an End token, so the index stays in range.
        var index = 0;
        while (left[index].Kind == right[index].Kind && left[index].Kind != ApkTokenKind.End)
        {
            var result = left[index].Value.CompareTo(right[index].Value);
            if (result != 0)
            {
                return result;
            }

            index++;
        }

        var leftKind = left[index].Kind;
        var rightKind = right[index].Kind;
        if (leftKind == rightKind)
        {
            return 0;
        }

        // Where one version goes on, it is newer, unless it goes on with a pre-release suffix.
        if (leftKind == ApkTokenKind.Suffix && left[index].Value < 0)
        {
            return -1;
        }

        if (rightKind == ApkTokenKind.Suffix && right[index].Value < 0)
        {
            return 1;
        }

        return rightKind.CompareTo(leftKind);
    }

    private static bool TryAddNumber(List<ApkToken> tokens, ApkTokenKind kind, string digits, out string? error)
    {
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
        {
            error = $"the number {digits} is larger than {long.MaxValue}";
            return false;
        }

        tokens.Add(new ApkToken(kind, value));
        error = null;
        return true;
    }
}

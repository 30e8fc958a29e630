using System.Globalization;

namespace Dtr.Scanning.Versioning;

/// <summary>
/// Compares RPM package versions (<c>[epoch:]version[-release]</c>) by rpmvercmp, the algorithm of rpm 4.15 and later.
/// </summary>
/// <remarks>
/// Epochs compare as numbers, with a missing epoch equal to 0. The version and then the release are split into
/// runs of digits and runs of letters. Other characters only separate runs. Digit runs compare as numbers and sort
/// after letter runs. <c>~</c> sorts before everything, even the end, so <c>1.0~rc1 &lt; 1.0</c>. <c>^</c> sorts
/// after the end but before any further run, so <c>1.0 &lt; 1.0^post &lt; 1.0.1</c>. A missing release compares
/// like an empty one, so <c>1.0 &lt; 1.0-1</c>.
/// </remarks>
public sealed class RpmVersionComparer : VersionComparerBase<RpmVersionComparer.RpmVersion>
{
    /// <summary>Shared instance; the comparer has no state.</summary>
    public static RpmVersionComparer Instance { get; } = new();

    private RpmVersionComparer()
    {
    }

    /// <summary>Parsed RPM version.</summary>
    /// <param name="Epoch">Epoch, 0 when the version has none.</param>
    /// <param name="Version">Version.</param>
    /// <param name="Release">Release, empty when the version has none.</param>
    public readonly record struct RpmVersion(long Epoch, string Version, string Release);

    /// <inheritdoc />
    public override PackageEcosystem Ecosystem => PackageEcosystem.Rpm;

    /// <inheritdoc />
    protected override bool TryParse(string version, out RpmVersion parsed, out string? error)
    {
        parsed = default;
        if (version.Length == 0)
        {
            error = "the version is empty";
            return false;
        }

        long epoch = 0;
        var rest = version;
        var colon = version.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            var epochText = version[..colon];
            if (epochText.Length == 0 || !epochText.All(char.IsAsciiDigit))
            {
                error = "the epoch before ':' must be a non-negative integer";
                return false;
            }

            if (!long.TryParse(epochText, NumberStyles.None, CultureInfo.InvariantCulture, out epoch))
            {
                error = $"the epoch is larger than {long.MaxValue}";
                return false;
            }

            rest = version[(colon + 1)..];
        }

        var versionPart = rest;
        var release = string.Empty;
        var hyphen = rest.LastIndexOf('-');
        if (hyphen >= 0)
        {
            versionPart = rest[..hyphen];
            release = rest[(hyphen + 1)..];
            if (release.Length == 0)
            {
                error = "the release after the last '-' is empty";
                return false;
            }
        }

        if (versionPart.Length == 0)
        {
            error = "the version is empty";
            return false;
        }

        // rpm forbids '-' in Version and Release, so a second hyphen is reported here as an invalid character.
        if (!TryCheckCharacters(versionPart, "version", out error) || !TryCheckCharacters(release, "release", out error))
        {
            return false;
        }

        parsed = new RpmVersion(epoch, versionPart, release);
        return true;
    }

    /// <inheritdoc />
    protected override int CompareParsed(RpmVersion left, RpmVersion right)
    {
        var result = left.Epoch.CompareTo(right.Epoch);
        if (result != 0)
        {
            return result;
        }

        result = CompareSegments(left.Version, right.Version);
        return result != 0 ? result : CompareSegments(left.Release, right.Release);
    }

    /// <summary>
    /// Compares a version or release by rpmvercmp.
    /// </summary>
    internal static int CompareSegments(string left, string right)
    {
        if (string.Equals(left, right, StringComparison.Ordinal))
        {
            return 0;
        }

        var i = 0;
        var j = 0;
        while (i < left.Length || j < right.Length)
        {
            i = SkipSeparators(left, i);
            j = SkipSeparators(right, j);

            var leftChar = i < left.Length ? left[i] : '\0';
            var rightChar = j < right.Length ? right[j] : '\0';

            // A tilde sorts before anything, including the end of the string.
            if (leftChar == '~' || rightChar == '~')
            {
                if (leftChar != '~')
                {
                    return 1;
                }

                if (rightChar != '~')
                {
                    return -1;
                }

                i++;
                j++;
                continue;
            }

            // A caret sorts after the end of the string but before any other run.
            if (leftChar == '^' || rightChar == '^')
            {
                if (leftChar == '\0')
                {
                    return -1;
                }

                if (rightChar == '\0')
                {
                    return 1;
                }

                if (leftChar != '^')
                {
                    return 1;
                }

                if (rightChar != '^')
                {
                    return -1;
                }

                i++;
                j++;
                continue;
            }

            if (leftChar == '\0' || rightChar == '\0')
            {
                break;
            }

            // The left run decides whether both runs are read as digits or as letters.
            var isNumeric = char.IsAsciiDigit(leftChar);
            var leftEnd = EndOfRun(left, i, isNumeric);
            var rightEnd = EndOfRun(right, j, isNumeric);

            // The right string has a run of the other type here, and a numeric run is newer than a letter run.
            if (rightEnd == j)
            {
                return isNumeric ? 1 : -1;
            }

            var leftRun = left.AsSpan(i, leftEnd - i);
            var rightRun = right.AsSpan(j, rightEnd - j);
            if (isNumeric)
            {
                leftRun = leftRun.TrimStart('0');
                rightRun = rightRun.TrimStart('0');
                if (leftRun.Length != rightRun.Length)
                {
                    return leftRun.Length.CompareTo(rightRun.Length);
                }
            }

            var result = leftRun.SequenceCompareTo(rightRun);
            if (result != 0)
            {
                return result;
            }

            i = leftEnd;
            j = rightEnd;
        }

        // Whichever string still has a run left is newer.
        var leftDone = i >= left.Length;
        var rightDone = j >= right.Length;
        if (leftDone && rightDone)
        {
            return 0;
        }

        return leftDone ? -1 : 1;
    }

    private static int SkipSeparators(string text, int index)
    {
        while (index < text.Length && !char.IsAsciiLetterOrDigit(text[index]) && text[index] is not ('~' or '^'))
        {
            index++;
        }

        return index;
    }

    private static int EndOfRun(string text, int index, bool numeric)
    {
        while (index < text.Length && (numeric ? char.IsAsciiDigit(text[index]) : char.IsAsciiLetter(text[index])))
        {
            index++;
        }

        return index;
    }

    private static bool TryCheckCharacters(string text, string partName, out string? error)
    {
        foreach (var c in text)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '_' or '+' or '~' or '^'))
            {
                error = $"the {partName} contains the invalid character '{c}'. Only ASCII letters, digits and . _ + ~ ^ are allowed";
                return false;
            }
        }

        error = null;
        return true;
    }
}

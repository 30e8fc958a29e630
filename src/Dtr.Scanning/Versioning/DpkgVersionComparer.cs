namespace Dtr.Scanning.Versioning;

/// <summary>
/// Compares Debian package versions (<c>[epoch:]upstream_version[-debian_revision]</c>) by the ordering in
/// Debian Policy section 5.6.12, which dpkg implements.
/// </summary>
/// <remarks>
/// Each part is compared as alternating non-digit and digit runs. In non-digit runs <c>~</c> sorts before
/// everything, even the end of the part, and letters sort before all other characters. Digit runs compare as
/// numbers, so leading zeros are ignored. A missing revision compares like an empty one, so <c>1.0</c> equals <c>1.0-0</c>.
/// </remarks>
public sealed class DpkgVersionComparer : VersionComparerBase<DpkgVersionComparer.DpkgVersion>
{
    /// <summary>Shared instance; the comparer has no state.</summary>
    public static DpkgVersionComparer Instance { get; } = new();

    private DpkgVersionComparer()
    {
    }

    /// <summary>Parsed Debian version.</summary>
    /// <param name="Epoch">Epoch, 0 when the version has none.</param>
    /// <param name="Upstream">Upstream version.</param>
    /// <param name="Revision">Debian revision, empty when the version has none.</param>
    public readonly record struct DpkgVersion(int Epoch, string Upstream, string Revision);

    /// <inheritdoc />
    public override PackageEcosystem Ecosystem => PackageEcosystem.Dpkg;

    /// <inheritdoc />
    protected override bool TryParse(string version, out DpkgVersion parsed, out string? error)
    {
        parsed = default;
        if (version.Length == 0)
        {
            error = "the version is empty";
            return false;
        }

        var epoch = 0;
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

            if (!int.TryParse(epochText, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out epoch))
            {
                error = "the epoch is larger than 2147483647";
                return false;
            }

            rest = version[(colon + 1)..];
        }

        var upstream = rest;
        var revision = string.Empty;
        var hyphen = rest.LastIndexOf('-');
        if (hyphen >= 0)
        {
            upstream = rest[..hyphen];
            revision = rest[(hyphen + 1)..];
            if (revision.Length == 0)
            {
                error = "the revision after the last '-' is empty";
                return false;
            }
        }

        if (upstream.Length == 0)
        {
            error = "the upstream version is empty";
            return false;
        }

        if (!char.IsAsciiDigit(upstream[0]))
        {
            error = "the upstream version must start with a digit";
            return false;
        }

        // A colon is allowed in the upstream version only when an epoch is present, and a hyphen only when a revision is.
        foreach (var c in upstream)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '+' or '~' or '-' or ':'))
            {
                error = $"the upstream version contains the invalid character '{c}'";
                return false;
            }
        }

        foreach (var c in revision)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '+' or '~'))
            {
                error = $"the revision contains the invalid character '{c}'";
                return false;
            }
        }

        parsed = new DpkgVersion(epoch, upstream, revision);
        error = null;
        return true;
    }

    /// <inheritdoc />
    protected override int CompareParsed(DpkgVersion left, DpkgVersion right)
    {
        var result = left.Epoch.CompareTo(right.Epoch);
        if (result != 0)
        {
            return result;
        }

        result = ComparePart(left.Upstream, right.Upstream);
        return result != 0 ? result : ComparePart(left.Revision, right.Revision);
    }

    /// <summary>
    /// Compares an upstream version or revision by the Debian Policy algorithm.
    /// </summary>
    internal static int ComparePart(string left, string right)
    {
        var i = 0;
        var j = 0;
        while (i < left.Length || j < right.Length)
        {
            // Non-digit run: compare character by character by their sort weight.
            while ((i < left.Length && !char.IsAsciiDigit(left[i])) || (j < right.Length && !char.IsAsciiDigit(right[j])))
            {
                var leftWeight = SortWeight(left, i);
                var rightWeight = SortWeight(right, j);
                if (leftWeight != rightWeight)
                {
                    return leftWeight - rightWeight;
                }

                i++;
                j++;
            }

            // Digit run: compare as numbers without parsing, so runs of any length work.
            while (i < left.Length && left[i] == '0')
            {
                i++;
            }

            while (j < right.Length && right[j] == '0')
            {
                j++;
            }

            var firstDifference = 0;
            while (i < left.Length && j < right.Length && char.IsAsciiDigit(left[i]) && char.IsAsciiDigit(right[j]))
            {
                if (firstDifference == 0)
                {
                    firstDifference = left[i] - right[j];
                }

                i++;
                j++;
            }

            // The longer run, after leading zeros, is the larger number.
            if (i < left.Length && char.IsAsciiDigit(left[i]))
            {
                return 1;
            }

            if (j < right.Length && char.IsAsciiDigit(right[j]))
            {
                return -1;
            }

            if (firstDifference != 0)
            {
                return firstDifference;
            }
        }

        return 0;
    }

    /// <summary>
    /// Returns the sort weight of the character at <paramref name="index"/> within a non-digit run: <c>~</c> lowest,
    /// then the end of the run (also the end of the string), then letters, then all other characters.
    /// </summary>
    private static int SortWeight(string text, int index)
    {
        if (index >= text.Length || char.IsAsciiDigit(text[index]))
        {
            return 0;
        }

        var c = text[index];
        if (c == '~')
        {
            return -1;
        }

        return char.IsAsciiLetter(c) ? c : c + 256;
    }
}

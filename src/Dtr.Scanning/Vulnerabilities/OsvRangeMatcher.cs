using Dtr.Scanning.Versioning;

namespace Dtr.Scanning.Vulnerabilities;

/// <summary>
/// Decides whether an installed version is affected by one package entry of an OSV record, by the evaluation the
/// OSV schema describes: each range's events are sorted by version and walked in order, <c>introduced</c> opening
/// and <c>fixed</c> or <c>last_affected</c> closing the affected span, and a version at or above every
/// <c>limit</c> is outside the range. A version listed in <c>versions</c> is affected too.
/// </summary>
internal sealed class OsvRangeMatcher(IVersionComparer comparer, Action<string> reportInvalidVersion)
{
    private readonly Dictionary<string, bool> _validity = new(StringComparer.Ordinal);

    /// <summary>Checks <paramref name="version"/>, which the caller has validated, against <paramref name="affected"/>.</summary>
    /// <param name="fixedVersion">The smallest <c>fixed</c> version above the installed one in a range that matched, or null.</param>
    public bool IsAffected(StoredAffected affected, string version, out string? fixedVersion)
    {
        fixedVersion = null;
        var isAffected = false;
        foreach (var range in affected.Ranges)
        {
            if (IsInRange(range, version, out var rangeFix))
            {
                isAffected = true;
                if (rangeFix is not null && (fixedVersion is null || comparer.Compare(rangeFix, fixedVersion) < 0))
                {
                    fixedVersion = rangeFix;
                }
            }
        }

        if (isAffected)
        {
            return true;
        }

        foreach (var listed in affected.Versions)
        {
            if (string.Equals(listed, version, StringComparison.Ordinal)
                || (IsValid(listed) && comparer.Compare(listed, version) == 0))
            {
                return true;
            }
        }

        return false;
    }

    private bool IsInRange(StoredRange range, string version, out string? fixedVersion)
    {
        fixedVersion = null;

        // An event whose version the ecosystem's rules reject is left out, because it cannot be ordered.
        var events = range.Events
            .Where(e => IsIntroducedZero(e) || e.Limit == "*" || IsValid(VersionOf(e)))
            .ToList();

        var limits = events.Where(e => e.Limit is not null).ToList();
        if (limits.Count > 0 && !limits.Exists(e => e.Limit == "*" || comparer.Compare(version, e.Limit!) < 0))
        {
            return false;
        }

        var ordered = events
            .Where(e => e.Limit is null)
            .OrderBy(e => e, Comparer<StoredEvent>.Create(CompareEvents))
            .ToList();

        var vulnerable = false;
        foreach (var item in ordered)
        {
            if (item.Introduced is { } introduced)
            {
                if (introduced == "0" || comparer.Compare(version, introduced) >= 0)
                {
                    vulnerable = true;
                }
            }
            else if (item.Fixed is { } fixedAt)
            {
                if (comparer.Compare(version, fixedAt) >= 0)
                {
                    vulnerable = false;
                }
            }
            else if (item.LastAffected is { } lastAffected && comparer.Compare(version, lastAffected) > 0)
            {
                vulnerable = false;
            }
        }

        if (!vulnerable)
        {
            return false;
        }

        foreach (var item in ordered)
        {
            if (item.Fixed is { } fixedAt && comparer.Compare(fixedAt, version) > 0)
            {
                fixedVersion = fixedAt;
                break;
            }
        }

        return true;
    }

    private int CompareEvents(StoredEvent left, StoredEvent right)
    {
        var leftZero = IsIntroducedZero(left);
        var rightZero = IsIntroducedZero(right);
        if (leftZero || rightZero)
        {
            return leftZero.CompareTo(rightZero) * -1;
        }

        return comparer.Compare(VersionOf(left), VersionOf(right));
    }

    private bool IsValid(string version)
    {
        if (!_validity.TryGetValue(version, out var valid))
        {
            valid = comparer.TryValidate(version, out _);
            _validity[version] = valid;
        }

        if (!valid)
        {
            reportInvalidVersion(version);
        }

        return valid;
    }

    private static bool IsIntroducedZero(StoredEvent item) => item.Introduced == "0";

    private static string VersionOf(StoredEvent item) =>
        item.Introduced ?? item.Fixed ?? item.LastAffected ?? item.Limit ?? string.Empty;
}

using Dtr.Scanning;

namespace Dtr.Storage.Scanning;

/// <summary>The argument checks of the scan store and named lease methods, shared by every metadata store.</summary>
internal static class ScanStoreArguments
{
    /// <summary>The maximum length of a lease name or holder id, in characters.</summary>
    public const int MaxLeaseTextLength = 200;

    /// <summary>Checks the arguments of <c>ILeaseStore.TryAcquireLeaseAsync</c>.</summary>
    /// <exception cref="ArgumentNullException">The name or the holder is null.</exception>
    /// <exception cref="ArgumentException">The name or the holder is empty or too long, or the lease would expire at or before <paramref name="now"/>.</exception>
    public static void ValidateLease(string name, string holder, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        ValidateLeaseText(name, "lease name", nameof(name));
        ValidateLeaseText(holder, "lease holder id", nameof(holder));
        if (expiresAt <= now)
        {
            throw new ArgumentException($"The lease would expire at {expiresAt:O}, which is not later than the current time {now:O}.", nameof(expiresAt));
        }
    }

    private static void ValidateLeaseText(string value, string description, string parameterName)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameterName);
        if (value.Length > MaxLeaseTextLength)
        {
            throw new ArgumentException($"The {description} is {value.Length} characters long; the maximum is {MaxLeaseTextLength}.", parameterName);
        }
    }

    /// <summary>Checks a batch of records for <c>IScanStore.AddVulnerabilitiesAsync</c>.</summary>
    /// <exception cref="ArgumentException">An entry is null, has an empty id, no package keys, an empty key, or no JSON.</exception>
    public static void ValidateEntries(IReadOnlyList<VulnerabilityEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i] ?? throw new ArgumentException($"Entry {i} is null.", nameof(entries));
            if (string.IsNullOrEmpty(entry.Id))
            {
                throw new ArgumentException($"Entry {i} has an empty vulnerability id.", nameof(entries));
            }

            if (entry.Packages is null || entry.Packages.Count == 0)
            {
                throw new ArgumentException($"The record '{entry.Id}' has no package keys; every record needs at least one.", nameof(entries));
            }

            if (entry.Packages.Any(key => string.IsNullOrEmpty(key.Ecosystem) || string.IsNullOrEmpty(key.Package)))
            {
                throw new ArgumentException($"The record '{entry.Id}' has a package key with an empty ecosystem or package name.", nameof(entries));
            }

            if (entry.RecordJson is null)
            {
                throw new ArgumentException($"The record '{entry.Id}' has no JSON document.", nameof(entries));
            }
        }
    }

    /// <summary>Checks a scan for <c>IScanStore.PutImageScanAsync</c>.</summary>
    /// <exception cref="ArgumentException">The manifest digest is the default value, or the summary or result is missing.</exception>
    public static void ValidateScan(ImageScan scan)
    {
        ArgumentNullException.ThrowIfNull(scan);
        if (scan.Manifest.IsEmpty)
        {
            throw new ArgumentException("The scan's manifest digest is the default value; pass a parsed or computed digest.", nameof(scan));
        }

        if (scan.Summary is null || scan.ResultJson is null)
        {
            throw new ArgumentException($"The scan of {scan.Manifest} has no summary or no result document.", nameof(scan));
        }
    }

    /// <summary>Checks a policy for <c>IScanStore.SetScanPolicyAsync</c>.</summary>
    /// <exception cref="ArgumentException">The allowlist is missing, or an entry is null or has an empty id.</exception>
    public static void ValidatePolicy(ScanPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        if (policy.Allowlist is null)
        {
            throw new ArgumentException("The policy's allowlist is null; pass an empty list for none.", nameof(policy));
        }

        if (policy.Allowlist.Any(entry => entry is null || string.IsNullOrEmpty(entry.Id)))
        {
            throw new ArgumentException("An allowlist entry is null or has an empty vulnerability id.", nameof(policy));
        }
    }
}

using System.Text.Json;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// Applies a repository's pull policy to <c>GET /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c> of an image
/// manifest: denies images whose latest scan found a vulnerability at or above the policy's severity that is not
/// allowlisted, and, when the policy does not allow them, images without a completed or partial scan.
/// </summary>
/// <remarks>
/// The common case costs one cached policy lookup. The scan summary is read only when the policy blocks, and the full
/// result only when the summary counts a vulnerability at or above the severity, to apply the allowlist.
/// </remarks>
internal sealed class PullPolicy
{
    private const int MaxListed = 5;

    private readonly ScanPolicyCache _policies;
    private readonly IScanStore _store;
    private readonly TimeProvider _time;
    private readonly ILogger<PullPolicy> _logger;

    public PullPolicy(ScanPolicyCache policies, IScanStore store, TimeProvider time, ILogger<PullPolicy> logger)
    {
        _policies = policies;
        _store = store;
        _time = time;
        _logger = logger;
    }

    /// <summary>Throws a DENIED error when the policy blocks the pull of this image manifest.</summary>
    public async ValueTask CheckAsync(RepositoryName repository, StoredManifest manifest, CancellationToken cancellationToken)
    {
        var policy = await _policies.GetAsync(repository, cancellationToken);
        if (policy.BlockSeverity is not { } severity)
        {
            return;
        }

        var summaries = await _store.GetImageScanSummariesAsync([manifest.Digest], cancellationToken);
        if (!summaries.TryGetValue(manifest.Digest, out var summary) || summary.Status == ScanStatus.Failed)
        {
            // Artifacts such as signatures are never scanned, so the unscanned rule applies to images only.
            if (policy.AllowUnscanned || !ScanReports.IsImage(manifest))
            {
                return;
            }

            throw Deny(
                repository,
                manifest.Digest,
                $"The image {manifest.Digest} has not been scanned, and the pull policy of repository '{repository}' blocks unscanned images (allowUnscanned is false). Scan it with POST /api/v0/repositories/{repository}/manifests/{manifest.Digest}/scan and pull it again when the scan is complete.",
                []);
        }

        if (summary.Summary.CountAtOrAbove(severity) == 0)
        {
            return;
        }

        var scan = await _store.GetImageScanAsync(manifest.Digest, cancellationToken);
        if (scan is null)
        {
            return;
        }

        var blocking = FindBlocking(scan.ResultJson, severity, policy.Allowlist, _time.GetUtcNow());
        if (blocking.Count == 0)
        {
            return;
        }

        var listed = string.Join(", ", blocking.Take(MaxListed).Select(v => $"{v.Id} ({v.Severity}, {v.Package} {v.InstalledVersion})"));
        var more = blocking.Count > MaxListed ? $" and {blocking.Count - MaxListed} more" : "";
        throw Deny(
            repository,
            manifest.Digest,
            blocking.Count == 1
                ? $"The image {manifest.Digest} has 1 vulnerability at or above {SeverityNames.Format(severity)} severity, which the pull policy of repository '{repository}' blocks: {listed}. Pull a fixed image, or ask a repository administrator to allowlist it."
                : $"The image {manifest.Digest} has {blocking.Count} vulnerabilities at or above {SeverityNames.Format(severity)} severity, which the pull policy of repository '{repository}' blocks: {listed}{more}. Pull a fixed image, or ask a repository administrator to allowlist them.",
            blocking.Take(MaxListed).ToList());
    }

    /// <summary>
    /// Returns the distinct vulnerabilities of a stored result at or above <paramref name="severity"/> that no
    /// unexpired allowlist entry names by id or alias, worst first.
    /// </summary>
    internal static List<BlockingVulnerability> FindBlocking(string resultJson, Severity severity, IReadOnlyList<AllowlistEntry> allowlist, DateTimeOffset now)
    {
        var allowed = new HashSet<string>(
            allowlist.Where(entry => entry.ExpiresAt is null || entry.ExpiresAt > now).Select(entry => entry.Id),
            StringComparer.OrdinalIgnoreCase);

        using var document = JsonDocument.Parse(resultJson);
        var found = new List<(Severity Level, BlockingVulnerability Vulnerability)>();
        if (!document.RootElement.TryGetProperty("vulnerabilities", out var vulnerabilities) || vulnerabilities.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        foreach (var item in vulnerabilities.EnumerateArray())
        {
            var severityName = item.GetProperty("severity").GetString();
            if (!SeverityNames.TryParse(severityName, out var level) || level < severity)
            {
                continue;
            }

            var id = item.GetProperty("id").GetString() ?? "";
            var aliases = item.TryGetProperty("aliases", out var list) && list.ValueKind == JsonValueKind.Array
                ? list.EnumerateArray().Select(alias => alias.GetString() ?? "").ToList()
                : [];
            if (allowed.Contains(id) || aliases.Any(allowed.Contains))
            {
                continue;
            }

            found.Add((level, new BlockingVulnerability(
                id,
                SeverityNames.Format(level),
                item.GetProperty("package").GetString() ?? "",
                item.GetProperty("installedVersion").GetString() ?? "")));
        }

        return found
            .OrderByDescending(entry => entry.Level)
            .ThenBy(entry => entry.Vulnerability.Id, StringComparer.Ordinal)
            .Select(entry => entry.Vulnerability)
            .Distinct()
            .ToList();
    }

    private RegistryException Deny(RepositoryName repository, Digest digest, string message, IReadOnlyList<BlockingVulnerability> vulnerabilities)
    {
        ScanningHttpLog.PullDenied(_logger, repository.Value, digest.Value, message);
        return new RegistryException(OciErrorCode.Denied, message, new { digest = digest.Value, vulnerabilities });
    }

    /// <summary>A vulnerability that blocks a pull, as the DENIED error's detail lists it.</summary>
    internal sealed record BlockingVulnerability(string Id, string Severity, string Package, string InstalledVersion);
}

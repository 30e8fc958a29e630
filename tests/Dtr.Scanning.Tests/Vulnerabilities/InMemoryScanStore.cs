using Dtr.Digests;
using Dtr.Names;

namespace Dtr.Scanning.Tests.Vulnerabilities;

/// <summary>
/// An <see cref="IScanStore"/> that keeps the vulnerability database in memory, following the interface's documented
/// semantics. The other parts of the store are not needed by these tests and throw.
/// </summary>
internal sealed class InMemoryScanStore : IScanStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, PendingImport> _imports = [];
    private readonly Dictionary<string, (VulnerabilitySource Source, List<VulnerabilityEntry> Entries)> _sources = new(StringComparer.Ordinal);
    private long _nextImportId = 1;
    private long _version;
    private DateTimeOffset? _updatedAt;

    /// <summary>The number of <see cref="FindVulnerabilitiesAsync"/> calls so far.</summary>
    public int FindCalls { get; private set; }

    /// <summary>The number of <see cref="AddVulnerabilitiesAsync"/> calls so far.</summary>
    public int AddCalls { get; private set; }

    /// <summary>Imports begun and neither completed nor aborted.</summary>
    public int PendingImports
    {
        get
        {
            lock (_lock)
            {
                return _imports.Count;
            }
        }
    }

    /// <summary>Called at the start of every <see cref="AddVulnerabilitiesAsync"/>, so tests can fail or cancel an import midway.</summary>
    public Func<int, CancellationToken, ValueTask>? OnAdd { get; set; }

    public ValueTask<long> BeginVulnerabilityImportAsync(string source, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            foreach (var stale in _imports.Where(pair => pair.Value.Source == source).Select(pair => pair.Key).ToList())
            {
                _imports.Remove(stale);
            }

            var id = _nextImportId++;
            _imports[id] = new PendingImport(source, []);
            return ValueTask.FromResult(id);
        }
    }

    public async ValueTask AddVulnerabilitiesAsync(long importId, IReadOnlyList<VulnerabilityEntry> entries, CancellationToken cancellationToken = default)
    {
        AddCalls++;
        if (OnAdd is { } onAdd)
        {
            await onAdd(AddCalls, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_imports.TryGetValue(importId, out var import))
            {
                throw new InvalidOperationException($"Import {importId} does not exist or has completed.");
            }

            foreach (var entry in entries)
            {
                Assert.NotEmpty(entry.Packages);
                import.Entries.Add(entry);
            }
        }
    }

    public ValueTask<VulnerabilityDatabaseState> CompleteVulnerabilityImportAsync(long importId, VulnerabilitySourceUpdate update, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            if (!_imports.Remove(importId, out var import))
            {
                throw new InvalidOperationException($"Import {importId} does not exist or has completed.");
            }

            var source = new VulnerabilitySource(import.Source, update.RecordCount, update.UpdatedAt)
            {
                ETag = update.ETag,
                LastModified = update.LastModified,
                ArchiveDigest = update.ArchiveDigest,
                SignatureVerified = update.SignatureVerified,
            };
            _sources[import.Source] = (source, import.Entries);
            _version++;
            _updatedAt = update.UpdatedAt;
            return ValueTask.FromResult(State());
        }
    }

    public ValueTask AbortVulnerabilityImportAsync(long importId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _imports.Remove(importId);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<bool> RemoveVulnerabilitySourceAsync(string source, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_sources.Remove(source))
            {
                return ValueTask.FromResult(false);
            }

            _version++;
            _updatedAt = DateTimeOffset.UtcNow;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<VulnerabilityDatabaseState> GetVulnerabilityDatabaseAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(State());
        }
    }

    public ValueTask<IReadOnlyList<VulnerabilityEntry>> FindVulnerabilitiesAsync(IReadOnlyCollection<VulnerabilityPackageKey> packages, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            FindCalls++;
            var keys = packages.ToHashSet();
            var result = new List<VulnerabilityEntry>();
            foreach (var (name, (_, entries)) in _sources)
            {
                result.AddRange(entries.Where(entry => entry.Packages.Any(keys.Contains)).Select(entry => entry with { Source = name }));
            }

            return ValueTask.FromResult<IReadOnlyList<VulnerabilityEntry>>(result);
        }
    }

    private VulnerabilityDatabaseState State() => new(
        _version,
        _updatedAt,
        _sources.Values.Select(value => value.Source).OrderBy(source => source.Name, StringComparer.Ordinal).ToList());

    private sealed record PendingImport(string Source, List<VulnerabilityEntry> Entries);

    // ----- Not used by the vulnerability database -----

    public ValueTask<string?> GetLayerAnalysisAsync(Digest layer, int analyzerVersion, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask PutLayerAnalysisAsync(Digest layer, int analyzerVersion, string analysisJson, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask PutImageScanAsync(ImageScan scan, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<ImageScan?> GetImageScanAsync(Digest manifest, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<IReadOnlyDictionary<Digest, ImageScanSummary>> GetImageScanSummariesAsync(IReadOnlyCollection<Digest> manifests, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<IReadOnlyList<ImageScan>> ListImageScansToRematchAsync(long databaseVersion, Digest? after, int limit, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<bool> EnqueueScanAsync(ScanJobRequest request, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<ScanJob?> TryClaimScanJobAsync(string holder, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<bool> RenewScanJobAsync(long jobId, string holder, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<bool> CompleteScanJobAsync(long jobId, string holder, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<ScanJob?> FindScanJobAsync(Digest manifest, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<int> CountScanJobsAsync(CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask<ScanPolicy?> GetScanPolicyAsync(RepositoryName repository, CancellationToken cancellationToken = default) => throw NotCovered();

    public ValueTask SetScanPolicyAsync(RepositoryName repository, ScanPolicy policy, CancellationToken cancellationToken = default) => throw NotCovered();

    private static NotSupportedException NotCovered() => new("The in-memory test store covers only the vulnerability database.");
}

using System.Diagnostics;
using System.Text;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IScanStore"/> and <see cref="ILeaseStore"/> driver must have: the vulnerability
/// database here, and image scans, the scan queue, pull policies and named leases in the other part of this class. A
/// driver's test class derives from it and supplies a fresh, migrated database per test, seen through every interface.
/// </summary>
public abstract partial class ScanStoreContractTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2025, 6, 7, 8, 9, 10, TimeSpan.Zero);

    private ScanStores? _stores;

    /// <summary>The clock the stores read.</summary>
    protected FakeTimeProvider Time { get; } = new(s_now);

    /// <summary>The scan store under test.</summary>
    protected IScanStore Scans => Stores.Scans;

    /// <summary>The lease store over the same database.</summary>
    protected ILeaseStore Leases => Stores.Leases;

    /// <summary>The identity store over the same database, for repositories that policies hang off.</summary>
    protected IIdentityStore Identity => Stores.Identity;

    /// <summary>The metadata store over the same database.</summary>
    protected IMetadataStore Metadata => Stores.Metadata;

    private ScanStores Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>
    /// Creates an empty database for one test, read through <paramref name="timeProvider"/>. The suite calls
    /// <see cref="IMetadataStore.MigrateAsync"/> before the test runs.
    /// </summary>
    protected abstract Task<ScanStores> CreateStoresAsync(TimeProvider timeProvider);

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync(Time);
        await Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    [Fact]
    public async Task Database_EmptyAtVersionZero()
    {
        var state = await Scans.GetVulnerabilityDatabaseAsync();

        Assert.Equal(0, state.Version);
        Assert.Null(state.UpdatedAt);
        Assert.Empty(state.Sources);
    }

    [Fact]
    public async Task Import_RecordsInvisibleUntilComplete()
    {
        var importId = await Scans.BeginVulnerabilityImportAsync("osv-debian");
        await Scans.AddVulnerabilitiesAsync(importId, [Entry("CVE-1", "Debian:12", "openssl")]);

        Assert.Empty(await Scans.FindVulnerabilitiesAsync([Key("Debian:12", "openssl")]));

        await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(1, s_now));

        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("Debian:12", "openssl")]));
        Assert.Equal("CVE-1", found.Id);
        Assert.Equal("osv-debian", found.Source);
        Assert.Equal(Severity.High, found.Severity);
        Assert.Equal([Key("Debian:12", "openssl")], found.Packages);
        Assert.Equal("""{"id":"CVE-1"}""", found.RecordJson);
    }

    [Fact]
    public async Task Import_CompleteStoresSourceFields()
    {
        var lastModified = s_now.AddDays(-1);
        var updatedAt = s_now.AddMinutes(5);
        var importId = await Scans.BeginVulnerabilityImportAsync("https://example.com/all.zip");
        await Scans.AddVulnerabilitiesAsync(importId, [Entry("CVE-1", "NuGet", "a"), Entry("CVE-2", "NuGet", "b")]);

        var state = await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(2, updatedAt)
        {
            ETag = "\"abc\"",
            LastModified = lastModified,
            ArchiveDigest = "sha256:0123",
            SignatureVerified = true,
        });

        Assert.Equal(1, state.Version);
        Assert.Equal(s_now, state.UpdatedAt);
        var source = Assert.Single(state.Sources);
        Assert.Equal(new VulnerabilitySource("https://example.com/all.zip", 2, updatedAt)
        {
            ETag = "\"abc\"",
            LastModified = lastModified,
            ArchiveDigest = "sha256:0123",
            SignatureVerified = true,
        }, source);
        Assert.Equal(2, state.RecordCount);
        Assert.Equal(state.Sources, (await Scans.GetVulnerabilityDatabaseAsync()).Sources);
    }

    [Fact]
    public async Task Import_CompleteReplacesPreviousCopy()
    {
        await ImportAsync("osv", Entry("CVE-OLD", "Alpine:v3.18", "musl"));
        Time.Advance(TimeSpan.FromMinutes(1));

        var state = await ImportAsync("osv", Entry("CVE-NEW", "Alpine:v3.18", "musl"));

        Assert.Equal(2, state.Version);
        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("Alpine:v3.18", "musl")]));
        Assert.Equal("CVE-NEW", found.Id);
    }

    [Fact]
    public async Task Import_OtherSourcesUntouched()
    {
        await ImportAsync("first", Entry("CVE-1", "npm", "lodash"));
        await ImportAsync("second", Entry("GHSA-1", "npm", "lodash"));
        await ImportAsync("first", Entry("CVE-2", "npm", "lodash"));

        var found = await Scans.FindVulnerabilitiesAsync([Key("npm", "lodash")]);

        Assert.Equal(["first:CVE-2", "second:GHSA-1"], found.Select(entry => $"{entry.Source}:{entry.Id}").Order(StringComparer.Ordinal));
        Assert.Equal(["first", "second"], (await Scans.GetVulnerabilityDatabaseAsync()).Sources.Select(source => source.Name));
    }

    [Fact]
    public async Task Import_AbortRemovesRecords()
    {
        await ImportAsync("osv", Entry("CVE-KEPT", "PyPI", "requests"));
        var importId = await Scans.BeginVulnerabilityImportAsync("osv");
        await Scans.AddVulnerabilitiesAsync(importId, [Entry("CVE-ABORTED", "PyPI", "requests")]);

        await Scans.AbortVulnerabilityImportAsync(importId);
        await Scans.AbortVulnerabilityImportAsync(importId);
        await Scans.AbortVulnerabilityImportAsync(123_456);

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.AddVulnerabilitiesAsync(importId, [Entry("CVE-3", "PyPI", "x")]));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(1, s_now)));
        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("PyPI", "requests")]));
        Assert.Equal("CVE-KEPT", found.Id);
        Assert.Equal(1, (await Scans.GetVulnerabilityDatabaseAsync()).Version);
    }

    [Fact]
    public async Task Import_BeginDiscardsStaleImport()
    {
        var stale = await Scans.BeginVulnerabilityImportAsync("osv");
        await Scans.AddVulnerabilitiesAsync(stale, [Entry("CVE-STALE", "Go", "example.com/mod")]);
        var other = await Scans.BeginVulnerabilityImportAsync("other");

        var fresh = await Scans.BeginVulnerabilityImportAsync("osv");

        Assert.NotEqual(stale, fresh);
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.CompleteVulnerabilityImportAsync(stale, new VulnerabilitySourceUpdate(1, s_now)));

        // An import of another source is not stale.
        await Scans.AddVulnerabilitiesAsync(other, [Entry("CVE-OTHER", "Go", "example.com/mod")]);
        await Scans.CompleteVulnerabilityImportAsync(other, new VulnerabilitySourceUpdate(1, s_now));
        await Scans.CompleteVulnerabilityImportAsync(fresh, new VulnerabilitySourceUpdate(0, s_now));
        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("Go", "example.com/mod")]));
        Assert.Equal("CVE-OTHER", found.Id);
    }

    [Fact]
    public async Task Import_MissingOrCompletedThrows()
    {
        var importId = await Scans.BeginVulnerabilityImportAsync("osv");
        await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(0, s_now));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.AddVulnerabilitiesAsync(importId, [Entry("CVE-1", "NuGet", "a")]));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(0, s_now)));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.AddVulnerabilitiesAsync(987_654, [Entry("CVE-1", "NuGet", "a")]));
        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.CompleteVulnerabilityImportAsync(987_654, new VulnerabilitySourceUpdate(0, s_now)));
        Assert.Equal(1, (await Scans.GetVulnerabilityDatabaseAsync()).Version);
    }

    [Fact]
    public async Task Import_InvalidEntriesThrow()
    {
        var importId = await Scans.BeginVulnerabilityImportAsync("osv");

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.AddVulnerabilitiesAsync(importId, [new VulnerabilityEntry("CVE-1", Severity.Low, [], "{}")]));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.AddVulnerabilitiesAsync(importId, [new VulnerabilityEntry("", Severity.Low, [Key("npm", "a")], "{}")]));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.AddVulnerabilitiesAsync(importId, [new VulnerabilityEntry("CVE-1", Severity.Low, [Key("", "a")], "{}")]));
    }

    [Fact]
    public async Task Find_RecordReturnedOncePerSource()
    {
        var entry = new VulnerabilityEntry("CVE-MULTI", Severity.Critical, [Key("Debian:12", "libc6"), Key("Debian:12", "libc-bin"), Key("Debian:11", "libc6")], "{}");
        await ImportAsync("a", entry);
        await ImportAsync("b", entry);

        var found = await Scans.FindVulnerabilitiesAsync([Key("Debian:12", "libc6"), Key("Debian:12", "libc-bin"), Key("Debian:11", "libc6"), Key("Debian:12", "libc6")]);

        Assert.Equal(["a", "b"], found.Select(item => item.Source!).Order(StringComparer.Ordinal));
        Assert.All(found, item => Assert.Equal(3, item.Packages.Count));
    }

    [Fact]
    public async Task Find_KeysCompareOrdinally()
    {
        await ImportAsync("osv", Entry("CVE-1", "npm", "Lodash"));

        Assert.Empty(await Scans.FindVulnerabilitiesAsync([Key("npm", "lodash")]));
        Assert.Empty(await Scans.FindVulnerabilitiesAsync([Key("NPM", "Lodash")]));
        Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("npm", "Lodash")]));
        Assert.Empty(await Scans.FindVulnerabilitiesAsync([]));
    }

    [Fact]
    public async Task Find_ThousandsOfKeys()
    {
        var entries = Enumerable.Range(0, 3_000).Select(i => Entry($"CVE-{i}", "PyPI", $"package-{i}")).ToArray();
        await ImportAsync("osv", entries);

        var keys = Enumerable.Range(0, 5_000).Select(i => Key("PyPI", $"package-{i}")).ToArray();
        var found = await Scans.FindVulnerabilitiesAsync(keys);

        Assert.Equal(3_000, found.Count);
        Assert.Equal(3_000, found.Select(entry => entry.Id).Distinct().Count());
    }

    [Fact]
    public async Task RemoveSource_RaisesVersion()
    {
        await ImportAsync("a", Entry("CVE-A", "NuGet", "x"));
        await ImportAsync("b", Entry("CVE-B", "NuGet", "x"));

        Assert.True(await Scans.RemoveVulnerabilitySourceAsync("a"));
        Assert.False(await Scans.RemoveVulnerabilitySourceAsync("a"));

        var state = await Scans.GetVulnerabilityDatabaseAsync();
        Assert.Equal(3, state.Version);
        Assert.Equal(["b"], state.Sources.Select(source => source.Name));
        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("NuGet", "x")]));
        Assert.Equal("CVE-B", found.Id);
    }

    [Fact]
    public async Task RemoveSource_RunningImportThrowsOnComplete()
    {
        await ImportAsync("a", Entry("CVE-A", "NuGet", "x"));
        var running = await Scans.BeginVulnerabilityImportAsync("a");

        Assert.True(await Scans.RemoveVulnerabilitySourceAsync("a"));

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Scans.CompleteVulnerabilityImportAsync(running, new VulnerabilitySourceUpdate(0, s_now)));
        Assert.Empty((await Scans.GetVulnerabilityDatabaseAsync()).Sources);
    }

    [Fact]
    public async Task Import_LargeBatchesMeasured()
    {
        // A quick measurement for the record, not a check of speed: 100,000 records with 2 keys each, in batches
        // of 5,000 as an importer would add them.
        const int Records = 100_000;
        const int BatchSize = 5_000;
        var stopwatch = Stopwatch.StartNew();
        var importId = await Scans.BeginVulnerabilityImportAsync("large");
        for (var start = 0; start < Records; start += BatchSize)
        {
            var batch = Enumerable.Range(start, BatchSize)
                .Select(i => new VulnerabilityEntry($"CVE-{i}", Severity.Medium, [Key("Debian:12", $"pkg-{i % 20_000}"), Key("Debian:11", $"pkg-{i % 20_000}")], $$"""{"id":"CVE-{{i}}","details":"generated"}"""))
                .ToArray();
            await Scans.AddVulnerabilitiesAsync(importId, batch);
        }

        await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(Records, s_now));
        var imported = stopwatch.Elapsed;

        stopwatch.Restart();
        var replacement = await Scans.BeginVulnerabilityImportAsync("large");
        await Scans.AddVulnerabilitiesAsync(replacement, [Entry("CVE-ONLY", "Debian:12", "pkg-1")]);
        await Scans.CompleteVulnerabilityImportAsync(replacement, new VulnerabilitySourceUpdate(1, s_now));
        var replaced = stopwatch.Elapsed;

        output.WriteLine($"{GetType().Name}: imported {Records:N0} records with 2 keys each in {imported.TotalSeconds:F2} s; replaced them with 1 record in {replaced.TotalSeconds:F2} s.");
        var found = Assert.Single(await Scans.FindVulnerabilitiesAsync([Key("Debian:12", "pkg-1"), Key("Debian:11", "pkg-1")]));
        Assert.Equal("CVE-ONLY", found.Id);
    }

    /// <summary>Runs one whole import of <paramref name="entries"/> into <paramref name="source"/>.</summary>
    protected async Task<VulnerabilityDatabaseState> ImportAsync(string source, params VulnerabilityEntry[] entries)
    {
        var importId = await Scans.BeginVulnerabilityImportAsync(source);
        await Scans.AddVulnerabilitiesAsync(importId, entries);
        return await Scans.CompleteVulnerabilityImportAsync(importId, new VulnerabilitySourceUpdate(entries.Length, Time.GetUtcNow()));
    }

    protected static VulnerabilityPackageKey Key(string ecosystem, string package) => new(ecosystem, package);

    protected static VulnerabilityEntry Entry(string id, string ecosystem, string package) =>
        new(id, Severity.High, [Key(ecosystem, package)], $$"""{"id":"{{id}}"}""");

    protected static Digest DigestOf(string text) => Digest.Compute(Encoding.UTF8.GetBytes(text));
}

/// <summary>The stores of one test database, each interface of the same driver.</summary>
public sealed record ScanStores(IScanStore Scans, ILeaseStore Leases, IIdentityStore Identity, IMetadataStore Metadata);

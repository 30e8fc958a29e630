using Dtr.Digests;
using Dtr.Identity;
using Dtr.Names;
using Dtr.Scanning;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>Image scans, layer analyses, the scan queue, pull policies and named leases.</summary>
public abstract partial class ScanStoreContractTests
{
    private static readonly RepositoryName s_repository = RepositoryName.Parse("alice/app");

    [Fact]
    public async Task LayerAnalysis_PutReplacesPerVersion()
    {
        var layer = DigestOf("layer");

        Assert.Null(await Scans.GetLayerAnalysisAsync(layer, 1));
        await Scans.PutLayerAnalysisAsync(layer, 1, """{"v":1}""");
        await Scans.PutLayerAnalysisAsync(layer, 1, """{"v":"1b"}""");
        await Scans.PutLayerAnalysisAsync(layer, 2, """{"v":2}""");

        Assert.Equal("""{"v":"1b"}""", await Scans.GetLayerAnalysisAsync(layer, 1));
        Assert.Equal("""{"v":2}""", await Scans.GetLayerAnalysisAsync(layer, 2));
        Assert.Null(await Scans.GetLayerAnalysisAsync(DigestOf("other"), 1));
    }

    [Fact]
    public async Task ImageScan_PutReplaces()
    {
        var manifest = DigestOf("image");
        Assert.Null(await Scans.GetImageScanAsync(manifest));

        await Scans.PutImageScanAsync(Scan(manifest, ScanStatus.Completed, 1));
        var second = new ImageScan(manifest, ScanStatus.Partial, s_now.AddHours(1), s_now.AddHours(2), 7, new ScanSummary(1, 2, 3, 4, 5), """{"packages":[]}""", """{"result":2}""");
        await Scans.PutImageScanAsync(second);

        Assert.Equal(second, await Scans.GetImageScanAsync(manifest));
    }

    [Fact]
    public async Task ImageScan_FailedWithoutInventory()
    {
        var manifest = DigestOf("failed");
        var failed = new ImageScan(manifest, ScanStatus.Failed, s_now, s_now, 3, ScanSummary.Empty, null, """{"error":"x"}""");

        await Scans.PutImageScanAsync(failed);

        Assert.Equal(failed, await Scans.GetImageScanAsync(manifest));
    }

    [Fact]
    public async Task ScanSummaries_BatchLookup()
    {
        var scanned = Enumerable.Range(0, 1_200).Select(i => DigestOf($"scanned-{i}")).ToArray();
        foreach (var digest in scanned.Take(3))
        {
            await Scans.PutImageScanAsync(Scan(digest, ScanStatus.Completed, 4));
        }

        var requested = scanned.Concat([DigestOf("never-scanned")]).ToArray();
        var summaries = await Scans.GetImageScanSummariesAsync(requested);

        Assert.Equal(3, summaries.Count);
        Assert.Equal(new ImageScanSummary(ScanStatus.Completed, s_now.AddMinutes(1), 4, new ScanSummary(1, 0, 2, 0, 1)), summaries[scanned[0]]);
        Assert.False(summaries.ContainsKey(DigestOf("never-scanned")));
        Assert.Empty(await Scans.GetImageScanSummariesAsync([]));
    }

    [Fact]
    public async Task Rematch_ListsOlderCompletedInOrder()
    {
        var digests = Enumerable.Range(0, 6).Select(i => DigestOf($"rematch-{i}")).OrderBy(digest => digest.Value, StringComparer.Ordinal).ToArray();
        await Scans.PutImageScanAsync(Scan(digests[0], ScanStatus.Completed, 1));
        await Scans.PutImageScanAsync(Scan(digests[1], ScanStatus.Partial, 2));
        await Scans.PutImageScanAsync(Scan(digests[2], ScanStatus.Failed, 1));
        await Scans.PutImageScanAsync(Scan(digests[3], ScanStatus.Completed, 5));
        await Scans.PutImageScanAsync(Scan(digests[4], ScanStatus.Completed, 1) with { InventoryJson = null });
        await Scans.PutImageScanAsync(Scan(digests[5], ScanStatus.Completed, 4));

        var all = await Scans.ListImageScansToRematchAsync(5, null, 100);
        var firstPage = await Scans.ListImageScansToRematchAsync(5, null, 2);
        var secondPage = await Scans.ListImageScansToRematchAsync(5, firstPage[^1].Manifest, 2);

        Assert.Equal([digests[0], digests[1], digests[5]], all.Select(scan => scan.Manifest));
        Assert.Equal([digests[0], digests[1]], firstPage.Select(scan => scan.Manifest));
        Assert.Equal([digests[5]], secondPage.Select(scan => scan.Manifest));
        Assert.Equal(Scan(digests[0], ScanStatus.Completed, 1), all[0]);
        Assert.Empty(await Scans.ListImageScansToRematchAsync(1, null, 100));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.ListImageScansToRematchAsync(5, default(Digest), 100));
    }

    [Fact]
    public async Task Enqueue_DedupesWaitingJob()
    {
        var manifest = DigestOf("queued");

        Assert.True(await Scans.EnqueueScanAsync(Request(manifest, s_now)));
        Assert.False(await Scans.EnqueueScanAsync(Request(manifest, s_now.AddSeconds(1)) with { Reason = ScanReason.Request }));
        Assert.True(await Scans.EnqueueScanAsync(Request(DigestOf("other"), s_now)));

        Assert.Equal(2, await Scans.CountScanJobsAsync());
        var job = await Scans.FindScanJobAsync(manifest);
        Assert.NotNull(job);
        Assert.Equal(new ScanJob(job.Id, s_repository, manifest, ScanReason.Push, s_now, 0, null, null), job);
        Assert.Null(await Scans.FindScanJobAsync(DigestOf("never-queued")));
    }

    [Fact]
    public async Task Enqueue_ClaimedJobDoesNotBlock()
    {
        var manifest = DigestOf("running");
        await Scans.EnqueueScanAsync(Request(manifest, s_now));
        var claimed = await Scans.TryClaimScanJobAsync("worker-a", s_now, s_now.AddMinutes(5));
        Assert.NotNull(claimed);

        Assert.True(await Scans.EnqueueScanAsync(Request(manifest, s_now.AddSeconds(1))));
        Assert.False(await Scans.EnqueueScanAsync(Request(manifest, s_now.AddSeconds(2))));

        Assert.Equal(2, await Scans.CountScanJobsAsync());
    }

    [Fact]
    public async Task Claim_OldestFirstAndCountsAttempts()
    {
        var older = DigestOf("older");
        var newer = DigestOf("newer");
        await Scans.EnqueueScanAsync(Request(newer, s_now.AddSeconds(10)));
        await Scans.EnqueueScanAsync(Request(older, s_now));

        var first = await Scans.TryClaimScanJobAsync("worker-a", s_now.AddMinutes(1), s_now.AddMinutes(6));
        var second = await Scans.TryClaimScanJobAsync("worker-b", s_now.AddMinutes(1), s_now.AddMinutes(6));
        var none = await Scans.TryClaimScanJobAsync("worker-c", s_now.AddMinutes(1), s_now.AddMinutes(6));

        Assert.NotNull(first);
        Assert.NotNull(second);
        Assert.Null(none);
        Assert.Equal(older, first.Manifest);
        Assert.Equal(1, first.Attempts);
        Assert.Equal("worker-a", first.Holder);
        Assert.Equal(s_now.AddMinutes(6), first.LeaseExpiresAt);
        Assert.Equal(newer, second.Manifest);
        Assert.Equal(first, await Scans.FindScanJobAsync(older));
    }

    [Fact]
    public async Task Claim_ExpiredLeaseTakenOver()
    {
        var manifest = DigestOf("expiring");
        await Scans.EnqueueScanAsync(Request(manifest, s_now));
        var expiry = s_now.AddMinutes(5);
        var first = await Scans.TryClaimScanJobAsync("worker-a", s_now, expiry);
        Assert.NotNull(first);

        Assert.Null(await Scans.TryClaimScanJobAsync("worker-b", expiry.AddMilliseconds(-1), expiry.AddMinutes(5)));
        var second = await Scans.TryClaimScanJobAsync("worker-b", expiry, expiry.AddMinutes(5));

        Assert.NotNull(second);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Attempts);
        Assert.Equal("worker-b", second.Holder);
        Assert.False(await Scans.RenewScanJobAsync(first.Id, "worker-a", expiry.AddMinutes(10)));
        Assert.False(await Scans.CompleteScanJobAsync(first.Id, "worker-a"));
    }

    [Fact]
    public async Task RenewAndComplete_OnlyByHolder()
    {
        var manifest = DigestOf("held");
        await Scans.EnqueueScanAsync(Request(manifest, s_now));
        var job = await Scans.TryClaimScanJobAsync("worker-a", s_now, s_now.AddMinutes(5));
        Assert.NotNull(job);

        Assert.False(await Scans.RenewScanJobAsync(job.Id, "worker-b", s_now.AddMinutes(20)));
        Assert.True(await Scans.RenewScanJobAsync(job.Id, "worker-a", s_now.AddMinutes(20)));
        Assert.Null(await Scans.TryClaimScanJobAsync("worker-b", s_now.AddMinutes(10), s_now.AddMinutes(30)));
        Assert.Equal(s_now.AddMinutes(20), (await Scans.FindScanJobAsync(manifest))?.LeaseExpiresAt);

        Assert.False(await Scans.CompleteScanJobAsync(job.Id, "worker-b"));
        Assert.True(await Scans.CompleteScanJobAsync(job.Id, "worker-a"));
        Assert.False(await Scans.CompleteScanJobAsync(job.Id, "worker-a"));
        Assert.Equal(0, await Scans.CountScanJobsAsync());
        Assert.Null(await Scans.FindScanJobAsync(manifest));
    }

    [Fact]
    public async Task Claim_ConcurrentClaimersTakeEachJobOnce()
    {
        const int Jobs = 40;
        const int Claimers = 8;
        for (var i = 0; i < Jobs; i++)
        {
            await Scans.EnqueueScanAsync(Request(DigestOf($"race-{i}"), s_now.AddMilliseconds(i)));
        }

        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var claimers = Enumerable.Range(0, Claimers).Select(worker => Task.Run(async () =>
        {
            await start.Task;
            var claimed = new List<ScanJob>();
            while (await Scans.TryClaimScanJobAsync($"worker-{worker}", s_now.AddMinutes(1), s_now.AddMinutes(10)) is { } job)
            {
                claimed.Add(job);
            }

            return claimed;
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(claimers);

        var all = results.SelectMany(claimed => claimed).ToList();
        Assert.Equal(Jobs, all.Count);
        Assert.Equal(Jobs, all.Select(job => job.Id).Distinct().Count());
        Assert.All(all, job => Assert.Equal(1, job.Attempts));
    }

    [Fact]
    public async Task Claim_InvalidHolderThrows()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.TryClaimScanJobAsync("", s_now, s_now.AddMinutes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Scans.TryClaimScanJobAsync("worker-a", s_now, s_now));
    }

    [Fact]
    public async Task Policy_NullWhenUnset()
    {
        await CreateRepositoryAsync();

        Assert.Null(await Scans.GetScanPolicyAsync(s_repository));
        Assert.Null(await Scans.GetScanPolicyAsync(RepositoryName.Parse("nobody/app")));
    }

    [Fact]
    public async Task Policy_RoundTripWithAllowlist()
    {
        await CreateRepositoryAsync();
        var policy = new ScanPolicy(Severity.High, false,
        [
            new AllowlistEntry("CVE-2023-4911", s_now.AddDays(30), "fixed in the next base image"),
            new AllowlistEntry("GHSA-xxxx-yyyy-zzzz", null, null),
        ]);

        await Scans.SetScanPolicyAsync(s_repository, policy);
        var stored = await Scans.GetScanPolicyAsync(s_repository);

        Assert.NotNull(stored);
        Assert.Equal(policy.BlockSeverity, stored.BlockSeverity);
        Assert.Equal(policy.AllowUnscanned, stored.AllowUnscanned);
        Assert.Equal(policy.Allowlist, stored.Allowlist);

        await Scans.SetScanPolicyAsync(s_repository, ScanPolicy.None);
        var replaced = await Scans.GetScanPolicyAsync(s_repository);
        Assert.NotNull(replaced);
        Assert.Null(replaced.BlockSeverity);
        Assert.True(replaced.AllowUnscanned);
        Assert.Empty(replaced.Allowlist);
    }

    [Fact]
    public async Task Policy_NeedsRepositorySettings()
    {
        await Identity.CreateUserAsync(new NewUser { Name = "alice" });

        // A repository that only contains pushed content has no settings either.
        await Metadata.LinkBlobAsync(s_repository, DigestOf("blob"), 4);

        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Scans.SetScanPolicyAsync(s_repository, ScanPolicy.None));
        await Assert.ThrowsAsync<IdentityNotFoundException>(async () => await Scans.SetScanPolicyAsync(RepositoryName.Parse("nobody/app"), ScanPolicy.None));
    }

    [Fact]
    public async Task Policy_DeletedWithRepository()
    {
        await CreateRepositoryAsync();
        await Scans.SetScanPolicyAsync(s_repository, new ScanPolicy(Severity.Critical, true, []));

        Assert.True(await Identity.DeleteRepositoryAsync(s_repository));
        await CreateRepositoryAsync(createUser: false);

        Assert.Null(await Scans.GetScanPolicyAsync(s_repository));
    }

    [Fact]
    public async Task Lease_FreeLeaseAcquired()
    {
        Assert.True(await Leases.TryAcquireLeaseAsync("vulnerability-import", "host-a", s_now, s_now.AddMinutes(2)));
        Assert.True(await Leases.TryAcquireLeaseAsync("other-job", "host-b", s_now, s_now.AddMinutes(2)));
    }

    [Fact]
    public async Task Lease_SecondHolderRejectedUntilExpiry()
    {
        var expiry = s_now.AddMinutes(2);
        await Leases.TryAcquireLeaseAsync("job", "host-a", s_now, expiry);

        Assert.False(await Leases.TryAcquireLeaseAsync("job", "host-b", expiry.AddMilliseconds(-1), expiry.AddMinutes(2)));
        Assert.True(await Leases.TryAcquireLeaseAsync("job", "host-b", expiry, expiry.AddMinutes(2)));
        Assert.False(await Leases.TryAcquireLeaseAsync("job", "host-a", expiry.AddSeconds(1), expiry.AddMinutes(3)));
    }

    [Fact]
    public async Task Lease_SameHolderExtends()
    {
        await Leases.TryAcquireLeaseAsync("job", "host-a", s_now, s_now.AddMinutes(2));

        Assert.True(await Leases.TryAcquireLeaseAsync("job", "host-a", s_now.AddMinutes(1), s_now.AddMinutes(3)));
        Assert.False(await Leases.TryAcquireLeaseAsync("job", "host-b", s_now.AddMinutes(2.5), s_now.AddMinutes(5)));
        Assert.True(await Leases.TryAcquireLeaseAsync("job", "host-b", s_now.AddMinutes(3), s_now.AddMinutes(5)));
    }

    [Fact]
    public async Task Lease_ReleaseOnlyByHolder()
    {
        await Leases.TryAcquireLeaseAsync("job", "host-a", s_now, s_now.AddMinutes(2));

        await Leases.ReleaseLeaseAsync("job", "host-b");
        await Leases.ReleaseLeaseAsync("never-taken", "host-a");
        Assert.False(await Leases.TryAcquireLeaseAsync("job", "host-b", s_now.AddMinutes(1), s_now.AddMinutes(3)));

        await Leases.ReleaseLeaseAsync("job", "host-a");
        Assert.True(await Leases.TryAcquireLeaseAsync("job", "host-b", s_now.AddMinutes(1), s_now.AddMinutes(3)));
    }

    [Fact]
    public async Task Lease_InvalidArgumentsThrow()
    {
        var tooLong = new string('x', 201);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Leases.TryAcquireLeaseAsync("", "host-a", s_now, s_now.AddMinutes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Leases.TryAcquireLeaseAsync("job", "", s_now, s_now.AddMinutes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Leases.TryAcquireLeaseAsync(tooLong, "host-a", s_now, s_now.AddMinutes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Leases.TryAcquireLeaseAsync("job", tooLong, s_now, s_now.AddMinutes(1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Leases.TryAcquireLeaseAsync("job", "host-a", s_now, s_now));
        Assert.True(await Leases.TryAcquireLeaseAsync(new string('x', 200), new string('y', 200), s_now, s_now.AddMinutes(1)));
    }

    [Fact]
    public async Task Lease_ConcurrentAcquirersOneWins()
    {
        const int Acquirers = 24;
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var attempts = Enumerable.Range(0, Acquirers).Select(i => Task.Run(async () =>
        {
            await start.Task;
            return await Leases.TryAcquireLeaseAsync("contended", $"host-{i}", s_now, s_now.AddMinutes(2));
        })).ToList();
        start.SetResult();
        var results = await Task.WhenAll(attempts);

        Assert.Equal(1, results.Count(acquired => acquired));
    }

    private async Task CreateRepositoryAsync(bool createUser = true)
    {
        if (createUser)
        {
            await Identity.CreateUserAsync(new NewUser { Name = "alice" });
        }

        await Identity.CreateRepositoryAsync(new RepositorySettings(s_repository, RepositoryVisibility.Private, null, true, false, DateTimeOffset.UnixEpoch));
    }

    private static ImageScan Scan(Digest manifest, ScanStatus status, long databaseVersion) => new(
        manifest,
        status,
        s_now,
        s_now.AddMinutes(1),
        databaseVersion,
        new ScanSummary(1, 0, 2, 0, 1),
        """{"packages":["openssl"]}""",
        $$"""{"manifest":"{{manifest}}"}""");

    private static ScanJobRequest Request(Digest manifest, DateTimeOffset enqueuedAt) => new(s_repository, manifest, ScanReason.Push, enqueuedAt);
}

using Dtr.Metadata;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IAuditStore"/> driver must have: appends keep every field, listing is newest first
/// with filters and keyset paging, and retention deletes by time. A driver's test class derives from it and supplies
/// a fresh, migrated database per test.
/// </summary>
public abstract class AuditStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_start = new(2025, 6, 7, 8, 9, 10, 123, TimeSpan.Zero);

    private (IMetadataStore Metadata, IAuditStore Audit)? _stores;

    /// <summary>The audit store under test.</summary>
    protected IAuditStore Audit => Stores.Audit;

    private (IMetadataStore Metadata, IAuditStore Audit) Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>Creates an empty database for one test, as a metadata store (for the migration) and the audit store.</summary>
    protected abstract Task<(IMetadataStore Metadata, IAuditStore Audit)> CreateStoresAsync();

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync();
        await Stores.Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    [Fact]
    public async Task Append_KeepsEveryField()
    {
        var entry = new AuditEntry(s_start, "alice", "127.0.0.1", "alice/app", "manifest.push", AuditResult.Succeeded, 201, "latest");
        var anonymous = new AuditEntry(s_start.AddSeconds(1), null, null, null, "POST /users", AuditResult.Denied, 401, null);

        await Audit.AppendAuditEntriesAsync([entry, anonymous]);

        var listed = await Audit.ListAuditEntriesAsync(new AuditFilter(), before: null, limit: 10);
        Assert.Equal(2, listed.Count);
        Assert.Equal(anonymous, listed[0].Entry);
        Assert.Equal(entry, listed[1].Entry);
        Assert.True(listed[0].Sequence > listed[1].Sequence);
    }

    [Fact]
    public async Task Append_EmptyBatchStoresNothing()
    {
        await Audit.AppendAuditEntriesAsync([]);

        Assert.Empty(await Audit.ListAuditEntriesAsync(new AuditFilter(), null, 10));
    }

    [Fact]
    public async Task Append_RejectsInvalidEntries()
    {
        var emptyAction = new AuditEntry(s_start, null, null, null, "", AuditResult.Failed, 500, null);
        var longDetail = new AuditEntry(s_start, null, null, null, "blob.delete", AuditResult.Failed, 500, new string('x', AuditEntry.MaxDetailLength + 1));

        await Assert.ThrowsAsync<ArgumentException>(() => Audit.AppendAuditEntriesAsync([emptyAction]).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Audit.AppendAuditEntriesAsync([longDetail]).AsTask());
        Assert.Empty(await Audit.ListAuditEntriesAsync(new AuditFilter(), null, 10));
    }

    [Fact]
    public async Task List_PagesNewestFirst()
    {
        var entries = Enumerable.Range(0, 5)
            .Select(i => new AuditEntry(s_start.AddMinutes(i), "alice", null, null, $"action-{i}", AuditResult.Succeeded, 200, null))
            .ToList();
        await Audit.AppendAuditEntriesAsync(entries);

        var first = await Audit.ListAuditEntriesAsync(new AuditFilter(), null, 2);
        var second = await Audit.ListAuditEntriesAsync(new AuditFilter(), first[^1].Sequence, 2);
        var third = await Audit.ListAuditEntriesAsync(new AuditFilter(), second[^1].Sequence, 2);

        Assert.Equal(["action-4", "action-3"], first.Select(stored => stored.Entry.Action));
        Assert.Equal(["action-2", "action-1"], second.Select(stored => stored.Entry.Action));
        Assert.Equal(["action-0"], third.Select(stored => stored.Entry.Action));
    }

    [Fact]
    public async Task List_AppliesEveryFilter()
    {
        await Audit.AppendAuditEntriesAsync(
        [
            new AuditEntry(s_start, "alice", null, "alice/app", "manifest.push", AuditResult.Succeeded, 201, null),
            new AuditEntry(s_start.AddHours(1), "bob", null, "alice/app", "access.denied", AuditResult.Denied, 403, null),
            new AuditEntry(s_start.AddHours(2), "alice", null, "alice/db", "manifest.delete", AuditResult.Failed, 404, null),
        ]);

        async Task<string[]> ActionsAsync(AuditFilter filter) =>
            (await Audit.ListAuditEntriesAsync(filter, null, 10)).Select(stored => stored.Entry.Action).ToArray();

        Assert.Equal(["manifest.delete", "manifest.push"], await ActionsAsync(new AuditFilter(Actor: "alice")));
        Assert.Equal(["access.denied", "manifest.push"], await ActionsAsync(new AuditFilter(Repository: "alice/app")));
        Assert.Equal(["manifest.push"], await ActionsAsync(new AuditFilter(Action: "manifest.push")));
        Assert.Equal(["access.denied"], await ActionsAsync(new AuditFilter(Result: AuditResult.Denied)));
        Assert.Equal(["manifest.delete", "access.denied"], await ActionsAsync(new AuditFilter(Since: s_start.AddHours(1))));
        Assert.Equal(["manifest.push"], await ActionsAsync(new AuditFilter(Until: s_start.AddHours(1))));
        Assert.Empty(await ActionsAsync(new AuditFilter(Actor: "alice", Result: AuditResult.Denied)));
    }

    [Fact]
    public async Task Delete_RemovesOnlyOlderEntries()
    {
        await Audit.AppendAuditEntriesAsync(
        [
            new AuditEntry(s_start, "alice", null, null, "old", AuditResult.Succeeded, 200, null),
            new AuditEntry(s_start.AddDays(1), "alice", null, null, "new", AuditResult.Succeeded, 200, null),
        ]);

        var deleted = await Audit.DeleteAuditEntriesBeforeAsync(s_start.AddDays(1));

        Assert.Equal(1, deleted);
        var remaining = await Audit.ListAuditEntriesAsync(new AuditFilter(), null, 10);
        Assert.Equal(["new"], remaining.Select(stored => stored.Entry.Action));
    }
}

using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="ISettingsStore"/> driver must have: the settings document with its optimistic
/// concurrency, and the blob usage figures. A driver's test class derives from it and supplies a fresh, migrated
/// database per test.
/// </summary>
public abstract class SettingsStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2025, 6, 7, 8, 9, 10, 123, TimeSpan.Zero);

    private SettingsStores? _stores;

    /// <summary>The settings store under test.</summary>
    protected ISettingsStore Settings => Stores.Settings;

    /// <summary>The metadata store over the same database, for blob links.</summary>
    protected IMetadataStore Metadata => Stores.Metadata;

    private SettingsStores Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>Creates an empty database for one test. The suite migrates it before the test runs.</summary>
    protected abstract Task<SettingsStores> CreateStoresAsync();

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync();
        await Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    [Fact]
    public async Task Get_NullBeforeFirstSave()
    {
        Assert.Null(await Settings.GetSettingsAsync());
    }

    [Fact]
    public async Task Save_FirstThenRead()
    {
        var saved = await Settings.TrySaveSettingsAsync("""{"a":1}""", 0, s_now, "admin");

        Assert.NotNull(saved);
        Assert.Equal(1, saved.Version);
        var read = await Settings.GetSettingsAsync();
        Assert.NotNull(read);
        Assert.Equal("""{"a":1}""", read.Document);
        Assert.Equal(1, read.Version);
        Assert.Equal(s_now, read.UpdatedAt);
        Assert.Equal("admin", read.UpdatedBy);
    }

    [Fact]
    public async Task Save_NextVersionReplacesDocument()
    {
        await Settings.TrySaveSettingsAsync("""{"a":1}""", 0, s_now, "admin");

        var saved = await Settings.TrySaveSettingsAsync("""{"a":2}""", 1, s_now.AddMinutes(1), null);

        Assert.NotNull(saved);
        Assert.Equal(2, saved.Version);
        var read = await Settings.GetSettingsAsync();
        Assert.NotNull(read);
        Assert.Equal("""{"a":2}""", read.Document);
        Assert.Equal(2, read.Version);
        Assert.Equal(s_now.AddMinutes(1), read.UpdatedAt);
        Assert.Null(read.UpdatedBy);
    }

    [Fact]
    public async Task Save_StaleVersionRejected()
    {
        await Settings.TrySaveSettingsAsync("""{"a":1}""", 0, s_now, "first");
        await Settings.TrySaveSettingsAsync("""{"a":2}""", 1, s_now, "second");

        Assert.Null(await Settings.TrySaveSettingsAsync("""{"a":3}""", 1, s_now, "late"));
        Assert.Null(await Settings.TrySaveSettingsAsync("""{"a":4}""", 0, s_now, "late"));
        Assert.Null(await Settings.TrySaveSettingsAsync("""{"a":5}""", 7, s_now, "late"));

        var read = await Settings.GetSettingsAsync();
        Assert.NotNull(read);
        Assert.Equal("""{"a":2}""", read.Document);
        Assert.Equal("second", read.UpdatedBy);
    }

    [Fact]
    public async Task Save_VersionWithoutDocumentRejected()
    {
        Assert.Null(await Settings.TrySaveSettingsAsync("""{"a":1}""", 1, s_now, "admin"));
        Assert.Null(await Settings.GetSettingsAsync());
    }

    [Fact]
    public async Task Save_ConcurrentFirstSavesOneWins()
    {
        var saves = Enumerable.Range(0, 8)
            .Select(i => Settings.TrySaveSettingsAsync($$"""{"writer":{{i}}}""", 0, s_now, $"writer{i}").AsTask())
            .ToList();
        var results = await Task.WhenAll(saves);

        var winner = Assert.Single(results, result => result is not null);
        var read = await Settings.GetSettingsAsync();
        Assert.Equal(winner!.Document, read?.Document);
    }

    [Fact]
    public async Task Save_InvalidArgumentsRejected()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Settings.TrySaveSettingsAsync("", 0, s_now, "admin").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Settings.TrySaveSettingsAsync("{}", -1, s_now, "admin").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Settings.TrySaveSettingsAsync("{}", 0, s_now, "").AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Settings.TrySaveSettingsAsync("{}", 0, s_now, new string('a', 201)).AsTask());
        Assert.Null(await Settings.GetSettingsAsync());
    }

    [Fact]
    public async Task BlobUsage_ZeroWhenEmpty()
    {
        var usage = await Settings.GetBlobUsageAsync();

        Assert.Equal(0, usage.BlobCount);
        Assert.Equal(0, usage.TotalBytes);
    }

    [Fact]
    public async Task BlobUsage_CountsSharedBlobOnce()
    {
        var shared = Digest.Compute("shared"u8);
        var own = Digest.Compute("own"u8);
        await Metadata.LinkBlobAsync(RepositoryName.Parse("alice/app"), shared, 1000);
        await Metadata.LinkBlobAsync(RepositoryName.Parse("bob/app"), shared, 1000);
        await Metadata.LinkBlobAsync(RepositoryName.Parse("bob/app"), own, 24);

        var usage = await Settings.GetBlobUsageAsync();

        Assert.Equal(2, usage.BlobCount);
        Assert.Equal(1024, usage.TotalBytes);
    }
}

/// <summary>The stores of one test database, seen through each interface.</summary>
public sealed record SettingsStores(ISettingsStore Settings, IMetadataStore Metadata);

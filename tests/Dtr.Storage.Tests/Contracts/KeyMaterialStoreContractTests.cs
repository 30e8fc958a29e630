using Dtr.Metadata;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IKeyMaterialStore"/> driver must have: entries are added once or replaced, read back,
/// and concurrent adds of one name agree on a single value. A driver's test class derives from it and supplies a fresh,
/// migrated database per test.
/// </summary>
public abstract class KeyMaterialStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_now = new(2025, 6, 7, 8, 9, 10, 123, TimeSpan.Zero);

    private KeyMaterialStores? _stores;

    /// <summary>The key material store under test.</summary>
    protected IKeyMaterialStore KeyMaterial => Stores.KeyMaterial;

    private KeyMaterialStores Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>Creates an empty database for one test. The suite migrates it before the test runs.</summary>
    protected abstract Task<KeyMaterialStores> CreateStoresAsync();

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync();
        await Stores.Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    [Fact]
    public async Task Get_NullForUnknownName()
    {
        Assert.Null(await KeyMaterial.GetKeyMaterialAsync("client-ca"));
    }

    [Fact]
    public async Task GetOrAdd_StoresFirstValue()
    {
        var added = await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", "first", s_now);

        Assert.Equal("client-ca", added.Name);
        Assert.Equal("first", added.Value);
        Assert.Equal(s_now, added.UpdatedAt);
        var read = await KeyMaterial.GetKeyMaterialAsync("client-ca");
        Assert.NotNull(read);
        Assert.Equal("first", read.Value);
        Assert.Equal(s_now, read.UpdatedAt);
    }

    [Fact]
    public async Task GetOrAdd_KeepsExistingValue()
    {
        await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", "first", s_now);

        var second = await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", "second", s_now.AddHours(1));

        Assert.Equal("first", second.Value);
        Assert.Equal(s_now, second.UpdatedAt);
        Assert.Equal("first", (await KeyMaterial.GetKeyMaterialAsync("client-ca"))?.Value);
    }

    [Fact]
    public async Task GetOrAdd_NamesAreSeparate()
    {
        await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", "ca", s_now);
        await KeyMaterial.GetOrAddKeyMaterialAsync("Client-CA", "other", s_now);

        Assert.Equal("ca", (await KeyMaterial.GetKeyMaterialAsync("client-ca"))?.Value);
        Assert.Equal("other", (await KeyMaterial.GetKeyMaterialAsync("Client-CA"))?.Value);
    }

    [Fact]
    public async Task GetOrAdd_ConcurrentAddsAgree()
    {
        var adds = Enumerable.Range(0, 8)
            .Select(index => Task.Run(async () => await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", $"value-{index}", s_now)))
            .ToArray();

        var results = await Task.WhenAll(adds);

        var stored = await KeyMaterial.GetKeyMaterialAsync("client-ca");
        Assert.NotNull(stored);
        Assert.All(results, result => Assert.Equal(stored.Value, result.Value));
    }

    [Fact]
    public async Task Set_AddsMissingEntry()
    {
        var stored = await KeyMaterial.SetKeyMaterialAsync("tls-certificate", "first", s_now);

        Assert.Equal("first", stored.Value);
        Assert.Equal(s_now, stored.UpdatedAt);
        Assert.Equal("first", (await KeyMaterial.GetKeyMaterialAsync("tls-certificate"))?.Value);
    }

    [Fact]
    public async Task Set_ReplacesExistingEntry()
    {
        await KeyMaterial.GetOrAddKeyMaterialAsync("tls-certificate", "first", s_now);

        var replaced = await KeyMaterial.SetKeyMaterialAsync("tls-certificate", "second", s_now.AddHours(1));

        Assert.Equal("second", replaced.Value);
        var read = await KeyMaterial.GetKeyMaterialAsync("tls-certificate");
        Assert.NotNull(read);
        Assert.Equal("second", read.Value);
        Assert.Equal(s_now.AddHours(1), read.UpdatedAt);
        Assert.Null(await KeyMaterial.GetKeyMaterialAsync("client-ca"));
    }

    [Fact]
    public async Task GetOrAdd_KeepsLongPemValue()
    {
        var value = string.Concat(Enumerable.Repeat("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", 200));

        await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", value, s_now);

        Assert.Equal(value, (await KeyMaterial.GetKeyMaterialAsync("client-ca"))?.Value);
    }

    [Fact]
    public async Task Arguments_AreChecked()
    {
        await Assert.ThrowsAsync<ArgumentException>(async () => await KeyMaterial.GetKeyMaterialAsync(""));
        await Assert.ThrowsAsync<ArgumentException>(async () => await KeyMaterial.GetKeyMaterialAsync(new string('a', StoredKeyMaterial.MaxNameLength + 1)));
        await Assert.ThrowsAsync<ArgumentException>(async () => await KeyMaterial.GetOrAddKeyMaterialAsync("client-ca", "", s_now));
        await Assert.ThrowsAsync<ArgumentException>(async () => await KeyMaterial.SetKeyMaterialAsync("", "value", s_now));
        await Assert.ThrowsAsync<ArgumentException>(async () => await KeyMaterial.SetKeyMaterialAsync("client-ca", "", s_now));
    }

    [Fact]
    public void ToString_LeavesValueOut()
    {
        var entry = new StoredKeyMaterial("client-ca", "secret-key-text", s_now);

        Assert.DoesNotContain("secret-key-text", entry.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>The stores of one test database, seen through each interface.</summary>
public sealed record KeyMaterialStores(IKeyMaterialStore KeyMaterial, IMetadataStore Metadata);

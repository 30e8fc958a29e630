using Dtr.Storage.Tests.Contracts;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlSettingsStoreTests(PostgreSqlCluster cluster) : SettingsStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<SettingsStores> CreateStoresAsync()
    {
        var store = await _stores.CreateAsync();
        return new SettingsStores(store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();
}

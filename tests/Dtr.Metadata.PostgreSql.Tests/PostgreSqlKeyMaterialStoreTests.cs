using Dtr.Storage.Tests.Contracts;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlKeyMaterialStoreTests(PostgreSqlCluster cluster) : KeyMaterialStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<KeyMaterialStores> CreateStoresAsync()
    {
        var store = await _stores.CreateAsync();
        return new KeyMaterialStores(store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();
}

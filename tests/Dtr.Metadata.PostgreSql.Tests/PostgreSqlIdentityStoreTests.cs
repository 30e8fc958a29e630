using Dtr.Identity;
using Dtr.Storage.Tests.Contracts;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlIdentityStoreTests(PostgreSqlCluster cluster) : IdentityStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<(IIdentityStore Identity, IMetadataStore Metadata)> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = await _stores.CreateAsync(timeProvider);
        return (store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();
}

using Dtr.Storage.Tests.Contracts;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlAuditStoreTests(PostgreSqlCluster cluster) : AuditStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<(IMetadataStore Metadata, IAuditStore Audit)> CreateStoresAsync()
    {
        var store = await _stores.CreateAsync();
        return (store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();
}

using Dtr.Storage.Tests.Contracts;

namespace Dtr.Metadata.PostgreSql.Tests;

[Collection(PostgreSqlCollection.Name)]
public sealed class PostgreSqlWebhookStoreTests(PostgreSqlCluster cluster) : WebhookStoreContractTests
{
    private readonly PostgreSqlStores _stores = new(cluster);

    protected override async Task<(IMetadataStore Metadata, IWebhookStore Webhooks)> CreateStoresAsync()
    {
        var store = await _stores.CreateAsync();
        return (store, store);
    }

    protected override Task DisposeStoresAsync() => _stores.DisposeAsync().AsTask();
}

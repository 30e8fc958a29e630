using Dtr.Metadata;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteWebhookStoreTests : WebhookStoreContractTests
{
    private readonly TempDirectory _folder = new();
    private SqliteMetadataStore? _store;

    protected override Task<(IMetadataStore Metadata, IWebhookStore Webhooks)> CreateStoresAsync()
    {
        var options = Options.Create(new SqliteMetadataOptions { DatabasePath = Path.Combine(_folder.Path, "metadata.db") });
        _store = new SqliteMetadataStore(options, TimeProvider.System, NullLogger<SqliteMetadataStore>.Instance);
        return Task.FromResult<(IMetadataStore, IWebhookStore)>((_store, _store));
    }

    protected override Task DisposeStoresAsync()
    {
        if (_store is not null)
        {
            using var connection = new SqliteConnection(_store.ConnectionString);
            SqliteConnection.ClearPool(connection);
        }

        _folder.Dispose();
        return Task.CompletedTask;
    }
}

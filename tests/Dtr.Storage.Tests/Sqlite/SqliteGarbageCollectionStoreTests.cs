using System.Globalization;
using Dtr.Storage.Sqlite;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteGarbageCollectionStoreTests : GarbageCollectionStoreContractTests
{
    private readonly TempDirectory _folder = new();
    private readonly List<SqliteMetadataStore> _stores = [];

    private string DatabasePath => Path.Combine(_folder.Path, "metadata.db");

    protected override Task<GarbageCollectionStores> CreateStoresAsync(TimeProvider timeProvider)
    {
        var store = CreateSqliteStore(DatabasePath, SqliteMigrations.Scripts, timeProvider);
        return Task.FromResult(new GarbageCollectionStores(store, store, store));
    }

    protected override Task DisposeStoresAsync()
    {
        foreach (var store in _stores)
        {
            using var connection = new SqliteConnection(store.ConnectionString);
            SqliteConnection.ClearPool(connection);
        }

        _folder.Dispose();
        return Task.CompletedTask;
    }

    private SqliteMetadataStore CreateSqliteStore(string path, IReadOnlyList<string> migrations, TimeProvider timeProvider)
    {
        var options = Options.Create(new SqliteMetadataOptions { DatabasePath = path });
        var store = new SqliteMetadataStore(options, timeProvider, NullLogger<SqliteMetadataStore>.Instance, migrations);
        _stores.Add(store);
        return store;
    }

    private static async Task<long> QueryIntAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }
}

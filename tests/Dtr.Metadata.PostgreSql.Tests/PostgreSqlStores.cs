using Dtr.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Metadata.PostgreSql.Tests;

/// <summary>Creates stores on a fresh database of the shared cluster, and disposes them and drops the database.</summary>
internal sealed class PostgreSqlStores(PostgreSqlCluster cluster, string? icuLocale = null) : IAsyncDisposable
{
    private readonly List<PostgreSqlMetadataStore> _stores = [];
    private string? _connectionString;

    /// <summary>The connection string of this test's database.</summary>
    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("Call CreateAsync first.");

    /// <summary>Creates a store, and the test's database on the first call. Later stores share the database.</summary>
    public async Task<PostgreSqlMetadataStore> CreateAsync(
        TimeProvider? timeProvider = null,
        string schema = "dtr",
        IReadOnlyList<string>? migrations = null,
        StorageResilienceOptions? resilience = null,
        ILogger<PostgreSqlMetadataStore>? logger = null)
    {
        _connectionString ??= await cluster.CreateDatabaseAsync(icuLocale);
        var options = Options.Create(new PostgreSqlMetadataOptions
        {
            ConnectionString = _connectionString,
            Schema = schema,
            Resilience = resilience ?? new StorageResilienceOptions(),
        });
        var store = new PostgreSqlMetadataStore(
            options,
            timeProvider ?? TimeProvider.System,
            logger ?? NullLogger<PostgreSqlMetadataStore>.Instance,
            migrations ?? PostgreSqlMigrations.Scripts);
        _stores.Add(store);
        return store;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        if (_connectionString is not null)
        {
            await cluster.DropDatabaseAsync(_connectionString);
        }
    }
}

using Dtr.Resilience;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Settings of the PostgreSQL metadata store.</summary>
public sealed class PostgreSqlMetadataOptions
{
    /// <summary>
    /// The Npgsql connection string of the database, such as <c>Host=db;Database=registry;Username=dtr;Password=…</c>.
    /// Required. The database must exist; the store creates its schema and tables in it.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// The PostgreSQL schema that contains the store's tables, created when missing. Lowercase letters, digits and
    /// underscores, starting with a letter or underscore, at most 63 characters. Default: <c>dtr</c>.
    /// </summary>
    public string Schema { get; set; } = "dtr";

    /// <summary>
    /// Retries, attempt timeout and circuit breaker around each transaction. A transaction that fails with a
    /// transient fault (a lost connection, a server restart, too many connections, a serialization failure or a
    /// deadlock) runs again from its start on a new connection. Bind it from the <c>Resilience</c> subsection.
    /// </summary>
    public StorageResilienceOptions Resilience { get; set; } = new();
}

using Dtr.Resilience;

namespace Dtr.Storage.Sqlite;

/// <summary>
/// Settings of the SQLite metadata store. Set either <see cref="DatabasePath"/> or <see cref="ConnectionString"/>.
/// </summary>
public sealed class SqliteMetadataOptions
{
    /// <summary>
    /// The path of the database file, created with its folder when it does not exist. A relative path is resolved
    /// against the process's current directory. Required unless <see cref="ConnectionString"/> is set.
    /// </summary>
    public string? DatabasePath { get; set; }

    /// <summary>
    /// A Microsoft.Data.Sqlite connection string, for settings that <see cref="DatabasePath"/> cannot express.
    /// It must name a database file, because every operation opens its own pooled connection and an in-memory
    /// database would not be shared between them. Pooling and foreign keys are always turned on.
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long an operation waits for another connection's write lock before it fails with
    /// <c>SQLITE_BUSY</c>. Default: 5 seconds.
    /// </summary>
    public TimeSpan BusyTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Retries, attempt timeout and circuit breaker around each transaction. A transaction that fails with
    /// <c>SQLITE_BUSY</c> or <c>SQLITE_LOCKED</c> after waiting <see cref="BusyTimeout"/> runs again from its start on
    /// a new connection; no other SQLite error is retried. Bind it from the <c>Resilience</c> subsection.
    /// </summary>
    public StorageResilienceOptions Resilience { get; set; } = new();
}

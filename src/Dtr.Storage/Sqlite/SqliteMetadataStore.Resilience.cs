using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Retries of transactions that found the database busy or locked.</summary>
internal sealed partial class SqliteMetadataStore
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;

    /// <summary>
    /// Returns whether <paramref name="error"/> is <c>SQLITE_BUSY</c> or <c>SQLITE_LOCKED</c>, which SQLite reports
    /// when another connection kept the lock for longer than the busy timeout. A later run of the same transaction
    /// may get the lock. Every other SQLite error repeats, so it is not transient.
    /// </summary>
    internal static bool IsTransient(Exception error) => error is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked };

    /// <summary>
    /// Runs one transaction through the store's resilience pipeline. Each attempt opens its own connection and
    /// transaction, so a retry starts from a clean state. A failed transaction never committed, because SQLite
    /// commits locally and reports a busy COMMIT before it writes. The attempt receives its own cancellation token,
    /// which the pipeline cancels when the attempt times out. The work delegates of ReadAsync and WriteAsync name
    /// that token <c>cancellationToken</c>, hiding the caller's, so every command uses it.
    /// </summary>
    private ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(attempt, cancellationToken);
}

using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Retries of transactions that failed with a transient fault.</summary>
internal sealed partial class PostgreSqlMetadataStore
{
    // The Exception.Data key that CommitWriteAsync sets when a COMMIT failed and PostgreSQL may have committed anyway.
    private const string CommitOutcomeUnknownKey = "Dtr.PostgreSql.CommitOutcomeUnknown";

    /// <summary>
    /// Returns whether <paramref name="error"/> is a fault that a new run of the same transaction may not hit: a lost
    /// or refused connection, a server that is shutting down or starting, too many connections, a serialization
    /// failure or a deadlock. Npgsql's own <see cref="NpgsqlException.IsTransient"/> counts as well.
    /// </summary>
    internal static bool IsTransient(Exception error) => error switch
    {
        PostgresException postgres => IsTransientSqlState(postgres.SqlState) || postgres.IsTransient,
        NpgsqlException npgsql => npgsql.IsTransient,
        _ => false,
    };

    private static bool IsTransientSqlState(string sqlState) =>
        sqlState is PostgresErrorCodes.SerializationFailure
            or PostgresErrorCodes.DeadlockDetected
            or PostgresErrorCodes.AdminShutdown
            or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.TooManyConnections
        || sqlState.StartsWith("08", StringComparison.Ordinal);

    /// <summary>Returns whether the pipeline may run the transaction that failed with <paramref name="error"/> again.</summary>
    internal static bool ShouldRetry(Exception error) => IsTransient(error) && !error.Data.Contains(CommitOutcomeUnknownKey);

    /// <summary>Marks a fault of a COMMIT after which PostgreSQL may have committed, so it is not retried.</summary>
    internal static void MarkCommitOutcomeUnknown(Exception error) => error.Data[CommitOutcomeUnknownKey] = true;

    /// <summary>
    /// Runs one transaction through the store's resilience pipeline. Each attempt opens its own connection and
    /// transaction, so a retry never continues a transaction that failed half-way. The attempt receives its own
    /// cancellation token, which the pipeline cancels when the attempt times out. The work delegates of ReadAsync
    /// and WriteAsync name that token <c>cancellationToken</c>, hiding the caller's, so every command uses it.
    /// </summary>
    private ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> attempt, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(attempt, cancellationToken);

    /// <summary>
    /// Commits a write transaction. A COMMIT can fail after PostgreSQL committed, for example when the connection
    /// breaks before the response arrives. Unless PostgreSQL reported a rollback, the fault is therefore marked, so
    /// the pipeline does not run the writes a second time.
    /// </summary>
    private static async Task CommitWriteAsync(NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        try
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NpgsqlException error) when (error is not PostgresException { SqlState: ['4', '0', ..] })
        {
            // Class 40 (transaction rollback) means PostgreSQL rolled the transaction back, so a re-run is safe.
            MarkCommitOutcomeUnknown(error);
            throw;
        }
    }
}

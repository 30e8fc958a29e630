using System.Data;
using System.Globalization;
using Dtr.Digests;
using Dtr.Names;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Connections, transactions and the small queries that several operations share.</summary>
internal sealed partial class PostgreSqlMetadataStore
{
    // The advisory lock key that MigrateAsync takes, for every schema: the ASCII text "dtr-migr" as a big-endian
    // integer, so it is unlikely to equal a key that another application on the same database picks.
    private const long MigrationLockKey = 0x6474722D6D696772;

    /// <summary>
    /// Returns the advisory lock key that every writer of <paramref name="schema"/> takes: a stable FNV-1a hash of the
    /// schema name, so stores in different schemas of one database do not wait for each other.
    /// </summary>
    private static long WriteLockKeyFor(string schema)
    {
        var hash = 14695981039346656037UL;
        foreach (var character in "dtr-write:" + schema)
        {
            hash ^= character;
            hash *= 1099511628211UL;
        }

        return unchecked((long)hash);
    }

    /// <summary>Quotes an identifier for SQL text, doubling any double quote in it.</summary>
    private static string QuoteIdentifier(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>
    /// Runs <paramref name="work"/> in a REPEATABLE READ transaction, so every statement reads one snapshot. A
    /// transient fault re-runs the whole transaction on a new connection (see <see cref="RunAsync"/>).
    /// </summary>
    private ValueTask<T> ReadAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, attemptToken).ConfigureAwait(false);
            var result = await work(connection, transaction, attemptToken).ConfigureAwait(false);
            await transaction.CommitAsync(attemptToken).ConfigureAwait(false);
            return result;
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/>, a read that is one statement, without an explicit transaction. One statement
    /// already reads one snapshot, and skipping BEGIN and COMMIT saves two round trips on the hottest reads (manifest
    /// and blob lookups, access checks). A transient fault re-runs it on a new connection.
    /// </summary>
    private ValueTask<T> ReadStatementAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction?, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            return await work(connection, null, attemptToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a READ COMMITTED transaction that holds the schema's write lock, then commits it
    /// unless <paramref name="commitWhen"/> rejects the result, in which case every change is rolled back. An
    /// exception from <paramref name="work"/> also rolls back. A transient fault re-runs the whole transaction on a
    /// new connection (see <see cref="RunAsync"/>).
    /// </summary>
    private ValueTask<T> WriteAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken, Func<T, bool>? commitWhen = null) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, attemptToken).ConfigureAwait(false);
            await using (var command = CreateCommand(connection, transaction, "SELECT pg_advisory_xact_lock(@key);"))
            {
                command.Parameters.AddWithValue("@key", _writeLockKey);
                await command.ExecuteNonQueryAsync(attemptToken).ConfigureAwait(false);
            }

            var result = await work(connection, transaction, attemptToken).ConfigureAwait(false);
            if (commitWhen is null || commitWhen(result))
            {
                await CommitWriteAsync(transaction, attemptToken).ConfigureAwait(false);
            }
            else
            {
                await transaction.RollbackAsync(attemptToken).ConfigureAwait(false);
            }

            return result;
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in a READ COMMITTED transaction without the schema's write lock. The work is
    /// either one statement on one row, which PostgreSQL's row lock makes atomic, or a write to rows that no other
    /// writer touches, such as the rows of a running vulnerability import. Either way it need not wait for writers
    /// of other rows. A transient fault re-runs it on a new connection.
    /// </summary>
    private ValueTask<T> WriteRowAsync<T>(Func<NpgsqlConnection, NpgsqlTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await _dataSource.OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, attemptToken).ConfigureAwait(false);
            var result = await work(connection, transaction, attemptToken).ConfigureAwait(false);
            await CommitWriteAsync(transaction, attemptToken).ConfigureAwait(false);
            return result;
        }, cancellationToken);

    private static NpgsqlCommand CreateCommand(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static async Task ExecuteNonQueryAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ExecuteScalarAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, sql);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static async Task<long?> FindRepositoryIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM repositories WHERE name = @name;");
        command.Parameters.AddWithValue("@name", repository.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The condition, on a <c>repositories</c> row aliased <c>r</c>, that the repository is listed: it was created with
    /// settings, or it holds content (a manifest or a blob link). Upload sessions alone (a push that started and never
    /// finished) do not make a repository visible.
    /// </summary>
    private const string RepositoryHasContent =
        "(r.has_settings OR EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) OR EXISTS (SELECT 1 FROM blob_links b WHERE b.repository_id = r.id))";

    private static async Task<long?> FindRepositoryWithContentIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, $"SELECT r.id FROM repositories r WHERE r.name = @name AND {RepositoryHasContent};");
        command.Parameters.AddWithValue("@name", repository.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private async Task<long> GetOrCreateRepositoryIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        var existing = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
        if (existing is { } id)
        {
            return id;
        }

        await using var command = CreateCommand(connection, transaction, "INSERT INTO repositories (name, created_at) VALUES (@name, @now) RETURNING id;");
        command.Parameters.AddWithValue("@name", repository.Value);
        command.Parameters.AddWithValue("@now", Now());
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <summary>Returns the current time as Unix time in milliseconds, the unit of every timestamp column.</summary>
    private long Now() => _timeProvider.GetUtcNow().ToUnixTimeMilliseconds();

    private static void ValidateDigest(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is the default value; pass a parsed or computed digest.", nameof(digest));
        }
    }
}

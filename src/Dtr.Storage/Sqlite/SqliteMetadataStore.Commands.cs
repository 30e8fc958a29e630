using System.Globalization;
using Dtr.Digests;
using Dtr.Names;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Connections, transactions and the small queries that several operations share.</summary>
internal sealed partial class SqliteMetadataStore
{
    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);

            // Both settings belong to the connection, not the file, so every open sets them again. In WAL mode,
            // synchronous=NORMAL keeps every commit atomic, and a power loss can roll back the most recent commits
            // but leaves the database consistent (SQLite documentation, "PRAGMA synchronous").
            var pragmas = $"PRAGMA busy_timeout = {_busyTimeoutMilliseconds.ToString(CultureInfo.InvariantCulture)}; PRAGMA synchronous = NORMAL;";
            await ExecuteNonQueryAsync(connection, null, pragmas, cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in a deferred (read) transaction. A busy or locked database re-runs the whole
    /// transaction on a new connection (see <see cref="RunAsync"/>).
    /// </summary>
    private ValueTask<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            await using var transaction = connection.BeginTransaction(deferred: true);
            var result = await work(connection, transaction, attemptToken).ConfigureAwait(false);
            await transaction.CommitAsync(attemptToken).ConfigureAwait(false);
            return result;
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> in an immediate transaction, then commits it unless <paramref name="commitWhen"/>
    /// rejects the result, in which case every change is rolled back. An exception from <paramref name="work"/> also
    /// rolls back. A busy or locked database re-runs the whole transaction on a new connection (see
    /// <see cref="RunAsync"/>).
    /// </summary>
    private ValueTask<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, CancellationToken, Task<T>> work, CancellationToken cancellationToken, Func<T, bool>? commitWhen = null) =>
        RunAsync(async attemptToken =>
        {
            await using var connection = await OpenConnectionAsync(attemptToken).ConfigureAwait(false);
            await using var transaction = connection.BeginTransaction(deferred: false);
            var result = await work(connection, transaction, attemptToken).ConfigureAwait(false);
            if (commitWhen is null || commitWhen(result))
            {
                await transaction.CommitAsync(attemptToken).ConfigureAwait(false);
            }
            else
            {
                await transaction.RollbackAsync(attemptToken).ConfigureAwait(false);
            }

            return result;
        }, cancellationToken);

    private static SqliteCommand CreateCommand(SqliteConnection connection, SqliteTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static async Task ExecuteNonQueryAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ExecuteScalarAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, sql);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<string>> ReadStringsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var values = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            values.Add(reader.GetString(0));
        }

        return values;
    }

    private static async Task<int> GetSchemaVersionAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        var result = await ExecuteScalarAsync(connection, transaction, "PRAGMA user_version;", cancellationToken).ConfigureAwait(false);
        return Convert.ToInt32(result, CultureInfo.InvariantCulture);
    }

    private static async Task<long?> FindRepositoryIdAsync(SqliteConnection connection, SqliteTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM repositories WHERE name = $name;");
        command.Parameters.AddWithValue("$name", repository.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// The condition, on a <c>repositories</c> row aliased <c>r</c>, that the repository is listed: it was created with
    /// settings, or it holds content (a manifest or a blob link). Upload sessions alone (a push that started and never
    /// finished) do not make a repository visible.
    /// </summary>
    private const string RepositoryHasContent =
        "(r.has_settings = 1 OR EXISTS (SELECT 1 FROM manifests m WHERE m.repository_id = r.id) OR EXISTS (SELECT 1 FROM blob_links b WHERE b.repository_id = r.id))";

    private static async Task<long?> FindRepositoryWithContentIdAsync(SqliteConnection connection, SqliteTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, $"SELECT r.id FROM repositories r WHERE r.name = $name AND {RepositoryHasContent};");
        command.Parameters.AddWithValue("$name", repository.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private async Task<long> GetOrCreateRepositoryIdAsync(SqliteConnection connection, SqliteTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        var existing = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
        if (existing is { } id)
        {
            return id;
        }

        await using var command = CreateCommand(connection, transaction, "INSERT INTO repositories (name, created_at) VALUES ($name, $now) RETURNING id;");
        command.Parameters.AddWithValue("$name", repository.Value);
        command.Parameters.AddWithValue("$now", Now());
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

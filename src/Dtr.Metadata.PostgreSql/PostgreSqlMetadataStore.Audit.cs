using System.Text;
using Dtr.Storage.Audit;
using Npgsql;
using NpgsqlTypes;

namespace Dtr.Metadata.PostgreSql;

/// <summary>The audit log, kept in the <c>audit_entries</c> table.</summary>
internal sealed partial class PostgreSqlMetadataStore : IAuditStore
{
    /// <inheritdoc />
    /// <remarks>
    /// One INSERT from arrays stores the whole batch in one round trip. Appends touch no existing rows, so they skip
    /// the schema's write lock.
    /// </remarks>
    public async ValueTask AppendAuditEntriesAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        AuditStoreArguments.ValidateAppend(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO audit_entries (time, actor, client_address, repository, action, result, status, detail)
                SELECT time, actor, client_address, repository, action, result, status, detail FROM unnest(@time, @actor, @client_address, @repository, @action, @result, @status, @detail)
                WITH ORDINALITY AS batch (time, actor, client_address, repository, action, result, status, detail, position)
                ORDER BY position;
                """);
            command.Parameters.Add(new NpgsqlParameter<long[]>("@time", entries.Select(entry => entry.Time.ToUnixTimeMilliseconds()).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string?[]>("@actor", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = entries.Select(entry => entry.Actor).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string?[]>("@client_address", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = entries.Select(entry => entry.ClientAddress).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string?[]>("@repository", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = entries.Select(entry => entry.Repository).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<string[]>("@action", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = entries.Select(entry => entry.Action).ToArray() });
            command.Parameters.Add(new NpgsqlParameter<short[]>("@result", entries.Select(entry => (short)entry.Result).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<int[]>("@status", entries.Select(entry => entry.Status).ToArray()));
            command.Parameters.Add(new NpgsqlParameter<string?[]>("@detail", NpgsqlDbType.Array | NpgsqlDbType.Text) { TypedValue = entries.Select(entry => entry.Detail).ToArray() });
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>
    /// NOTE: with several hosts appending at once, an entry can commit after one with a higher sequence number, so a
    /// reader that pages through the newest entries while they are written may skip it.
    /// </remarks>
    public ValueTask<IReadOnlyList<StoredAuditEntry>> ListAuditEntriesAsync(AuditFilter filter, long? before, int limit, CancellationToken cancellationToken = default)
    {
        AuditStoreArguments.ValidateList(filter, limit);
        return ReadStatementAsync<IReadOnlyList<StoredAuditEntry>>(async (connection, transaction, cancellationToken) =>
        {
            var sql = new StringBuilder("SELECT seq, time, actor, client_address, repository, action, result, status, detail FROM audit_entries WHERE TRUE");
            await using var command = CreateCommand(connection, transaction, "");
            AddCondition(command, sql, "seq < @before", "@before", before);
            AddCondition(command, sql, "actor = @actor", "@actor", filter.Actor);
            AddCondition(command, sql, "repository = @repository", "@repository", filter.Repository);
            AddCondition(command, sql, "action = @action", "@action", filter.Action);
            AddCondition(command, sql, "result = @result", "@result", filter.Result is { } result ? (short)result : null);
            AddCondition(command, sql, "time >= @since", "@since", filter.Since?.ToUnixTimeMilliseconds());
            AddCondition(command, sql, "time < @until", "@until", filter.Until?.ToUnixTimeMilliseconds());
            sql.Append(" ORDER BY seq DESC LIMIT @limit;");
            command.Parameters.AddWithValue("@limit", limit);
            command.CommandText = sql.ToString();

            var entries = new List<StoredAuditEntry>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new StoredAuditEntry(
                    reader.GetInt64(0),
                    new AuditEntry(
                        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)),
                        reader.IsDBNull(2) ? null : reader.GetString(2),
                        reader.IsDBNull(3) ? null : reader.GetString(3),
                        reader.IsDBNull(4) ? null : reader.GetString(4),
                        reader.GetString(5),
                        (AuditResult)reader.GetInt16(6),
                        reader.GetInt32(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8))));
            }

            return entries;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<long> DeleteAuditEntriesBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM audit_entries WHERE time < @cutoff;");
            command.Parameters.AddWithValue("@cutoff", cutoff.ToUnixTimeMilliseconds());
            return (long)await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private static void AddCondition(NpgsqlCommand command, StringBuilder sql, string condition, string parameter, object? value)
    {
        if (value is null)
        {
            return;
        }

        sql.Append(" AND ").Append(condition);
        command.Parameters.AddWithValue(parameter, value);
    }
}

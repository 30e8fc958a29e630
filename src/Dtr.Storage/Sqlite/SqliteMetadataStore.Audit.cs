using System.Text;
using Dtr.Metadata;
using Dtr.Storage.Audit;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>The audit log, kept in the <c>audit_entries</c> table.</summary>
internal sealed partial class SqliteMetadataStore : IAuditStore
{
    /// <inheritdoc />
    public async ValueTask AppendAuditEntriesAsync(IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        AuditStoreArguments.ValidateAppend(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO audit_entries (time, actor, client_address, repository, action, result, status, detail)
                VALUES ($time, $actor, $client_address, $repository, $action, $result, $status, $detail);
                """);
            var time = command.Parameters.Add("$time", SqliteType.Integer);
            var actor = command.Parameters.Add("$actor", SqliteType.Text);
            var clientAddress = command.Parameters.Add("$client_address", SqliteType.Text);
            var repository = command.Parameters.Add("$repository", SqliteType.Text);
            var action = command.Parameters.Add("$action", SqliteType.Text);
            var result = command.Parameters.Add("$result", SqliteType.Integer);
            var status = command.Parameters.Add("$status", SqliteType.Integer);
            var detail = command.Parameters.Add("$detail", SqliteType.Text);
            foreach (var entry in entries)
            {
                time.Value = entry.Time.ToUnixTimeMilliseconds();
                actor.Value = (object?)entry.Actor ?? DBNull.Value;
                clientAddress.Value = (object?)entry.ClientAddress ?? DBNull.Value;
                repository.Value = (object?)entry.Repository ?? DBNull.Value;
                action.Value = entry.Action;
                result.Value = (int)entry.Result;
                status.Value = entry.Status;
                detail.Value = (object?)entry.Detail ?? DBNull.Value;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StoredAuditEntry>> ListAuditEntriesAsync(AuditFilter filter, long? before, int limit, CancellationToken cancellationToken = default)
    {
        AuditStoreArguments.ValidateList(filter, limit);
        return ReadAsync<IReadOnlyList<StoredAuditEntry>>(async (connection, transaction, cancellationToken) =>
        {
            var sql = new StringBuilder("SELECT seq, time, actor, client_address, repository, action, result, status, detail FROM audit_entries WHERE 1 = 1");
            await using var command = CreateCommand(connection, transaction, "");
            AddCondition(command, sql, "seq < $before", "$before", before);
            AddCondition(command, sql, "actor = $actor", "$actor", filter.Actor);
            AddCondition(command, sql, "repository = $repository", "$repository", filter.Repository);
            AddCondition(command, sql, "action = $action", "$action", filter.Action);
            AddCondition(command, sql, "result = $result", "$result", filter.Result is { } result ? (int)result : null);
            AddCondition(command, sql, "time >= $since", "$since", filter.Since?.ToUnixTimeMilliseconds());
            AddCondition(command, sql, "time < $until", "$until", filter.Until?.ToUnixTimeMilliseconds());
            sql.Append(" ORDER BY seq DESC LIMIT $limit;");
            command.Parameters.AddWithValue("$limit", limit);
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
                        (AuditResult)reader.GetInt32(6),
                        reader.GetInt32(7),
                        reader.IsDBNull(8) ? null : reader.GetString(8))));
            }

            return entries;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<long> DeleteAuditEntriesBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM audit_entries WHERE time < $cutoff;");
            command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            return (long)await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private static void AddCondition(SqliteCommand command, StringBuilder sql, string condition, string parameter, object? value)
    {
        if (value is null)
        {
            return;
        }

        sql.Append(" AND ").Append(condition);
        command.Parameters.AddWithValue(parameter, value);
    }
}

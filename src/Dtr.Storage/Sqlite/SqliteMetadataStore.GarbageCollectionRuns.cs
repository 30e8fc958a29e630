using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dtr.Digests;
using Dtr.Metadata;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>The records of garbage collection runs and the items each run removed.</summary>
internal sealed partial class SqliteMetadataStore
{
    private const string RunColumns = """
        id, trigger, dry_run, delete_untagged, max_duration_ms, requested_by, host, status, started_at, ended_at,
        heartbeat_at, cancel_requested, manifests_deleted, blob_links_deleted, blobs_deleted, bytes_freed, uploads_purged, errors
        """;

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">A run with the same id exists.</exception>
    public async ValueTask CreateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentException.ThrowIfNullOrEmpty(run.Id);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                INSERT INTO gc_runs ({RunColumns})
                VALUES ($id, $trigger, $dry_run, $delete_untagged, $max_duration_ms, $requested_by, $host, $status, $started_at, $ended_at,
                        $heartbeat_at, $cancel_requested, $manifests_deleted, $blob_links_deleted, $blobs_deleted, $bytes_freed, $uploads_purged, $errors)
                ON CONFLICT (id) DO NOTHING;
                """);
            AddRunParameters(command, run);
            command.Parameters.AddWithValue("$trigger", (int)run.Trigger);
            command.Parameters.AddWithValue("$dry_run", run.DryRun ? 1 : 0);
            command.Parameters.AddWithValue("$delete_untagged", run.DeleteUntagged ? 1 : 0);
            command.Parameters.AddWithValue("$max_duration_ms", run.MaxDuration is { } maxDuration ? (long)maxDuration.TotalMilliseconds : DBNull.Value);
            command.Parameters.AddWithValue("$requested_by", (object?)run.RequestedBy ?? DBNull.Value);
            command.Parameters.AddWithValue("$host", (object?)run.Host ?? DBNull.Value);
            command.Parameters.AddWithValue("$cancel_requested", run.CancelRequested ? 1 : 0);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                throw new InvalidOperationException($"A garbage collection run with id '{run.Id}' already exists. Use a new id for each run.");
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Does nothing when the run does not exist.</remarks>
    public async ValueTask UpdateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE gc_runs SET
                    status = $status, started_at = $started_at, ended_at = $ended_at, heartbeat_at = $heartbeat_at,
                    manifests_deleted = $manifests_deleted, blob_links_deleted = $blob_links_deleted, blobs_deleted = $blobs_deleted,
                    bytes_freed = $bytes_freed, uploads_purged = $uploads_purged, errors = $errors
                WHERE id = $id;
                """);
            AddRunParameters(command, run);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<GarbageCollectionRun?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {RunColumns} FROM gc_runs WHERE id = $id;");
            command.Parameters.AddWithValue("$id", runId);
            var runs = await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
            return runs.Count == 0 ? null : runs[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>An <paramref name="after"/> that names no run returns an empty list.</remarks>
    public ValueTask<IReadOnlyList<GarbageCollectionRun>> ListRunsAsync(string? after, int limit, GarbageCollectionTrigger? trigger = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string>();
        if (trigger is not null)
        {
            conditions.Add("trigger = $trigger");
        }

        if (after is not null)
        {
            // A row value comparison that yields NULL, so no rows, when the run does not exist.
            conditions.Add("(started_at, id) < (SELECT started_at, id FROM gc_runs WHERE id = $after)");
        }

        var where = conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        var sql = $"SELECT {RunColumns} FROM gc_runs {where} ORDER BY started_at DESC, id DESC LIMIT $limit;";
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (trigger is not null)
            {
                command.Parameters.AddWithValue("$trigger", (int)trigger.Value);
            }

            if (after is not null)
            {
                command.Parameters.AddWithValue("$after", after);
            }

            return await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> RequestRunCancellationAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "UPDATE gc_runs SET cancel_requested = 1 WHERE id = $id AND status = $running;");
            command.Parameters.AddWithValue("$id", runId);
            command.Parameters.AddWithValue("$running", (int)GarbageCollectionStatus.Running);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<int> MarkRunsInterruptedAsync(string exceptRunId, DateTimeOffset endedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exceptRunId);
        var count = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE gc_runs SET status = $interrupted, ended_at = $ended_at
                WHERE status = $running AND id <> $except;
                """);
            command.Parameters.AddWithValue("$interrupted", (int)GarbageCollectionStatus.Interrupted);
            command.Parameters.AddWithValue("$running", (int)GarbageCollectionStatus.Running);
            command.Parameters.AddWithValue("$ended_at", endedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$except", exceptRunId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            SqliteLog.RunsMarkedInterrupted(_logger, count, exceptRunId);
        }

        return count;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The run does not exist.</exception>
    public async ValueTask AddRunItemsAsync(string runId, IReadOnlyList<GarbageCollectionItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return;
        }

        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            long position;
            await using (var last = CreateCommand(connection, transaction, """
                SELECT (SELECT max(position) FROM gc_run_items WHERE run_id = $run_id), EXISTS (SELECT 1 FROM gc_runs WHERE id = $run_id);
                """))
            {
                last.Parameters.AddWithValue("$run_id", runId);
                await using var reader = await last.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (reader.GetInt64(1) == 0)
                {
                    throw new InvalidOperationException($"The garbage collection run '{runId}' does not exist; create it with CreateRunAsync before adding items.");
                }

                position = reader.IsDBNull(0) ? 0 : reader.GetInt64(0);
            }

            await using var insert = CreateCommand(connection, transaction, """
                INSERT INTO gc_run_items (run_id, position, kind, repository, digest, upload_id, size)
                VALUES ($run_id, $position, $kind, $repository, $digest, $upload_id, $size);
                """);
            insert.Parameters.AddWithValue("$run_id", runId);
            var positionParameter = insert.Parameters.Add("$position", SqliteType.Integer);
            var kindParameter = insert.Parameters.Add("$kind", SqliteType.Integer);
            var repositoryParameter = insert.Parameters.Add("$repository", SqliteType.Text);
            var digestParameter = insert.Parameters.Add("$digest", SqliteType.Text);
            var uploadParameter = insert.Parameters.Add("$upload_id", SqliteType.Text);
            var sizeParameter = insert.Parameters.Add("$size", SqliteType.Integer);
            foreach (var item in items)
            {
                positionParameter.Value = ++position;
                kindParameter.Value = (int)item.Kind;
                repositoryParameter.Value = (object?)item.Repository ?? DBNull.Value;
                digestParameter.Value = item.Digest is { } digest ? digest.Value : DBNull.Value;
                uploadParameter.Value = (object?)item.UploadId ?? DBNull.Value;
                sizeParameter.Value = item.Size;
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GarbageCollectionItem>> ListRunItemsAsync(string runId, long after, int limit, GarbageCollectionItemKind? kind = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var sql = $"""
            SELECT position, kind, repository, digest, upload_id, size FROM gc_run_items
            WHERE run_id = $run_id AND position > $after {(kind is null ? "" : "AND kind = $kind")}
            ORDER BY position
            LIMIT $limit;
            """;
        return ReadAsync<IReadOnlyList<GarbageCollectionItem>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$run_id", runId);
            command.Parameters.AddWithValue("$after", after);
            command.Parameters.AddWithValue("$limit", limit);
            if (kind is not null)
            {
                command.Parameters.AddWithValue("$kind", (int)kind.Value);
            }

            var items = new List<GarbageCollectionItem>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(new GarbageCollectionItem(
                    reader.GetInt64(0),
                    (GarbageCollectionItemKind)reader.GetInt32(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5)));
            }

            return items;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<int> DeleteRunsEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default)
    {
        var count = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            // The items are deleted explicitly in case a custom connection string turns foreign keys off.
            await using var command = CreateCommand(connection, transaction, """
                DELETE FROM gc_run_items WHERE run_id IN (SELECT id FROM gc_runs WHERE ended_at < $ended_before);
                DELETE FROM gc_runs WHERE ended_at < $ended_before;
                SELECT changes();
                """);
            command.Parameters.AddWithValue("$ended_before", endedBefore.ToUnixTimeMilliseconds());
            return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken).ConfigureAwait(false);
        if (count > 0)
        {
            SqliteLog.RunsDeleted(_logger, count, endedBefore);
        }

        return count;
    }

    /// <summary>Adds the parameters that both <see cref="CreateRunAsync"/> and <see cref="UpdateRunAsync"/> write.</summary>
    private static void AddRunParameters(SqliteCommand command, GarbageCollectionRun run)
    {
        command.Parameters.AddWithValue("$id", run.Id);
        command.Parameters.AddWithValue("$status", (int)run.Status);
        command.Parameters.AddWithValue("$started_at", run.StartedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$ended_at", run.EndedAt is { } endedAt ? endedAt.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("$heartbeat_at", run.HeartbeatAt is { } heartbeatAt ? heartbeatAt.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("$manifests_deleted", run.ManifestsDeleted);
        command.Parameters.AddWithValue("$blob_links_deleted", run.BlobLinksDeleted);
        command.Parameters.AddWithValue("$blobs_deleted", run.BlobsDeleted);
        command.Parameters.AddWithValue("$bytes_freed", run.BytesFreed);
        command.Parameters.AddWithValue("$uploads_purged", run.UploadsPurged);
        command.Parameters.AddWithValue("$errors", JsonSerializer.Serialize(run.Errors.ToArray(), RunErrorsJsonContext.Default.StringArray));
    }

    private static async Task<IReadOnlyList<GarbageCollectionRun>> ReadRunsAsync(SqliteCommand command, CancellationToken cancellationToken)
    {
        var runs = new List<GarbageCollectionRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(new GarbageCollectionRun
            {
                Id = reader.GetString(0),
                Trigger = (GarbageCollectionTrigger)reader.GetInt32(1),
                DryRun = reader.GetInt64(2) != 0,
                DeleteUntagged = reader.GetInt64(3) != 0,
                MaxDuration = reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                RequestedBy = reader.IsDBNull(5) ? null : reader.GetString(5),
                Host = reader.IsDBNull(6) ? null : reader.GetString(6),
                Status = (GarbageCollectionStatus)reader.GetInt32(7),
                StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                EndedAt = reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                HeartbeatAt = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                CancelRequested = reader.GetInt64(11) != 0,
                ManifestsDeleted = reader.GetInt64(12),
                BlobLinksDeleted = reader.GetInt64(13),
                BlobsDeleted = reader.GetInt64(14),
                BytesFreed = reader.GetInt64(15),
                UploadsPurged = reader.GetInt64(16),
                Errors = JsonSerializer.Deserialize(reader.GetString(17), RunErrorsJsonContext.Default.StringArray) ?? [],
            });
        }

        return runs;
    }
}

[JsonSerializable(typeof(string[]))]
internal sealed partial class RunErrorsJsonContext : JsonSerializerContext;

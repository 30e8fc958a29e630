using System.Text.Json;
using System.Text.Json.Serialization;
using Dtr.Digests;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>The records of garbage collection runs and the items each run removed.</summary>
internal sealed partial class PostgreSqlMetadataStore
{
    private const string RunColumns =
        "id, trigger, dry_run, delete_untagged, max_duration_ms, requested_by, host, status, started_at, ended_at, heartbeat_at, " +
        "cancel_requested, manifests_deleted, blob_links_deleted, blobs_deleted, bytes_freed, uploads_purged, errors";

    /// <inheritdoc />
    /// <remarks>Times and <see cref="GarbageCollectionRun.MaxDuration"/> are stored in whole milliseconds.</remarks>
    public async ValueTask CreateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        var inserted = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                INSERT INTO gc_runs ({RunColumns})
                VALUES (@id, @trigger, @dry_run, @delete_untagged, @max_duration_ms, @requested_by, @host, @status, @started_at,
                        @ended_at, @heartbeat_at, @cancel_requested, @manifests_deleted, @blob_links_deleted, @blobs_deleted,
                        @bytes_freed, @uploads_purged, @errors)
                ON CONFLICT (id) DO NOTHING;
                """);
            AddRunParameters(command, run);
            command.Parameters.AddWithValue("@trigger", (short)run.Trigger);
            command.Parameters.AddWithValue("@dry_run", run.DryRun);
            command.Parameters.AddWithValue("@delete_untagged", run.DeleteUntagged);
            command.Parameters.AddWithValue("@max_duration_ms", run.MaxDuration is { } maxDuration ? maxDuration.Ticks / TimeSpan.TicksPerMillisecond : DBNull.Value);
            command.Parameters.AddWithValue("@requested_by", (object?)run.RequestedBy ?? DBNull.Value);
            command.Parameters.AddWithValue("@host", (object?)run.Host ?? DBNull.Value);
            command.Parameters.AddWithValue("@cancel_requested", run.CancelRequested);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken).ConfigureAwait(false);

        if (!inserted)
        {
            throw new InvalidOperationException($"A garbage collection run with id '{run.Id}' already exists. Use a new id for each run.");
        }
    }

    /// <inheritdoc />
    /// <remarks>Does nothing when the run does not exist.</remarks>
    public async ValueTask UpdateRunAsync(GarbageCollectionRun run, CancellationToken cancellationToken = default)
    {
        ValidateRun(run);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE gc_runs SET
                    status = @status,
                    started_at = @started_at,
                    ended_at = @ended_at,
                    heartbeat_at = @heartbeat_at,
                    manifests_deleted = @manifests_deleted,
                    blob_links_deleted = @blob_links_deleted,
                    blobs_deleted = @blobs_deleted,
                    bytes_freed = @bytes_freed,
                    uploads_purged = @uploads_purged,
                    errors = @errors
                WHERE id = @id;
                """);
            AddRunParameters(command, run);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<GarbageCollectionRun?> GetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {RunColumns} FROM gc_runs WHERE id = @id;");
            command.Parameters.AddWithValue("@id", runId);
            var runs = await ReadRunsAsync(command, cancellationToken).ConfigureAwait(false);
            return runs.Count == 0 ? null : runs[0];
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>When the run <paramref name="after"/> does not exist, the list is empty.</remarks>
    public ValueTask<IReadOnlyList<GarbageCollectionRun>> ListRunsAsync(string? after, int limit, GarbageCollectionTrigger? trigger = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string>();
        if (after is not null)
        {
            conditions.Add("(started_at, id) < (SELECT started_at, id FROM gc_runs WHERE id = @after)");
        }

        if (trigger is not null)
        {
            conditions.Add("trigger = @trigger");
        }

        var where = conditions.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", conditions);
        var sql = $"SELECT {RunColumns} FROM gc_runs {where} ORDER BY started_at DESC, id DESC LIMIT @limit;";
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@limit", limit);
            if (after is not null)
            {
                command.Parameters.AddWithValue("@after", after);
            }

            if (trigger is { } value)
            {
                command.Parameters.AddWithValue("@trigger", (short)value);
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
            await using var command = CreateCommand(connection, transaction, "UPDATE gc_runs SET cancel_requested = TRUE WHERE id = @id AND status = @running;");
            command.Parameters.AddWithValue("@id", runId);
            command.Parameters.AddWithValue("@running", (short)GarbageCollectionStatus.Running);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> MarkRunsInterruptedAsync(string exceptRunId, DateTimeOffset endedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(exceptRunId);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE gc_runs SET status = @interrupted, ended_at = @ended_at
                WHERE status = @running AND id <> @except;
                """);
            command.Parameters.AddWithValue("@interrupted", (short)GarbageCollectionStatus.Interrupted);
            command.Parameters.AddWithValue("@running", (short)GarbageCollectionStatus.Running);
            command.Parameters.AddWithValue("@ended_at", endedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@except", exceptRunId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>All items go to the server in one statement, as arrays, whatever their number.</remarks>
    /// <exception cref="InvalidOperationException">The run does not exist.</exception>
    public async ValueTask AddRunItemsAsync(string runId, IReadOnlyList<GarbageCollectionItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentNullException.ThrowIfNull(items);
        if (items.Count == 0)
        {
            return;
        }

        var kinds = new short[items.Count];
        var repositories = new string?[items.Count];
        var digests = new string?[items.Count];
        var uploadIds = new string?[items.Count];
        var sizes = new long[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i] ?? throw new ArgumentException($"The item at index {i} is null.", nameof(items));
            if (item.Digest is { } digest)
            {
                ValidateDigest(digest);
            }

            kinds[i] = (short)item.Kind;
            repositories[i] = item.Repository;
            digests[i] = item.Digest?.Value;
            uploadIds[i] = item.UploadId;
            sizes[i] = item.Size;
        }

        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var exists = CreateCommand(connection, transaction, "SELECT 1 FROM gc_runs WHERE id = @run_id;"))
            {
                exists.Parameters.AddWithValue("@run_id", runId);
                if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    throw new InvalidOperationException($"The garbage collection run '{runId}' does not exist. Create it with CreateRunAsync before adding items.");
                }
            }

            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO gc_run_items (run_id, position, kind, repository, digest, upload_id, size)
                SELECT @run_id, base.last + i.ordinal, i.kind, i.repository, i.digest, i.upload_id, i.size
                FROM (SELECT COALESCE(max(position), 0) AS last FROM gc_run_items WHERE run_id = @run_id) AS base,
                     unnest(@kinds::smallint[], @repositories::text[], @digests::text[], @upload_ids::text[], @sizes::bigint[])
                         WITH ORDINALITY AS i (kind, repository, digest, upload_id, size, ordinal);
                """);
            command.Parameters.AddWithValue("@run_id", runId);
            command.Parameters.AddWithValue("@kinds", kinds);
            command.Parameters.AddWithValue("@repositories", repositories);
            command.Parameters.AddWithValue("@digests", digests);
            command.Parameters.AddWithValue("@upload_ids", uploadIds);
            command.Parameters.AddWithValue("@sizes", sizes);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<GarbageCollectionItem>> ListRunItemsAsync(string runId, long after, int limit, GarbageCollectionItemKind? kind = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(runId);
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var sql = kind is null
            ? "SELECT position, kind, repository, digest, upload_id, size FROM gc_run_items WHERE run_id = @run_id AND position > @after ORDER BY position LIMIT @limit;"
            : "SELECT position, kind, repository, digest, upload_id, size FROM gc_run_items WHERE run_id = @run_id AND position > @after AND kind = @kind ORDER BY position LIMIT @limit;";
        return ReadStatementAsync<IReadOnlyList<GarbageCollectionItem>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@run_id", runId);
            command.Parameters.AddWithValue("@after", after);
            command.Parameters.AddWithValue("@limit", limit);
            if (kind is { } value)
            {
                command.Parameters.AddWithValue("@kind", (short)value);
            }

            var items = new List<GarbageCollectionItem>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                items.Add(new GarbageCollectionItem(
                    reader.GetInt64(0),
                    (GarbageCollectionItemKind)reader.GetInt16(1),
                    reader.IsDBNull(2) ? null : reader.GetString(2),
                    reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)),
                    reader.IsDBNull(4) ? null : reader.GetString(4),
                    reader.GetInt64(5)));
            }

            return items;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Runs still running have no end time and are never deleted.</remarks>
    public ValueTask<int> DeleteRunsEndedBeforeAsync(DateTimeOffset endedBefore, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            // Deleting a run cascades to its items.
            await using var command = CreateCommand(connection, transaction, "DELETE FROM gc_runs WHERE ended_at < @ended_before;");
            command.Parameters.AddWithValue("@ended_before", endedBefore.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private static void ValidateRun(GarbageCollectionRun run)
    {
        ArgumentNullException.ThrowIfNull(run);
        if (string.IsNullOrEmpty(run.Id))
        {
            throw new ArgumentException("The run id is empty. Give each run a unique id.", nameof(run));
        }

        ArgumentNullException.ThrowIfNull(run.Errors);
    }

    /// <summary>Adds the parameters that both <see cref="CreateRunAsync"/> and <see cref="UpdateRunAsync"/> write.</summary>
    private static void AddRunParameters(NpgsqlCommand command, GarbageCollectionRun run)
    {
        command.Parameters.AddWithValue("@id", run.Id);
        command.Parameters.AddWithValue("@status", (short)run.Status);
        command.Parameters.AddWithValue("@started_at", run.StartedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("@ended_at", run.EndedAt is { } endedAt ? endedAt.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("@heartbeat_at", run.HeartbeatAt is { } heartbeatAt ? heartbeatAt.ToUnixTimeMilliseconds() : DBNull.Value);
        command.Parameters.AddWithValue("@manifests_deleted", run.ManifestsDeleted);
        command.Parameters.AddWithValue("@blob_links_deleted", run.BlobLinksDeleted);
        command.Parameters.AddWithValue("@blobs_deleted", run.BlobsDeleted);
        command.Parameters.AddWithValue("@bytes_freed", run.BytesFreed);
        command.Parameters.AddWithValue("@uploads_purged", run.UploadsPurged);
        command.Parameters.AddWithValue("@errors", JsonSerializer.Serialize(run.Errors.ToArray(), GarbageCollectionJsonContext.Default.StringArray));
    }

    /// <summary>Reads runs selected with <see cref="RunColumns"/>.</summary>
    private static async Task<IReadOnlyList<GarbageCollectionRun>> ReadRunsAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        var runs = new List<GarbageCollectionRun>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            runs.Add(new GarbageCollectionRun
            {
                Id = reader.GetString(0),
                Trigger = (GarbageCollectionTrigger)reader.GetInt16(1),
                DryRun = reader.GetBoolean(2),
                DeleteUntagged = reader.GetBoolean(3),
                MaxDuration = reader.IsDBNull(4) ? null : TimeSpan.FromMilliseconds(reader.GetInt64(4)),
                RequestedBy = reader.IsDBNull(5) ? null : reader.GetString(5),
                Host = reader.IsDBNull(6) ? null : reader.GetString(6),
                Status = (GarbageCollectionStatus)reader.GetInt16(7),
                StartedAt = DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)),
                EndedAt = reader.IsDBNull(9) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(9)),
                HeartbeatAt = reader.IsDBNull(10) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
                CancelRequested = reader.GetBoolean(11),
                ManifestsDeleted = reader.GetInt64(12),
                BlobLinksDeleted = reader.GetInt64(13),
                BlobsDeleted = reader.GetInt64(14),
                BytesFreed = reader.GetInt64(15),
                UploadsPurged = reader.GetInt64(16),
                Errors = JsonSerializer.Deserialize(reader.GetString(17), GarbageCollectionJsonContext.Default.StringArray) ?? [],
            });
        }

        return runs;
    }
}

[JsonSerializable(typeof(string[]))]
internal sealed partial class GarbageCollectionJsonContext : JsonSerializerContext;

using System.Globalization;
using Dtr.Scanning;
using Dtr.Storage.Scanning;
using Npgsql;
using NpgsqlTypes;

namespace Dtr.Metadata.PostgreSql;

/// <summary>The vulnerability database of image scanning: imports, sources, records and lookups by package.</summary>
/// <remarks>
/// An import's rows are written under its id while it is in state importing, and lookups read only the imports that a
/// source row names as current, so a half-written import is never visible. Adding rows copies them in with binary
/// COPY and skips the schema's write lock, because nothing else writes the rows of a running import. Replaced,
/// aborted and removed imports turn discarded in the transaction that switches the source, and their rows are deleted
/// in a later transaction, also without the write lock. A crash between leaves discarded rows that the next Begin,
/// Complete, Abort or Remove deletes.
/// </remarks>
internal sealed partial class PostgreSqlMetadataStore : IScanStore
{
    private const short ImportImporting = 0;
    private const short ImportCompleted = 1;
    private const short ImportDiscarded = 2;

    /// <inheritdoc />
    public async ValueTask<long> BeginVulnerabilityImportAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        var importId = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE vulnerability_imports SET state = @discarded WHERE source = @source AND state = @importing;
                INSERT INTO vulnerability_imports (source, started_at, state) VALUES (@source, @now, @importing) RETURNING id;
                """);
            command.Parameters.AddWithValue("@discarded", ImportDiscarded);
            command.Parameters.AddWithValue("@importing", ImportImporting);
            command.Parameters.AddWithValue("@source", source);
            command.Parameters.AddWithValue("@now", Now());
            return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken).ConfigureAwait(false);

        await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
        return importId;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An entry has no id, no package keys or no JSON.</exception>
    public async ValueTask AddVulnerabilitiesAsync(long importId, IReadOnlyList<VulnerabilityEntry> entries, CancellationToken cancellationToken = default)
    {
        ScanStoreArguments.ValidateEntries(entries);
        if (entries.Count == 0)
        {
            return;
        }

        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            // FOR SHARE keeps a concurrent Complete, Abort or Begin from changing the import's state until this commits.
            await RequireImportingAsync(connection, transaction, importId, "FOR SHARE", cancellationToken).ConfigureAwait(false);

            var ids = new long[entries.Count];
            await using (var reserve = CreateCommand(connection, transaction, "SELECT nextval(pg_get_serial_sequence('vulnerability_records', 'id')) FROM generate_series(1, @count);"))
            {
                reserve.Parameters.AddWithValue("@count", entries.Count);
                await using var reader = await reserve.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                for (var i = 0; await reader.ReadAsync(cancellationToken).ConfigureAwait(false); i++)
                {
                    ids[i] = reader.GetInt64(0);
                }
            }

            await using (var records = await connection.BeginBinaryImportAsync(
                "COPY vulnerability_records (id, import_id, vulnerability_id, severity, packages, record_json) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < entries.Count; i++)
                {
                    var entry = entries[i];
                    await records.StartRowAsync(cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync(importId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync(entry.Id, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync((short)entry.Severity, NpgsqlDbType.Smallint, cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync(ScanStoreJson.SerializePackages(entry.Packages), NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                    await records.WriteAsync(entry.RecordJson, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                }

                await records.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var keys = await connection.BeginBinaryImportAsync(
                "COPY vulnerability_packages (import_id, ecosystem, package, record_id) FROM STDIN (FORMAT BINARY)",
                cancellationToken).ConfigureAwait(false))
            {
                for (var i = 0; i < entries.Count; i++)
                {
                    // A record that names one key twice is indexed once under it.
                    foreach (var key in entries[i].Packages.Distinct())
                    {
                        await keys.StartRowAsync(cancellationToken).ConfigureAwait(false);
                        await keys.WriteAsync(importId, NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                        await keys.WriteAsync(key.Ecosystem, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                        await keys.WriteAsync(key.Package, NpgsqlDbType.Text, cancellationToken).ConfigureAwait(false);
                        await keys.WriteAsync(ids[i], NpgsqlDbType.Bigint, cancellationToken).ConfigureAwait(false);
                    }
                }

                await keys.CompleteAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<VulnerabilityDatabaseState> CompleteVulnerabilityImportAsync(long importId, VulnerabilitySourceUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        ArgumentOutOfRangeException.ThrowIfNegative(update.RecordCount);
        var state = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var source = await RequireImportingAsync(connection, transaction, importId, "FOR UPDATE", cancellationToken).ConfigureAwait(false);

            // The previous copy turns discarded in the same transaction that makes this one current.
            await using (var command = CreateCommand(connection, transaction, """
                UPDATE vulnerability_imports SET state = @discarded
                WHERE id = (SELECT current_import_id FROM vulnerability_sources WHERE name = @name);
                UPDATE vulnerability_imports SET state = @completed WHERE id = @import_id;
                INSERT INTO vulnerability_sources (name, current_import_id, record_count, updated_at, etag, last_modified, archive_digest, signature_verified)
                VALUES (@name, @import_id, @record_count, @updated_at, @etag, @last_modified, @archive_digest, @signature_verified)
                ON CONFLICT (name) DO UPDATE SET
                    current_import_id = excluded.current_import_id,
                    record_count = excluded.record_count,
                    updated_at = excluded.updated_at,
                    etag = excluded.etag,
                    last_modified = excluded.last_modified,
                    archive_digest = excluded.archive_digest,
                    signature_verified = excluded.signature_verified;
                UPDATE vulnerability_database SET version = version + 1, updated_at = @now WHERE id = 1;
                """))
            {
                command.Parameters.AddWithValue("@discarded", ImportDiscarded);
                command.Parameters.AddWithValue("@completed", ImportCompleted);
                command.Parameters.AddWithValue("@name", source);
                command.Parameters.AddWithValue("@import_id", importId);
                command.Parameters.AddWithValue("@record_count", update.RecordCount);
                command.Parameters.AddWithValue("@updated_at", update.UpdatedAt.ToUnixTimeMilliseconds());
                command.Parameters.Add(new NpgsqlParameter<string?>("@etag", NpgsqlDbType.Text) { TypedValue = update.ETag });
                command.Parameters.Add(new NpgsqlParameter<long?>("@last_modified", NpgsqlDbType.Bigint) { TypedValue = update.LastModified?.ToUnixTimeMilliseconds() });
                command.Parameters.Add(new NpgsqlParameter<string?>("@archive_digest", NpgsqlDbType.Text) { TypedValue = update.ArchiveDigest });
                command.Parameters.AddWithValue("@signature_verified", update.SignatureVerified);
                command.Parameters.AddWithValue("@now", Now());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return await ReadDatabaseStateAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
        return state;
    }

    /// <inheritdoc />
    public async ValueTask AbortVulnerabilityImportAsync(long importId, CancellationToken cancellationToken = default)
    {
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "UPDATE vulnerability_imports SET state = @discarded WHERE id = @id AND state = @importing;");
            command.Parameters.AddWithValue("@discarded", ImportDiscarded);
            command.Parameters.AddWithValue("@importing", ImportImporting);
            command.Parameters.AddWithValue("@id", importId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveVulnerabilitySourceAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var removed = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var delete = CreateCommand(connection, transaction, "DELETE FROM vulnerability_sources WHERE name = @source;"))
            {
                delete.Parameters.AddWithValue("@source", source);
                if (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return false;
                }
            }

            // Every import of the source goes, including one that is still running: its Complete then throws.
            await using var command = CreateCommand(connection, transaction, """
                UPDATE vulnerability_imports SET state = @discarded WHERE source = @source;
                UPDATE vulnerability_database SET version = version + 1, updated_at = @now WHERE id = 1;
                """);
            command.Parameters.AddWithValue("@discarded", ImportDiscarded);
            command.Parameters.AddWithValue("@source", source);
            command.Parameters.AddWithValue("@now", Now());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (removed)
        {
            await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
        }

        return removed;
    }

    /// <inheritdoc />
    public ValueTask<VulnerabilityDatabaseState> GetVulnerabilityDatabaseAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(ReadDatabaseStateAsync, cancellationToken);

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<VulnerabilityEntry>> FindVulnerabilitiesAsync(IReadOnlyCollection<VulnerabilityPackageKey> packages, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(packages);
        var keys = packages.Distinct().ToArray();
        if (keys.Length == 0)
        {
            return [];
        }

        return await ReadStatementAsync<IReadOnlyList<VulnerabilityEntry>>(async (connection, transaction, cancellationToken) =>
        {
            // The keys travel as two arrays that unnest pairs up again, so one statement serves any number of keys.
            await using var command = CreateCommand(connection, transaction, """
                SELECT DISTINCT r.id, s.name, r.vulnerability_id, r.severity, r.packages, r.record_json
                FROM unnest(@ecosystems, @packages) AS requested (ecosystem, package)
                JOIN vulnerability_packages AS p ON p.ecosystem = requested.ecosystem AND p.package = requested.package
                JOIN vulnerability_sources AS s ON s.current_import_id = p.import_id
                JOIN vulnerability_records AS r ON r.id = p.record_id
                ORDER BY r.id;
                """);
            command.Parameters.AddWithValue("@ecosystems", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(key => key.Ecosystem).ToArray());
            command.Parameters.AddWithValue("@packages", NpgsqlDbType.Array | NpgsqlDbType.Text, keys.Select(key => key.Package).ToArray());

            var found = new List<VulnerabilityEntry>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                found.Add(new VulnerabilityEntry(
                    reader.GetString(2),
                    (Severity)reader.GetInt16(3),
                    ScanStoreJson.DeserializePackages(reader.GetString(4)),
                    reader.GetString(5))
                {
                    Source = reader.GetString(1),
                });
            }

            return found;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Locks an import in state importing with <paramref name="lockClause"/> and returns its source.</summary>
    /// <exception cref="InvalidOperationException">The import does not exist, has completed or was discarded.</exception>
    private static async Task<string> RequireImportingAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long importId, string lockClause, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, $"SELECT source, state FROM vulnerability_imports WHERE id = @id {lockClause};");
        command.Parameters.AddWithValue("@id", importId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"The vulnerability import {importId} does not exist; it was aborted, replaced by a newer import of its source, or never begun.");
        }

        if (reader.GetInt16(1) != ImportImporting)
        {
            throw new InvalidOperationException($"The vulnerability import {importId} of '{reader.GetString(0)}' has already completed or was discarded; begin a new import.");
        }

        return reader.GetString(0);
    }

    private static async Task<VulnerabilityDatabaseState> ReadDatabaseStateAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        long version = 0;
        DateTimeOffset? updatedAt = null;
        await using (var command = CreateCommand(connection, transaction, "SELECT version, updated_at FROM vulnerability_database WHERE id = 1;"))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                version = reader.GetInt64(0);
                updatedAt = reader.IsDBNull(1) ? null : FromUnixMilliseconds(reader.GetInt64(1));
            }
        }

        var sources = new List<VulnerabilitySource>();
        await using (var command = CreateCommand(connection, transaction, """
            SELECT name, record_count, updated_at, etag, last_modified, archive_digest, signature_verified
            FROM vulnerability_sources ORDER BY name;
            """))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sources.Add(new VulnerabilitySource(reader.GetString(0), reader.GetInt32(1), FromUnixMilliseconds(reader.GetInt64(2)))
                {
                    ETag = reader.IsDBNull(3) ? null : reader.GetString(3),
                    LastModified = reader.IsDBNull(4) ? null : FromUnixMilliseconds(reader.GetInt64(4)),
                    ArchiveDigest = reader.IsDBNull(5) ? null : reader.GetString(5),
                    SignatureVerified = reader.GetBoolean(6),
                });
            }
        }

        return new VulnerabilityDatabaseState(version, updatedAt, sources);
    }

    /// <summary>
    /// Deletes the rows of every discarded import and then the import rows, one import per transaction. These
    /// transactions skip the schema's write lock, because no other statement reads or writes discarded rows.
    /// </summary>
    private async Task PurgeDiscardedImportsAsync(CancellationToken cancellationToken)
    {
        var discarded = await ReadStatementAsync<IReadOnlyList<long>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT id FROM vulnerability_imports WHERE state = @discarded;");
            command.Parameters.AddWithValue("@discarded", ImportDiscarded);
            var ids = new List<long>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                ids.Add(reader.GetInt64(0));
            }

            return ids;
        }, cancellationToken).ConfigureAwait(false);

        foreach (var importId in discarded)
        {
            await WriteRowAsync(async (connection, transaction, cancellationToken) =>
            {
                await using var command = CreateCommand(connection, transaction, """
                    DELETE FROM vulnerability_packages WHERE import_id = @id;
                    DELETE FROM vulnerability_records WHERE import_id = @id;
                    DELETE FROM vulnerability_imports WHERE id = @id AND state = @discarded;
                    """);
                command.Parameters.AddWithValue("@id", importId);
                command.Parameters.AddWithValue("@discarded", ImportDiscarded);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
    }
}

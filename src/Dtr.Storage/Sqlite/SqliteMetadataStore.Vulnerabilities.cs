using System.Globalization;
using System.Text;
using Dtr.Scanning;
using Dtr.Storage.Scanning;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>The vulnerability database of image scanning: imports, sources, records and lookups by package.</summary>
/// <remarks>
/// An import's rows are written under its id while it is in state importing, and lookups read only the imports that a
/// source row names as current, so a half-written import is never visible. Replaced, aborted and removed imports turn
/// discarded in the transaction that switches the source, and their rows are then deleted in short transactions of
/// <see cref="PurgeBatchSize"/> rows each, so a large source does not hold the write lock for the whole delete. A crash
/// between leaves discarded rows that the next Begin, Complete, Abort or Remove deletes.
/// </remarks>
internal sealed partial class SqliteMetadataStore : IScanStore
{
    private const int ImportImporting = 0;
    private const int ImportCompleted = 1;
    private const int ImportDiscarded = 2;

    /// <summary>The number of rows each transaction of the purge of a discarded import deletes.</summary>
    private const int PurgeBatchSize = 5_000;

    /// <summary>The number of package keys per lookup statement, two parameters each, well below SQLite's limit of 32,766.</summary>
    private const int LookupChunkSize = 400;

    /// <inheritdoc />
    public async ValueTask<long> BeginVulnerabilityImportAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        var importId = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var discard = CreateCommand(connection, transaction, "UPDATE vulnerability_imports SET state = $discarded WHERE source = $source AND state = $importing;"))
            {
                discard.Parameters.AddWithValue("$discarded", ImportDiscarded);
                discard.Parameters.AddWithValue("$importing", ImportImporting);
                discard.Parameters.AddWithValue("$source", source);
                await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using var insert = CreateCommand(connection, transaction, "INSERT INTO vulnerability_imports (source, started_at, state) VALUES ($source, $now, $importing) RETURNING id;");
            insert.Parameters.AddWithValue("$source", source);
            insert.Parameters.AddWithValue("$now", Now());
            insert.Parameters.AddWithValue("$importing", ImportImporting);
            return Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
        }, cancellationToken).ConfigureAwait(false);

        await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
        return importId;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">An entry has no id, no package keys or no JSON.</exception>
    public async ValueTask AddVulnerabilitiesAsync(long importId, IReadOnlyList<VulnerabilityEntry> entries, CancellationToken cancellationToken = default)
    {
        ScanStoreArguments.ValidateEntries(entries);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await RequireImportingAsync(connection, transaction, importId, cancellationToken).ConfigureAwait(false);

            // One prepared statement per table, reused for every row of the batch.
            await using var insertRecord = CreateCommand(connection, transaction, """
                INSERT INTO vulnerability_records (import_id, vulnerability_id, severity, packages, record_json)
                VALUES ($import_id, $vulnerability_id, $severity, $packages, $record_json)
                RETURNING id;
                """);
            insertRecord.Parameters.AddWithValue("$import_id", importId);
            var vulnerabilityId = insertRecord.Parameters.Add("$vulnerability_id", SqliteType.Text);
            var severity = insertRecord.Parameters.Add("$severity", SqliteType.Integer);
            var packages = insertRecord.Parameters.Add("$packages", SqliteType.Text);
            var recordJson = insertRecord.Parameters.Add("$record_json", SqliteType.Text);
            insertRecord.Prepare();

            await using var insertKey = CreateCommand(connection, transaction, """
                INSERT INTO vulnerability_packages (import_id, ecosystem, package, record_id)
                VALUES ($import_id, $ecosystem, $package, $record_id);
                """);
            insertKey.Parameters.AddWithValue("$import_id", importId);
            var ecosystem = insertKey.Parameters.Add("$ecosystem", SqliteType.Text);
            var package = insertKey.Parameters.Add("$package", SqliteType.Text);
            var recordId = insertKey.Parameters.Add("$record_id", SqliteType.Integer);
            insertKey.Prepare();

            foreach (var entry in entries)
            {
                vulnerabilityId.Value = entry.Id;
                severity.Value = (int)entry.Severity;
                packages.Value = ScanStoreJson.SerializePackages(entry.Packages);
                recordJson.Value = entry.RecordJson;
                recordId.Value = Convert.ToInt64(await insertRecord.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);

                // A record that names one key twice is indexed once under it.
                foreach (var key in entry.Packages.Distinct())
                {
                    ecosystem.Value = key.Ecosystem;
                    package.Value = key.Package;
                    await insertKey.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
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
            var source = await RequireImportingAsync(connection, transaction, importId, cancellationToken).ConfigureAwait(false);

            // The previous copy turns discarded in the same transaction that makes this one current.
            await using (var discard = CreateCommand(connection, transaction, """
                UPDATE vulnerability_imports SET state = $discarded
                WHERE id = (SELECT current_import_id FROM vulnerability_sources WHERE name = $source);
                """))
            {
                discard.Parameters.AddWithValue("$discarded", ImportDiscarded);
                discard.Parameters.AddWithValue("$source", source);
                await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var complete = CreateCommand(connection, transaction, "UPDATE vulnerability_imports SET state = $completed WHERE id = $id;"))
            {
                complete.Parameters.AddWithValue("$completed", ImportCompleted);
                complete.Parameters.AddWithValue("$id", importId);
                await complete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var upsert = CreateCommand(connection, transaction, """
                INSERT INTO vulnerability_sources (name, current_import_id, record_count, updated_at, etag, last_modified, archive_digest, signature_verified)
                VALUES ($name, $import_id, $record_count, $updated_at, $etag, $last_modified, $archive_digest, $signature_verified)
                ON CONFLICT (name) DO UPDATE SET
                    current_import_id = excluded.current_import_id,
                    record_count = excluded.record_count,
                    updated_at = excluded.updated_at,
                    etag = excluded.etag,
                    last_modified = excluded.last_modified,
                    archive_digest = excluded.archive_digest,
                    signature_verified = excluded.signature_verified;
                """))
            {
                upsert.Parameters.AddWithValue("$name", source);
                upsert.Parameters.AddWithValue("$import_id", importId);
                upsert.Parameters.AddWithValue("$record_count", update.RecordCount);
                upsert.Parameters.AddWithValue("$updated_at", update.UpdatedAt.ToUnixTimeMilliseconds());
                upsert.Parameters.AddWithValue("$etag", (object?)update.ETag ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$last_modified", (object?)update.LastModified?.ToUnixTimeMilliseconds() ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$archive_digest", (object?)update.ArchiveDigest ?? DBNull.Value);
                upsert.Parameters.AddWithValue("$signature_verified", update.SignatureVerified ? 1 : 0);
                await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await RaiseDatabaseVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
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
            await using var discard = CreateCommand(connection, transaction, "UPDATE vulnerability_imports SET state = $discarded WHERE id = $id AND state = $importing;");
            discard.Parameters.AddWithValue("$discarded", ImportDiscarded);
            discard.Parameters.AddWithValue("$importing", ImportImporting);
            discard.Parameters.AddWithValue("$id", importId);
            return await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        await PurgeDiscardedImportsAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<bool> RemoveVulnerabilitySourceAsync(string source, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        var removed = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var delete = CreateCommand(connection, transaction, "DELETE FROM vulnerability_sources WHERE name = $source;"))
            {
                delete.Parameters.AddWithValue("$source", source);
                if (await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return false;
                }
            }

            // Every import of the source goes, including one that is still running: its Complete then throws.
            await using (var discard = CreateCommand(connection, transaction, "UPDATE vulnerability_imports SET state = $discarded WHERE source = $source;"))
            {
                discard.Parameters.AddWithValue("$discarded", ImportDiscarded);
                discard.Parameters.AddWithValue("$source", source);
                await discard.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await RaiseDatabaseVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
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

        return await ReadAsync<IReadOnlyList<VulnerabilityEntry>>(async (connection, transaction, cancellationToken) =>
        {
            // Keyed by record row id, which is unique across sources, so a record that matches keys in two chunks
            // is returned once.
            var found = new SortedDictionary<long, VulnerabilityEntry>();
            foreach (var chunk in keys.Chunk(LookupChunkSize))
            {
                var values = new StringBuilder();
                for (var i = 0; i < chunk.Length; i++)
                {
                    values.Append(i == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture, $"($e{i}, $p{i})");
                }

                await using var command = CreateCommand(connection, transaction, $"""
                    WITH requested (ecosystem, package) AS (VALUES {values})
                    SELECT DISTINCT r.id, s.name, r.vulnerability_id, r.severity, r.packages, r.record_json
                    FROM requested AS w
                    JOIN vulnerability_packages AS p ON p.ecosystem = w.ecosystem AND p.package = w.package
                    JOIN vulnerability_sources AS s ON s.current_import_id = p.import_id
                    JOIN vulnerability_records AS r ON r.id = p.record_id;
                    """);
                for (var i = 0; i < chunk.Length; i++)
                {
                    command.Parameters.AddWithValue($"$e{i}", chunk[i].Ecosystem);
                    command.Parameters.AddWithValue($"$p{i}", chunk[i].Package);
                }

                await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var rowId = reader.GetInt64(0);
                    if (!found.ContainsKey(rowId))
                    {
                        found[rowId] = new VulnerabilityEntry(
                            reader.GetString(2),
                            (Severity)reader.GetInt32(3),
                            ScanStoreJson.DeserializePackages(reader.GetString(4)),
                            reader.GetString(5))
                        {
                            Source = reader.GetString(1),
                        };
                    }
                }
            }

            return found.Values.ToArray();
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Returns the source of an import in state importing.</summary>
    /// <exception cref="InvalidOperationException">The import does not exist, has completed or was discarded.</exception>
    private static async Task<string> RequireImportingAsync(SqliteConnection connection, SqliteTransaction transaction, long importId, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT source, state FROM vulnerability_imports WHERE id = $id;");
        command.Parameters.AddWithValue("$id", importId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"The vulnerability import {importId} does not exist; it was aborted, replaced by a newer import of its source, or never begun.");
        }

        if (reader.GetInt32(1) != ImportImporting)
        {
            throw new InvalidOperationException($"The vulnerability import {importId} of '{reader.GetString(0)}' has already completed or was discarded; begin a new import.");
        }

        return reader.GetString(0);
    }

    private async Task RaiseDatabaseVersionAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "UPDATE vulnerability_database SET version = version + 1, updated_at = $now WHERE id = 1;");
        command.Parameters.AddWithValue("$now", Now());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<VulnerabilityDatabaseState> ReadDatabaseStateAsync(SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
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
                    SignatureVerified = reader.GetInt64(6) != 0,
                });
            }
        }

        return new VulnerabilityDatabaseState(version, updatedAt, sources);
    }

    /// <summary>
    /// Deletes the rows of every discarded import, <see cref="PurgeBatchSize"/> rows per transaction so other writers
    /// get the lock in between, and then the import rows themselves.
    /// </summary>
    private async Task PurgeDiscardedImportsAsync(CancellationToken cancellationToken)
    {
        var discarded = await ReadAsync<IReadOnlyList<long>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT id FROM vulnerability_imports WHERE state = $discarded;");
            command.Parameters.AddWithValue("$discarded", ImportDiscarded);
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
            int deleted;
            do
            {
                deleted = await WriteAsync(async (connection, transaction, cancellationToken) =>
                {
                    var count = 0;
                    foreach (var table in (string[])["vulnerability_packages", "vulnerability_records"])
                    {
                        await using var command = CreateCommand(connection, transaction, $"""
                            DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table} WHERE import_id = $import_id LIMIT $limit);
                            """);
                        command.Parameters.AddWithValue("$import_id", importId);
                        command.Parameters.AddWithValue("$limit", PurgeBatchSize);
                        count += await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    }

                    return count;
                }, cancellationToken).ConfigureAwait(false);
            }
            while (deleted > 0);

            await WriteAsync(async (connection, transaction, cancellationToken) =>
            {
                await using var command = CreateCommand(connection, transaction, "DELETE FROM vulnerability_imports WHERE id = $id AND state = $discarded;");
                command.Parameters.AddWithValue("$id", importId);
                command.Parameters.AddWithValue("$discarded", ImportDiscarded);
                return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }, cancellationToken).ConfigureAwait(false);
        }
    }
}

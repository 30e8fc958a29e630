using System.Globalization;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>
/// What garbage collection reads and deletes: repository contents, conditional manifest and link deletes, blob
/// deletion marks and stale uploads. Run records are in the GarbageCollectionRuns part.
/// </summary>
/// <remarks>
/// Each batch method runs one transaction and prepares each statement once for the whole batch. The deletes run in
/// immediate transactions, which queue behind every other writer, so a condition checked in a delete still holds when
/// the row goes.
/// </remarks>
internal sealed partial class SqliteMetadataStore : IGarbageCollectionStore
{
    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RepositoryName>> ListAllRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync<IReadOnlyList<RepositoryName>>(async (connection, transaction, cancellationToken) =>
        {
            var sql = last is null
                ? "SELECT name FROM repositories ORDER BY name LIMIT $limit;"
                : "SELECT name FROM repositories WHERE name > $last ORDER BY name LIMIT $limit;";
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            var names = await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
            return names.Select(RepositoryName.Parse).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<RepositoryContents?> GetRepositoryContentsAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return null;
            }

            var manifests = await ReadManifestNodesAsync(connection, transaction, repositoryId.Value, cancellationToken).ConfigureAwait(false);
            var links = await ReadBlobLinkEntriesAsync(connection, transaction, repositoryId.Value, cancellationToken).ConfigureAwait(false);
            return (RepositoryContents?)new RepositoryContents(repository, manifests, links);
        }, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Digest>> DeleteUnreferencedManifestsAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        ValidateDigests(digests);
        return WriteAsync<IReadOnlyList<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            var deleted = new List<Digest>();
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null || digests.Count == 0)
            {
                return deleted;
            }

            await using var find = CreateCommand(connection, transaction, DeletableManifestQuery);
            find.Parameters.AddWithValue("$repository_id", repositoryId.Value);
            find.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            var findDigest = find.Parameters.Add("$digest", SqliteType.Text);

            // The references are deleted explicitly, as DeleteManifestAsync does, in case a custom connection string
            // turns foreign keys off. No tag points to the manifest, so there are none to delete.
            await using var delete = CreateCommand(connection, transaction, """
                DELETE FROM manifest_references WHERE manifest_id = $manifest_id;
                DELETE FROM manifests WHERE id = $manifest_id;
                """);
            var deleteId = delete.Parameters.Add("$manifest_id", SqliteType.Integer);

            await using var anyCopy = CreateCommand(connection, transaction, "SELECT 1 FROM manifests WHERE digest = $digest LIMIT 1;");
            var anyCopyDigest = anyCopy.Parameters.Add("$digest", SqliteType.Text);

            // A claimed scan job belongs to a worker that is scanning now; it completes or fails on its own.
            await using var deleteScan = CreateCommand(connection, transaction, """
                DELETE FROM image_scans WHERE manifest_digest = $digest;
                DELETE FROM scan_jobs WHERE manifest_digest = $digest AND holder IS NULL;
                """);
            var deleteScanDigest = deleteScan.Parameters.Add("$digest", SqliteType.Text);

            foreach (var digest in digests)
            {
                findDigest.Value = digest.Value;
                if (await find.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not { } id)
                {
                    continue;
                }

                deleteId.Value = Convert.ToInt64(id, CultureInfo.InvariantCulture);
                await delete.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                deleted.Add(digest);

                anyCopyDigest.Value = digest.Value;
                if (await anyCopy.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    deleteScanDigest.Value = digest.Value;
                    await deleteScan.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            SqliteLog.UnreferencedManifestsDeleted(_logger, repository.Value, deleted.Count, digests.Count);
            return deleted;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<BlobLinkEntry>> DeleteUnusedBlobLinksAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        ValidateDigests(digests);
        return WriteAsync<IReadOnlyList<BlobLinkEntry>>(async (connection, transaction, cancellationToken) =>
        {
            var deleted = new List<BlobLinkEntry>();
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null || digests.Count == 0)
            {
                return deleted;
            }

            await using var delete = CreateCommand(connection, transaction, UnusedBlobLinkDelete);
            delete.Parameters.AddWithValue("$repository_id", repositoryId.Value);
            delete.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            var digestParameter = delete.Parameters.Add("$digest", SqliteType.Text);

            foreach (var digest in digests)
            {
                digestParameter.Value = digest.Value;
                await using var reader = await delete.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    deleted.Add(new BlobLinkEntry(digest, reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
                }
            }

            SqliteLog.UnusedBlobLinksDeleted(_logger, repository.Value, deleted.Count, digests.Count);
            return deleted;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlySet<Digest>> FindBlobsToKeepAsync(IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        ValidateDigests(digests);
        return ReadAsync<IReadOnlySet<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            var keep = new HashSet<Digest>();
            if (digests.Count == 0)
            {
                return keep;
            }

            await using var command = CreateCommand(connection, transaction, BlobToKeepQuery);
            command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
            foreach (var digest in digests)
            {
                digestParameter.Value = digest.Value;
                if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) != 0)
                {
                    keep.Add(digest);
                }
            }

            return keep;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Digest>> BeginBlobDeletionAsync(string runId, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        ValidateDigests(digests);
        return WriteAsync<IReadOnlyList<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            var marked = new List<Digest>();
            if (digests.Count == 0)
            {
                return marked;
            }

            await using var command = CreateCommand(connection, transaction, BlobDeletionMark);
            command.Parameters.AddWithValue("$run_id", runId);
            command.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
            foreach (var digest in digests)
            {
                digestParameter.Value = digest.Value;
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0)
                {
                    marked.Add(digest);
                }
            }

            SqliteLog.BlobsMarkedForDeletion(_logger, runId, marked.Count, digests.Count);
            return marked;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask EndBlobDeletionAsync(IReadOnlyList<Digest> digests, bool deleted, CancellationToken cancellationToken = default)
    {
        ValidateDigests(digests);
        if (digests.Count == 0)
        {
            return;
        }

        var sql = deleted
            ? "DELETE FROM blobs WHERE digest = $digest; DELETE FROM layer_analyses WHERE digest = $digest;"
            : "UPDATE blobs SET deleting_run = NULL WHERE digest = $digest;";
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
            foreach (var digest in digests)
            {
                digestParameter.Value = digest.Value;
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken).ConfigureAwait(false);
        SqliteLog.BlobDeletionEnded(_logger, digests.Count, deleted);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<PendingBlobDeletion>> ListPendingBlobDeletionsAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync<IReadOnlyList<PendingBlobDeletion>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT b.digest, b.deleting_run FROM blobs AS b
                WHERE b.deleting_run IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM gc_runs AS r WHERE r.id = b.deleting_run AND r.status = 0)
                ORDER BY b.deleting_run, b.digest
                LIMIT $limit;
                """);
            command.Parameters.AddWithValue("$limit", limit);
            var pending = new List<PendingBlobDeletion>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                pending.Add(new PendingBlobDeletion(Digest.Parse(reader.GetString(0)), reader.GetString(1)));
            }

            return pending;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> TryUseBlobAsync(Digest digest, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return WriteAsync(
            (connection, transaction, cancellationToken) => TryRecordBlobUseAsync(connection, transaction, digest, now.ToUnixTimeMilliseconds(), cancellationToken),
            cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<UploadSession>> ListStaleUploadsAsync(DateTimeOffset updatedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync<IReadOnlyList<UploadSession>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT u.id, r.name, u.started_at, u.updated_at, u.verified_digest FROM upload_sessions AS u
                JOIN repositories AS r ON r.id = u.repository_id
                WHERE u.updated_at < $updated_before
                ORDER BY u.updated_at, u.id
                LIMIT $limit;
                """);
            command.Parameters.AddWithValue("$updated_before", updatedBefore.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$limit", limit);
            var sessions = new List<UploadSession>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                sessions.Add(new UploadSession(
                    reader.GetString(0),
                    RepositoryName.Parse(reader.GetString(1)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
                {
                    VerifiedDigest = reader.IsDBNull(4) ? null : Digest.Parse(reader.GetString(4)),
                });
            }

            return sessions;
        }, cancellationToken);
    }

    // The statements that run once per digest in a batch. They are internal so tests can check their query plans.
    // SQLite keeps the left table of a CROSS JOIN as the outer loop, so the references of the one digest are looked
    // up first and then their manifests by id. With a plain JOIN the planner walked every manifest of the repository
    // once per digest (QueryPlans_SearchLargeTablesByIndex checks this).

    /// <summary>Selects the id of manifest <c>$digest</c> of the repository when the interface's conditions allow deleting it.</summary>
    internal const string DeletableManifestQuery = """
        SELECT m.id FROM manifests AS m
        WHERE m.repository_id = $repository_id AND m.digest = $digest AND m.created_at < $cutoff
          AND NOT EXISTS (SELECT 1 FROM tags AS t WHERE t.manifest_id = m.id)
          AND NOT EXISTS (
              SELECT 1 FROM manifest_references AS r
              CROSS JOIN manifests AS parent ON parent.id = r.manifest_id
              WHERE r.digest = m.digest AND r.kind = 1 AND parent.repository_id = m.repository_id AND parent.id <> m.id)
          AND (m.subject_digest IS NULL OR NOT EXISTS (
              SELECT 1 FROM manifests AS s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest));
        """;

    /// <summary>Deletes the link of <c>$digest</c> when nothing in the repository uses it, returning its size and creation time.</summary>
    internal const string UnusedBlobLinkDelete = """
        DELETE FROM blob_links AS b
        WHERE b.repository_id = $repository_id AND b.digest = $digest AND b.created_at < $cutoff
          AND NOT EXISTS (
              SELECT 1 FROM manifest_references AS r
              CROSS JOIN manifests AS m ON m.id = r.manifest_id
              WHERE r.digest = b.digest AND r.kind = 0 AND m.repository_id = b.repository_id)
          AND NOT EXISTS (SELECT 1 FROM blobs AS u WHERE u.digest = b.digest AND u.last_used_at >= $cutoff)
        RETURNING size, created_at;
        """;

    /// <summary>Selects 1 when collection must keep blob <c>$digest</c>, 0 when it is garbage.</summary>
    internal const string BlobToKeepQuery = $"SELECT NOT ({BlobIsGarbage});";

    /// <summary>
    /// Marks garbage blob <c>$digest</c> for deletion by <c>$run_id</c>. A blob without a use record gets a row
    /// with last_used_at 0, which reads the same as no row once the mark is removed. The upsert's WHERE repeats the
    /// row conditions of <see cref="BlobIsGarbage"/> for an existing row.
    /// </summary>
    internal const string BlobDeletionMark = $"""
        INSERT INTO blobs (digest, last_used_at, deleting_run)
        SELECT $digest, 0, $run_id WHERE {BlobIsGarbage}
        ON CONFLICT (digest) DO UPDATE SET deleting_run = excluded.deleting_run
        WHERE blobs.deleting_run IS NULL AND blobs.last_used_at < $cutoff;
        """;

    /// <summary>
    /// The condition, on parameters <c>$digest</c> and <c>$cutoff</c>, that a blob is garbage: no repository links it,
    /// no manifest references it as its config or a layer, it was not used at or after the cutoff, and no run has it
    /// marked for deletion. Each part looks up an index by digest.
    /// </summary>
    private const string BlobIsGarbage = """
        NOT EXISTS (SELECT 1 FROM blob_links WHERE digest = $digest)
        AND NOT EXISTS (SELECT 1 FROM manifest_references WHERE digest = $digest AND kind = 0)
        AND NOT EXISTS (SELECT 1 FROM blobs WHERE digest = $digest AND (deleting_run IS NOT NULL OR last_used_at >= $cutoff))
        """;

    /// <summary>
    /// Records a use of the blob at <paramref name="now"/> (Unix milliseconds), unless a run has it marked for
    /// deletion. Returns whether it recorded the use. An earlier time than the one stored leaves the stored time, so
    /// a host whose clock lags cannot shorten another host's grace period.
    /// </summary>
    private static async Task<bool> TryRecordBlobUseAsync(SqliteConnection connection, SqliteTransaction transaction, Digest digest, long now, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            INSERT INTO blobs (digest, last_used_at) VALUES ($digest, $now)
            ON CONFLICT (digest) DO UPDATE SET last_used_at = max(blobs.last_used_at, excluded.last_used_at)
            WHERE blobs.deleting_run IS NULL;
            """);
        command.Parameters.AddWithValue("$digest", digest.Value);
        command.Parameters.AddWithValue("$now", now);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    private static async Task<IReadOnlyList<ManifestNode>> ReadManifestNodesAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, CancellationToken cancellationToken)
    {
        var children = new Dictionary<long, List<Digest>>();
        var blobs = new Dictionary<long, List<Digest>>();
        await using (var references = CreateCommand(connection, transaction, """
            SELECT r.manifest_id, r.kind, r.digest FROM manifest_references AS r
            JOIN manifests AS m ON m.id = r.manifest_id
            WHERE m.repository_id = $repository_id;
            """))
        {
            references.Parameters.AddWithValue("$repository_id", repositoryId);
            await using var reader = await references.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var target = reader.GetInt32(1) == ManifestReferenceKind ? children : blobs;
                var manifestId = reader.GetInt64(0);
                if (!target.TryGetValue(manifestId, out var list))
                {
                    list = [];
                    target.Add(manifestId, list);
                }

                list.Add(Digest.Parse(reader.GetString(2)));
            }
        }

        var nodes = new List<ManifestNode>();
        await using var manifests = CreateCommand(connection, transaction, """
            SELECT m.id, m.digest, m.size, m.created_at, m.subject_digest,
                   EXISTS (SELECT 1 FROM tags AS t WHERE t.manifest_id = m.id)
            FROM manifests AS m
            WHERE m.repository_id = $repository_id;
            """);
        manifests.Parameters.AddWithValue("$repository_id", repositoryId);
        await using (var reader = await manifests.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var id = reader.GetInt64(0);
                nodes.Add(new ManifestNode(
                    Digest.Parse(reader.GetString(1)),
                    reader.GetInt64(2),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)),
                    reader.GetInt64(5) != 0,
                    reader.IsDBNull(4) ? null : Digest.Parse(reader.GetString(4)),
                    children.TryGetValue(id, out var childList) ? childList : [],
                    blobs.TryGetValue(id, out var blobList) ? blobList : []));
            }
        }

        return nodes;
    }

    private static async Task<IReadOnlyList<BlobLinkEntry>> ReadBlobLinkEntriesAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            SELECT b.digest, b.size, b.created_at, u.last_used_at FROM blob_links AS b
            LEFT JOIN blobs AS u ON u.digest = b.digest
            WHERE b.repository_id = $repository_id;
            """);
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        var links = new List<BlobLinkEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            links.Add(new BlobLinkEntry(
                Digest.Parse(reader.GetString(0)),
                reader.GetInt64(1),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
        }

        return links;
    }

    private static void ValidateDigests(IReadOnlyList<Digest> digests)
    {
        ArgumentNullException.ThrowIfNull(digests);
        foreach (var digest in digests)
        {
            ValidateDigest(digest);
        }
    }
}

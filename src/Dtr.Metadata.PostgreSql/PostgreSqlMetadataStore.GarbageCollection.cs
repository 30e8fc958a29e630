using Dtr.Digests;
using Dtr.Names;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Marking and sweeping for garbage collection: repository contents, conditional deletes and blob deletion marks.</summary>
/// <remarks>
/// Every write runs in <see cref="WriteAsync"/>, under the schema's write lock that <see cref="PutManifestAsync"/> and
/// <see cref="LinkBlobAsync"/> take too, so the conditions that a delete checks cannot change before it commits. A
/// batch of digests goes to the server as one array parameter, so a batch costs a few round trips whatever its size.
/// </remarks>
internal sealed partial class PostgreSqlMetadataStore : IGarbageCollectionStore
{
    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RepositoryName>> ListAllRepositoriesAsync(string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadStatementAsync<IReadOnlyList<RepositoryName>>(async (connection, transaction, cancellationToken) =>
        {
            // Two query texts rather than "@last IS NULL OR name > @last", so PostgreSQL can seek the name index.
            var sql = last is null
                ? "SELECT name FROM repositories ORDER BY name LIMIT @limit;"
                : "SELECT name FROM repositories WHERE name > @last ORDER BY name LIMIT @limit;";
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("@last", last);
            }

            var names = await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
            return names.Select(RepositoryName.Parse).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Manifests and links are in digest order, and so are each manifest's children and blobs.</remarks>
    public ValueTask<RepositoryContents?> GetRepositoryContentsAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        ReadAsync<RepositoryContents?>(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return null;
            }

            // Three statements in one round trip; the REPEATABLE READ transaction gives them one snapshot.
            await using var command = CreateCommand(connection, transaction, """
                SELECT m.id, m.digest, m.size, m.created_at, m.subject_digest,
                       EXISTS (SELECT 1 FROM tags AS t WHERE t.manifest_id = m.id)
                FROM manifests AS m
                WHERE m.repository_id = @repository_id
                ORDER BY m.digest;

                SELECT r.manifest_id, r.kind, r.digest FROM manifest_references AS r
                JOIN manifests AS m ON m.id = r.manifest_id
                WHERE m.repository_id = @repository_id
                ORDER BY r.manifest_id, r.kind, r.digest;

                SELECT b.digest, b.size, b.created_at, x.last_used_at FROM blob_links AS b
                LEFT JOIN blobs AS x ON x.digest = b.digest
                WHERE b.repository_id = @repository_id
                ORDER BY b.digest;
                """);
            command.Parameters.AddWithValue("@repository_id", repositoryId.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);

            var rows = new List<(long Id, Digest Digest, long Size, long CreatedAt, Digest? Subject, bool Tagged)>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add((
                    reader.GetInt64(0),
                    Digest.Parse(reader.GetString(1)),
                    reader.GetInt64(2),
                    reader.GetInt64(3),
                    reader.IsDBNull(4) ? null : Digest.Parse(reader.GetString(4)),
                    reader.GetBoolean(5)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var children = new Dictionary<long, List<Digest>>();
            var blobs = new Dictionary<long, List<Digest>>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var references = reader.GetInt32(1) == ManifestReferenceKind ? children : blobs;
                var manifestId = reader.GetInt64(0);
                if (!references.TryGetValue(manifestId, out var list))
                {
                    list = [];
                    references.Add(manifestId, list);
                }

                list.Add(Digest.Parse(reader.GetString(2)));
            }

            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            var links = new List<BlobLinkEntry>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                links.Add(new BlobLinkEntry(
                    Digest.Parse(reader.GetString(0)),
                    reader.GetInt64(1),
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                    reader.IsDBNull(3) ? null : DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3))));
            }

            var manifests = rows
                .Select(row => new ManifestNode(
                    row.Digest,
                    row.Size,
                    DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt),
                    row.Tagged,
                    row.Subject,
                    children.TryGetValue(row.Id, out var childList) ? childList : [],
                    blobs.TryGetValue(row.Id, out var blobList) ? blobList : []))
                .ToList();
            return new RepositoryContents(repository, manifests, links);
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// One query reads, under the write lock, every listed manifest with its tag flag, its subject's row and the
    /// manifests of the repository that list it as a child. The order rules are then applied in memory, and one
    /// statement deletes the chosen rows, which cascades to their tags and references.
    /// </remarks>
    public ValueTask<IReadOnlyList<Digest>> DeleteUnreferencedManifestsAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var values = ToDigestValues(digests, distinct: false);
        if (values.Length == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<Digest>>([]);
        }

        var cutoffMilliseconds = cutoff.ToUnixTimeMilliseconds();
        return WriteAsync<IReadOnlyList<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return [];
            }

            var candidates = await ReadManifestCandidatesAsync(connection, transaction, repositoryId.Value, values, cancellationToken).ConfigureAwait(false);
            var deletedIds = new HashSet<long>();
            var deletedValues = new List<string>();
            foreach (var value in values)
            {
                if (!candidates.TryGetValue(value, out var candidate) || deletedIds.Contains(candidate.Id))
                {
                    continue;
                }

                // A subject or parent deleted earlier in this call no longer counts, as the order rule requires.
                var keep = candidate.Tagged
                    || candidate.CreatedAt >= cutoffMilliseconds
                    || (candidate.SubjectId is { } subjectId && !deletedIds.Contains(subjectId))
                    || !candidate.ParentIds.All(deletedIds.Contains);
                if (!keep)
                {
                    deletedIds.Add(candidate.Id);
                    deletedValues.Add(value);
                }
            }

            if (deletedValues.Count == 0)
            {
                return [];
            }

            // A scan result belongs to the digest, not to one repository, so it goes only with the last copy.
            await using (var command = CreateCommand(connection, transaction, """
                DELETE FROM manifests WHERE id = ANY(@ids);
                DELETE FROM image_scans AS s
                WHERE s.manifest_digest = ANY(@digests)
                  AND NOT EXISTS (SELECT 1 FROM manifests AS m WHERE m.digest = s.manifest_digest);
                DELETE FROM scan_jobs AS j
                WHERE j.holder IS NULL AND j.manifest_digest = ANY(@digests)
                  AND NOT EXISTS (SELECT 1 FROM manifests AS m WHERE m.digest = j.manifest_digest);
                """))
            {
                command.Parameters.AddWithValue("@ids", deletedIds.ToArray());
                command.Parameters.AddWithValue("@digests", deletedValues.ToArray());
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            PostgreSqlLog.UnreferencedManifestsDeleted(_logger, repository.Value, deletedValues.Count, values.Length);
            return deletedValues.Select(Digest.Parse).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The links come back in the order of <paramref name="digests"/>.</remarks>
    public ValueTask<IReadOnlyList<BlobLinkEntry>> DeleteUnusedBlobLinksAsync(RepositoryName repository, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var values = ToDigestValues(digests, distinct: true);
        if (values.Length == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<BlobLinkEntry>>([]);
        }

        return WriteAsync<IReadOnlyList<BlobLinkEntry>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                DELETE FROM blob_links AS b
                WHERE b.repository_id = (SELECT id FROM repositories WHERE name = @repository)
                  AND b.digest = ANY(@digests)
                  AND b.created_at < @cutoff
                  AND NOT EXISTS (
                      SELECT 1 FROM manifest_references AS r
                      JOIN manifests AS m ON m.id = r.manifest_id
                      WHERE r.digest = b.digest AND r.kind = 0 AND m.repository_id = b.repository_id)
                  AND NOT EXISTS (SELECT 1 FROM blobs AS x WHERE x.digest = b.digest AND x.last_used_at >= @cutoff)
                RETURNING b.digest, b.size, b.created_at;
                """);
            command.Parameters.AddWithValue("@repository", repository.Value);
            command.Parameters.AddWithValue("@digests", values);
            command.Parameters.AddWithValue("@cutoff", cutoff.ToUnixTimeMilliseconds());
            var deleted = new Dictionary<string, BlobLinkEntry>(StringComparer.Ordinal);
            await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
            {
                while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    var value = reader.GetString(0);
                    deleted[value] = new BlobLinkEntry(Digest.Parse(value), reader.GetInt64(1), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)));
                }
            }

            if (deleted.Count > 0)
            {
                PostgreSqlLog.UnusedBlobLinksDeleted(_logger, repository.Value, deleted.Count, values.Length);
            }

            return values.Where(deleted.ContainsKey).Select(value => deleted[value]).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlySet<Digest>> FindBlobsToKeepAsync(IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        var values = ToDigestValues(digests, distinct: true);
        if (values.Length == 0)
        {
            return ValueTask.FromResult<IReadOnlySet<Digest>>(new HashSet<Digest>());
        }

        return ReadStatementAsync<IReadOnlySet<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                SELECT d.digest FROM unnest(@digests::text[]) AS d (digest)
                WHERE NOT ({BlobIsGarbage});
                """);
            command.Parameters.AddWithValue("@digests", values);
            command.Parameters.AddWithValue("@cutoff", cutoff.ToUnixTimeMilliseconds());
            var keep = await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
            return keep.Select(Digest.Parse).ToHashSet();
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>The digests come back in the order of <paramref name="digests"/>, without repeats.</remarks>
    public ValueTask<IReadOnlyList<Digest>> BeginBlobDeletionAsync(string runId, IReadOnlyList<Digest> digests, DateTimeOffset cutoff, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(runId);
        var values = ToDigestValues(digests, distinct: true);
        if (values.Length == 0)
        {
            return ValueTask.FromResult<IReadOnlyList<Digest>>([]);
        }

        return WriteAsync<IReadOnlyList<Digest>>(async (connection, transaction, cancellationToken) =>
        {
            // A blob without a row gets one with last_used_at 0, which reads like no recorded use once the mark ends.
            await using var command = CreateCommand(connection, transaction, $"""
                INSERT INTO blobs (digest, last_used_at, deleting_run)
                SELECT d.digest, 0, @run_id FROM unnest(@digests::text[]) AS d (digest)
                WHERE {BlobIsGarbage}
                ON CONFLICT (digest) DO UPDATE SET deleting_run = excluded.deleting_run
                RETURNING digest;
                """);
            command.Parameters.AddWithValue("@run_id", runId);
            command.Parameters.AddWithValue("@digests", values);
            command.Parameters.AddWithValue("@cutoff", cutoff.ToUnixTimeMilliseconds());
            var marked = (await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            if (marked.Count > 0)
            {
                PostgreSqlLog.BlobDeletionBegun(_logger, runId, marked.Count, values.Length);
            }

            return values.Where(marked.Contains).Select(Digest.Parse).ToList();
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask EndBlobDeletionAsync(IReadOnlyList<Digest> digests, bool deleted, CancellationToken cancellationToken = default)
    {
        var values = ToDigestValues(digests, distinct: true);
        if (values.Length == 0)
        {
            return;
        }

        var sql = deleted
            ? "DELETE FROM blobs WHERE digest = ANY(@digests); DELETE FROM layer_analyses WHERE digest = ANY(@digests);"
            : "UPDATE blobs SET deleting_run = NULL WHERE digest = ANY(@digests) AND deleting_run IS NOT NULL;";
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@digests", values);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>The deletions are ordered by run id, then digest. A mark whose run has no record counts as pending.</remarks>
    public ValueTask<IReadOnlyList<PendingBlobDeletion>> ListPendingBlobDeletionsAsync(int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadStatementAsync<IReadOnlyList<PendingBlobDeletion>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                SELECT b.digest, b.deleting_run FROM blobs AS b
                WHERE b.deleting_run IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM gc_runs AS g WHERE g.id = b.deleting_run AND g.status = {(int)GarbageCollectionStatus.Running})
                ORDER BY b.deleting_run, b.digest
                LIMIT @limit;
                """);
            command.Parameters.AddWithValue("@limit", limit);
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
    /// <remarks>A use never moves the recorded time back, so a host with a slow clock cannot shorten a grace period.</remarks>
    public ValueTask<bool> TryUseBlobAsync(Digest digest, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        var nowMilliseconds = now.ToUnixTimeMilliseconds();
        return WriteAsync((connection, transaction, cancellationToken) =>
            TryRecordBlobUseAsync(connection, transaction, digest, nowMilliseconds, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Sessions with the same time are in id order. Timestamps come back in UTC, truncated to whole milliseconds.</remarks>
    public ValueTask<IReadOnlyList<UploadSession>> ListStaleUploadsAsync(DateTimeOffset updatedBefore, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadStatementAsync<IReadOnlyList<UploadSession>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT u.id, r.name, u.started_at, u.updated_at, u.verified_digest FROM upload_sessions AS u
                JOIN repositories AS r ON r.id = u.repository_id
                WHERE u.updated_at < @updated_before
                ORDER BY u.updated_at, u.id
                LIMIT @limit;
                """);
            command.Parameters.AddWithValue("@updated_before", updatedBefore.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@limit", limit);
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

    /// <summary>
    /// The condition, on a digest column <c>d.digest</c> and a parameter <c>@cutoff</c>, that a blob is garbage: no
    /// repository links it, no manifest references it as its config or a layer, it was not used at or after the
    /// cutoff, and no run has marked it for deletion.
    /// </summary>
    private const string BlobIsGarbage = """
        NOT EXISTS (SELECT 1 FROM blob_links AS l WHERE l.digest = d.digest)
        AND NOT EXISTS (SELECT 1 FROM manifest_references AS r WHERE r.digest = d.digest AND r.kind = 0)
        AND NOT EXISTS (SELECT 1 FROM blobs AS x WHERE x.digest = d.digest AND (x.last_used_at >= @cutoff OR x.deleting_run IS NOT NULL))
        """;

    /// <summary>
    /// Records a use of the blob at <paramref name="nowMilliseconds"/> (Unix time), keeping a later recorded time.
    /// Returns false, and records nothing, while a run has the blob marked for deletion.
    /// </summary>
    private static async Task<bool> TryRecordBlobUseAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Digest digest, long nowMilliseconds, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            INSERT INTO blobs (digest, last_used_at) VALUES (@digest, @now)
            ON CONFLICT (digest) DO UPDATE SET last_used_at = GREATEST(blobs.last_used_at, excluded.last_used_at)
            WHERE blobs.deleting_run IS NULL;
            """);
        command.Parameters.AddWithValue("@digest", digest.Value);
        command.Parameters.AddWithValue("@now", nowMilliseconds);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    /// <summary>
    /// Reads the manifests of the repository whose digests are in <paramref name="values"/>, keyed by digest, with
    /// what decides whether a delete may remove them.
    /// </summary>
    private static async Task<Dictionary<string, ManifestCandidate>> ReadManifestCandidatesAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, long repositoryId, string[] values, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            SELECT m.id, m.digest, m.created_at,
                   EXISTS (SELECT 1 FROM tags AS t WHERE t.manifest_id = m.id),
                   s.id,
                   ARRAY(
                       SELECT p.id FROM manifest_references AS r
                       JOIN manifests AS p ON p.id = r.manifest_id
                       WHERE r.digest = m.digest AND r.kind = 1 AND p.repository_id = m.repository_id AND p.id <> m.id)
            FROM manifests AS m
            LEFT JOIN manifests AS s ON s.repository_id = m.repository_id AND s.digest = m.subject_digest
            WHERE m.repository_id = @repository_id AND m.digest = ANY(@digests);
            """);
        command.Parameters.AddWithValue("@repository_id", repositoryId);
        command.Parameters.AddWithValue("@digests", values);
        var candidates = new Dictionary<string, ManifestCandidate>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            candidates[reader.GetString(1)] = new ManifestCandidate(
                reader.GetInt64(0),
                reader.GetInt64(2),
                reader.GetBoolean(3),
                reader.IsDBNull(4) ? null : reader.GetInt64(4),
                reader.GetFieldValue<long[]>(5));
        }

        return candidates;
    }

    /// <summary>
    /// Validates <paramref name="digests"/> and returns their text, in the given order, without repeats when
    /// <paramref name="distinct"/> is set.
    /// </summary>
    private static string[] ToDigestValues(IReadOnlyList<Digest> digests, bool distinct)
    {
        ArgumentNullException.ThrowIfNull(digests);
        foreach (var digest in digests)
        {
            ValidateDigest(digest);
        }

        var values = digests.Select(digest => digest.Value);
        return (distinct ? values.Distinct(StringComparer.Ordinal) : values).ToArray();
    }

    /// <summary>A manifest that a delete may remove, with the rows that can keep it.</summary>
    /// <param name="Id">The manifest row's id.</param>
    /// <param name="CreatedAt">When the manifest was stored, as Unix time in milliseconds.</param>
    /// <param name="Tagged">Whether a tag points to it.</param>
    /// <param name="SubjectId">The row id of its subject when the subject is a manifest of the same repository.</param>
    /// <param name="ParentIds">The other manifests of the repository that list it as a child.</param>
    private sealed record ManifestCandidate(long Id, long CreatedAt, bool Tagged, long? SubjectId, long[] ParentIds);
}

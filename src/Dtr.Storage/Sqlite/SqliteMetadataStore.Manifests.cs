using System.Globalization;
using Dtr.Digests;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Manifests, tags and referrers.</summary>
internal sealed partial class SqliteMetadataStore
{
    private const int BlobReferenceKind = 0;
    private const int ManifestReferenceKind = 1;

    /// <inheritdoc />
    /// <remarks>
    /// Config and layer digests must be linked as blobs in the repository (see <see cref="LinkBlobAsync"/>). A
    /// manifest stored in the repository does not count as a blob, even when a layer descriptor names its digest.
    /// Index entries must be manifests stored in the repository. The subject is not checked, as the OCI
    /// distribution specification allows pushing a referrer before its subject. A config or layer descriptor whose
    /// size differs from the linked blob's size is rejected too, because clients verify sizes when they pull.
    /// Immutable tags are checked before references, so a rejected result lists either tags or missing digests.
    /// </remarks>
    /// <exception cref="ArgumentException">A tag is invalid, or the digest is the default value.</exception>
    public async ValueTask<ManifestWriteResult> PutManifestAsync(ManifestWrite manifest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(manifest.Manifest);
        ValidateDigest(manifest.Digest);
        foreach (var tag in manifest.Tags)
        {
            if (!Tag.IsValid(tag))
            {
                throw new ArgumentException($"The tag '{tag}' is invalid; a tag is 1 to 128 characters from [A-Za-z0-9_.-] and must not start with '.' or '-'.", nameof(manifest));
            }
        }

        var blobDigests = manifest.Manifest.Blobs.Select(d => d.Digest).Distinct().ToList();
        var childDigests = manifest.Manifest.Manifests.Select(d => d.Digest).Distinct().ToList();

        var result = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await GetOrCreateRepositoryIdAsync(connection, transaction, manifest.Repository, cancellationToken).ConfigureAwait(false);
            var immutableTags = await FindImmutableTagsToMoveAsync(connection, transaction, repositoryId, manifest, cancellationToken).ConfigureAwait(false);
            if (immutableTags.Count > 0)
            {
                return new ManifestWriteResult(false, [], []) { ImmutableTags = immutableTags };
            }

            var manifestId = await FindManifestIdAsync(connection, transaction, repositoryId, manifest.Digest, cancellationToken).ConfigureAwait(false);
            if (manifestId is null)
            {
                var (missingBlobs, wrongSizes) = await CheckBlobLinksAsync(connection, transaction, repositoryId, manifest.Manifest.Blobs, cancellationToken).ConfigureAwait(false);
                var missingManifests = await FindMissingAsync(connection, transaction, "SELECT 1 FROM manifests WHERE repository_id = $repository_id AND digest = $digest;", repositoryId, childDigests, cancellationToken).ConfigureAwait(false);
                if (missingBlobs.Count > 0 || missingManifests.Count > 0 || wrongSizes.Count > 0)
                {
                    // A result with Stored = false makes WriteAsync roll back, including the repository row created above.
                    return new ManifestWriteResult(false, missingBlobs, missingManifests) { BlobSizeMismatches = wrongSizes };
                }

                manifestId = await InsertManifestAsync(connection, transaction, repositoryId, manifest, cancellationToken).ConfigureAwait(false);
                await InsertReferencesAsync(connection, transaction, manifestId.Value, BlobReferenceKind, blobDigests, cancellationToken).ConfigureAwait(false);
                await InsertReferencesAsync(connection, transaction, manifestId.Value, ManifestReferenceKind, childDigests, cancellationToken).ConfigureAwait(false);
                SqliteLog.ManifestStored(_logger, manifest.Repository.Value, manifest.Digest);
            }

            foreach (var tag in manifest.Tags)
            {
                await SetTagAsync(connection, transaction, repositoryId, tag, manifestId.Value, cancellationToken).ConfigureAwait(false);
                SqliteLog.TagSet(_logger, manifest.Repository.Value, tag, manifest.Digest);
            }

            return ManifestWriteResult.Success;
        }, cancellationToken, commitWhen: outcome => outcome.Stored).ConfigureAwait(false);

        if (result.ImmutableTags.Count > 0)
        {
            SqliteLog.ManifestRejectedImmutableTags(_logger, manifest.Repository.Value, manifest.Digest, result.ImmutableTags.Count, result.ImmutableTags[0]);
        }
        else if (!result.Stored)
        {
            SqliteLog.ManifestMissingReferences(_logger, manifest.Repository.Value, manifest.Digest, result.MissingBlobs.Count, result.MissingManifests.Count);
        }

        return result;
    }

    /// <inheritdoc />
    public ValueTask<StoredManifest?> GetManifestAsync(RepositoryName repository, ManifestReference reference, CancellationToken cancellationToken = default)
    {
        var sql = reference.IsDigest
            ? """
              SELECT m.digest, m.media_type, m.content FROM manifests AS m
              JOIN repositories AS r ON r.id = m.repository_id
              WHERE r.name = $repository AND m.digest = $reference;
              """
            : """
              SELECT m.digest, m.media_type, m.content FROM tags AS t
              JOIN repositories AS r ON r.id = t.repository_id
              JOIN manifests AS m ON m.id = t.manifest_id
              WHERE r.name = $repository AND t.name = $reference;
              """;
        if (reference.IsDigest)
        {
            ValidateDigest(reference.Digest);
        }

        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$reference", reference.IsDigest ? reference.Digest.Value : reference.TagName);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new StoredManifest(Digest.Parse(reader.GetString(0)), reader.GetString(1), reader.GetFieldValue<byte[]>(2));
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ImmutableTagException">The tag exists and the repository's tags are immutable.</exception>
    public ValueTask<bool> DeleteTagAsync(RepositoryName repository, string tag, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tag);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var immutable = CreateCommand(connection, transaction, """
                SELECT r.immutable_tags FROM tags AS t
                JOIN repositories AS r ON r.id = t.repository_id
                WHERE r.name = $repository AND t.name = $tag;
                """))
            {
                immutable.Parameters.AddWithValue("$repository", repository.Value);
                immutable.Parameters.AddWithValue("$tag", tag);
                var result = await immutable.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                if (result is null)
                {
                    return false;
                }

                if (Convert.ToInt64(result, CultureInfo.InvariantCulture) != 0)
                {
                    throw new ImmutableTagException(
                        repository,
                        tag,
                        $"The tag '{tag}' in repository '{repository}' is immutable and cannot be deleted; turn off immutable tags in the repository settings first.");
                }
            }

            await using var command = CreateCommand(connection, transaction, """
                DELETE FROM tags
                WHERE repository_id = (SELECT id FROM repositories WHERE name = $repository) AND name = $tag;
                """);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$tag", tag);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="ImmutableTagException">A tag points to the manifest and the repository's tags are immutable.</exception>
    /// <remarks>
    /// The referrer record is the manifest's own subject column, so it goes with the manifest row. Other manifests
    /// that list this one as an index entry keep their reference. The registry decides whether such a delete is
    /// allowed before it calls this method.
    /// </remarks>
    public ValueTask<bool> DeleteManifestAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return false;
            }

            var manifestId = await FindManifestIdAsync(connection, transaction, repositoryId.Value, digest, cancellationToken).ConfigureAwait(false);
            if (manifestId is null)
            {
                return false;
            }

            // Deleting a tagged manifest deletes its tags, which immutable tags forbid.
            await using (var immutable = CreateCommand(connection, transaction, """
                SELECT t.name FROM tags AS t
                JOIN repositories AS r ON r.id = t.repository_id
                WHERE t.manifest_id = $manifest_id AND r.immutable_tags = 1
                ORDER BY t.name
                LIMIT 1;
                """))
            {
                immutable.Parameters.AddWithValue("$manifest_id", manifestId.Value);
                if (await immutable.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string tag)
                {
                    throw new ImmutableTagException(
                        repository,
                        tag,
                        $"The manifest {digest} in repository '{repository}' is tagged '{tag}', and the repository's tags are immutable, so it cannot be deleted; turn off immutable tags in the repository settings first.");
                }
            }

            // The foreign keys cascade too; deleting explicitly keeps the behaviour when a custom connection
            // string turns them off, and counts the tags for the log.
            int tagCount;
            await using (var command = CreateCommand(connection, transaction, "DELETE FROM tags WHERE manifest_id = $manifest_id;"))
            {
                command.Parameters.AddWithValue("$manifest_id", manifestId.Value);
                tagCount = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var command = CreateCommand(connection, transaction, "DELETE FROM manifest_references WHERE manifest_id = $manifest_id; DELETE FROM manifests WHERE id = $manifest_id;"))
            {
                command.Parameters.AddWithValue("$manifest_id", manifestId.Value);
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            SqliteLog.ManifestDeleted(_logger, repository.Value, digest, tagCount);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>?> ListTagsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync<IReadOnlyList<string>?>(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryWithContentIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return null;
            }

            // Case-insensitive order (tags are ASCII, which NOCASE folds), with tags that differ only in case in
            // ordinal order, so every tag has one place and "last" resumes exactly after it.
            var sql = last is null
                ? "SELECT name FROM tags WHERE repository_id = $repository_id ORDER BY name COLLATE NOCASE, name LIMIT $limit;"
                : """
                  SELECT name FROM tags
                  WHERE repository_id = $repository_id
                    AND (name COLLATE NOCASE > $last OR (name COLLATE NOCASE = $last AND name > $last))
                  ORDER BY name COLLATE NOCASE, name
                  LIMIT $limit;
                  """;
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$repository_id", repositoryId.Value);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<TagDetails>?> ListTagDetailsAsync(RepositoryName repository, string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        return ReadAsync<IReadOnlyList<TagDetails>?>(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await FindRepositoryIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            if (repositoryId is null)
            {
                return null;
            }

            // The same order and resume condition as ListTagsAsync, so both listings page alike.
            var sql = last is null
                ? """
                  SELECT t.name, t.updated_at, m.digest, m.media_type, m.content FROM tags AS t
                  JOIN manifests AS m ON m.id = t.manifest_id
                  WHERE t.repository_id = $repository_id
                  ORDER BY t.name COLLATE NOCASE, t.name
                  LIMIT $limit;
                  """
                : """
                  SELECT t.name, t.updated_at, m.digest, m.media_type, m.content FROM tags AS t
                  JOIN manifests AS m ON m.id = t.manifest_id
                  WHERE t.repository_id = $repository_id
                    AND (t.name COLLATE NOCASE > $last OR (t.name COLLATE NOCASE = $last AND t.name > $last))
                  ORDER BY t.name COLLATE NOCASE, t.name
                  LIMIT $limit;
                  """;
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$repository_id", repositoryId.Value);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            var details = new List<TagDetails>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var manifest = new StoredManifest(Digest.Parse(reader.GetString(2)), reader.GetString(3), reader.GetFieldValue<byte[]>(4));
                details.Add(new TagDetails(reader.GetString(0), manifest, DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1))));
            }

            return details;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<string>> ListManifestTagsAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(digest);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            // The tags_by_manifest index finds the tags once the repository and manifest rows are found by name.
            await using var command = CreateCommand(connection, transaction, """
                SELECT t.name FROM tags AS t
                JOIN manifests AS m ON m.id = t.manifest_id
                JOIN repositories AS r ON r.id = m.repository_id
                WHERE r.name = $repository AND m.digest = $digest
                ORDER BY t.name COLLATE NOCASE, t.name;
                """);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$digest", digest.Value);
            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Returns an empty list when the repository does not exist.</remarks>
    public ValueTask<IReadOnlyList<Descriptor>> ListReferrersAsync(RepositoryName repository, Digest subject, string? artifactType, CancellationToken cancellationToken = default)
    {
        ValidateDigest(subject);
        var sql = artifactType is null
            ? """
              SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations FROM manifests AS m
              WHERE m.repository_id = (SELECT id FROM repositories WHERE name = $repository) AND m.subject_digest = $subject
              ORDER BY m.digest;
              """
            : """
              SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations FROM manifests AS m
              WHERE m.repository_id = (SELECT id FROM repositories WHERE name = $repository) AND m.subject_digest = $subject
                AND m.artifact_type = $artifact_type
              ORDER BY m.digest;
              """;
        return ReadAsync<IReadOnlyList<Descriptor>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$subject", subject.Value);
            if (artifactType is not null)
            {
                command.Parameters.AddWithValue("$artifact_type", artifactType);
            }

            var referrers = new List<Descriptor>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                referrers.Add(new Descriptor
                {
                    Digest = Digest.Parse(reader.GetString(0)),
                    MediaType = reader.GetString(1),
                    Size = reader.GetInt64(2),
                    ArtifactType = reader.IsDBNull(3) ? null : reader.GetString(3),
                    Annotations = AnnotationsJson.Deserialize(reader.IsDBNull(4) ? null : reader.GetString(4)),
                });
            }

            return referrers;
        }, cancellationToken);
    }

    private static async Task<long?> FindManifestIdAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, Digest digest, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM manifests WHERE repository_id = $repository_id AND digest = $digest;");
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        command.Parameters.AddWithValue("$digest", digest.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <summary>Runs an existence query once per digest and returns the digests it found no row for.</summary>
    /// <summary>
    /// Looks up each config and layer descriptor among the repository's blob links, and returns the digests that are
    /// not linked and those whose descriptor size differs from the stored blob's size.
    /// </summary>
    private static async Task<(IReadOnlyList<Digest> Missing, IReadOnlyList<Digest> WrongSize)> CheckBlobLinksAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, IEnumerable<Descriptor> descriptors, CancellationToken cancellationToken)
    {
        var missing = new List<Digest>();
        var wrongSize = new List<Digest>();
        await using var command = CreateCommand(connection, transaction, "SELECT size FROM blob_links WHERE repository_id = $repository_id AND digest = $digest;");
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
        foreach (var descriptor in descriptors)
        {
            if (missing.Contains(descriptor.Digest) || wrongSize.Contains(descriptor.Digest))
            {
                continue;
            }

            digestParameter.Value = descriptor.Digest.Value;
            var size = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (size is null)
            {
                missing.Add(descriptor.Digest);
            }
            else if (Convert.ToInt64(size, CultureInfo.InvariantCulture) != descriptor.Size)
            {
                wrongSize.Add(descriptor.Digest);
            }
        }

        return (missing, wrongSize);
    }

    private static async Task<IReadOnlyList<Digest>> FindMissingAsync(SqliteConnection connection, SqliteTransaction transaction, string existsSql, long repositoryId, IReadOnlyList<Digest> digests, CancellationToken cancellationToken)
    {
        var missing = new List<Digest>();
        if (digests.Count == 0)
        {
            return missing;
        }

        await using var command = CreateCommand(connection, transaction, existsSql);
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
        foreach (var digest in digests)
        {
            digestParameter.Value = digest.Value;
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                missing.Add(digest);
            }
        }

        return missing;
    }

    private async Task<long> InsertManifestAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, ManifestWrite manifest, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            INSERT INTO manifests (repository_id, digest, media_type, content, size, subject_digest, artifact_type, annotations, created_at)
            VALUES ($repository_id, $digest, $media_type, $content, $size, $subject_digest, $artifact_type, $annotations, $now)
            RETURNING id;
            """);
        var parsed = manifest.Manifest;
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        command.Parameters.AddWithValue("$digest", manifest.Digest.Value);
        command.Parameters.AddWithValue("$media_type", parsed.MediaType);
        command.Parameters.Add("$content", SqliteType.Blob).Value = manifest.Content.ToArray();
        command.Parameters.AddWithValue("$size", (long)manifest.Content.Length);
        command.Parameters.AddWithValue("$subject_digest", parsed.Subject is null ? DBNull.Value : parsed.Subject.Digest.Value);
        command.Parameters.AddWithValue("$artifact_type", (object?)parsed.ArtifactType ?? DBNull.Value);
        command.Parameters.AddWithValue("$annotations", (object?)AnnotationsJson.Serialize(parsed.Annotations) ?? DBNull.Value);
        command.Parameters.AddWithValue("$now", Now());
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    private static async Task InsertReferencesAsync(SqliteConnection connection, SqliteTransaction transaction, long manifestId, int kind, IReadOnlyList<Digest> digests, CancellationToken cancellationToken)
    {
        if (digests.Count == 0)
        {
            return;
        }

        await using var command = CreateCommand(connection, transaction, "INSERT INTO manifest_references (manifest_id, kind, digest) VALUES ($manifest_id, $kind, $digest);");
        command.Parameters.AddWithValue("$manifest_id", manifestId);
        command.Parameters.AddWithValue("$kind", kind);
        var digestParameter = command.Parameters.Add("$digest", SqliteType.Text);
        foreach (var digest in digests)
        {
            digestParameter.Value = digest.Value;
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Returns the requested tags that already point to a manifest other than <paramref name="manifest"/>, when the
    /// repository's tags are immutable; otherwise returns an empty list.
    /// </summary>
    private static async Task<IReadOnlyList<string>> FindImmutableTagsToMoveAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, ManifestWrite manifest, CancellationToken cancellationToken)
    {
        var moved = new List<string>();
        if (manifest.Tags.Count == 0)
        {
            return moved;
        }

        await using (var flag = CreateCommand(connection, transaction, "SELECT immutable_tags FROM repositories WHERE id = $repository_id;"))
        {
            flag.Parameters.AddWithValue("$repository_id", repositoryId);
            if (Convert.ToInt64(await flag.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture) == 0)
            {
                return moved;
            }
        }

        await using var command = CreateCommand(connection, transaction, """
            SELECT m.digest FROM tags AS t
            JOIN manifests AS m ON m.id = t.manifest_id
            WHERE t.repository_id = $repository_id AND t.name = $name;
            """);
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        var nameParameter = command.Parameters.Add("$name", SqliteType.Text);
        foreach (var tag in manifest.Tags.Distinct(StringComparer.Ordinal))
        {
            nameParameter.Value = tag;
            if (await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string current
                && !string.Equals(current, manifest.Digest.Value, StringComparison.Ordinal))
            {
                moved.Add(tag);
            }
        }

        return moved;
    }

    private async Task SetTagAsync(SqliteConnection connection, SqliteTransaction transaction, long repositoryId, string tag, long manifestId, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, """
            INSERT INTO tags (repository_id, name, manifest_id, updated_at)
            VALUES ($repository_id, $name, $manifest_id, $now)
            ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at;
            """);
        command.Parameters.AddWithValue("$repository_id", repositoryId);
        command.Parameters.AddWithValue("$name", tag);
        command.Parameters.AddWithValue("$manifest_id", manifestId);
        command.Parameters.AddWithValue("$now", Now());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}

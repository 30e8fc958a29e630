using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage.Uploads;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Upload sessions of the blob upload API.</summary>
internal sealed partial class PostgreSqlMetadataStore
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    /// <exception cref="InvalidOperationException">A session with this id already exists.</exception>
    public async ValueTask CreateUploadAsync(UploadSession session, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(session);
        UploadIds.Validate(session.Id);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var exists = CreateCommand(connection, transaction, "SELECT 1 FROM upload_sessions WHERE id = @id;"))
            {
                exists.Parameters.AddWithValue("@id", session.Id);
                if (await exists.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new InvalidOperationException($"An upload session with id '{session.Id}' already exists. Use a new id for each upload.");
                }
            }

            var repositoryId = await GetOrCreateRepositoryIdAsync(connection, transaction, session.Repository, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO upload_sessions (id, repository_id, started_at, updated_at)
                VALUES (@id, @repository_id, @started_at, @updated_at);
                """);
            command.Parameters.AddWithValue("@id", session.Id);
            command.Parameters.AddWithValue("@repository_id", repositoryId);
            command.Parameters.AddWithValue("@started_at", session.StartedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@updated_at", session.UpdatedAt.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Timestamps come back in UTC, truncated to whole milliseconds.</remarks>
    public ValueTask<UploadSession?> GetUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT u.id, r.name, u.started_at, u.updated_at, u.verified_digest FROM upload_sessions AS u
                JOIN repositories AS r ON r.id = u.repository_id
                WHERE u.id = @id;
                """);
            command.Parameters.AddWithValue("@id", uploadId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new UploadSession(
                reader.GetString(0),
                RepositoryName.Parse(reader.GetString(1)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(3)))
            {
                VerifiedDigest = reader.IsDBNull(4) ? null : Digest.Parse(reader.GetString(4)),
            };
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Does nothing when the session does not exist.</remarks>
    public async ValueTask TouchUploadAsync(string uploadId, DateTimeOffset updatedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "UPDATE upload_sessions SET updated_at = @updated_at WHERE id = @id;");
            command.Parameters.AddWithValue("@id", uploadId);
            command.Parameters.AddWithValue("@updated_at", updatedAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask MarkUploadVerifiedAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        ValidateDigest(digest);
        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "UPDATE upload_sessions SET verified_digest = @digest WHERE id = @id;");
            command.Parameters.AddWithValue("@id", uploadId);
            command.Parameters.AddWithValue("@digest", digest.Value);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM upload_sessions WHERE id = @id;");
            command.Parameters.AddWithValue("@id", uploadId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }
    /// <inheritdoc />
    /// <remarks>
    /// One conditional UPDATE that does not take the schema's write lock: PostgreSQL locks the row, and a second
    /// UPDATE of the same row waits for the first to commit and then checks its condition against the new lease.
    /// Times are compared in whole milliseconds.
    /// </remarks>
    public ValueTask<bool> TryAcquireUploadLeaseAsync(string uploadId, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        UploadLeases.Validate(holder, now, expiresAt);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE upload_sessions SET lease_holder = @holder, lease_expires_at = @expires_at
                WHERE id = @id AND (lease_holder IS NULL OR lease_holder = @holder OR lease_expires_at <= @now);
                """);
            command.Parameters.AddWithValue("@id", uploadId);
            command.Parameters.AddWithValue("@holder", holder);
            command.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@expires_at", expiresAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ReleaseUploadLeaseAsync(string uploadId, string holder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        ArgumentNullException.ThrowIfNull(holder);
        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE upload_sessions SET lease_holder = NULL, lease_expires_at = NULL
                WHERE id = @id AND lease_holder = @holder;
                """);
            command.Parameters.AddWithValue("@id", uploadId);
            command.Parameters.AddWithValue("@holder", holder);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}

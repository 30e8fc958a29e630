using Dtr.Storage.Settings;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>The runtime settings document, kept in the one-row <c>settings</c> table, and the blob usage query.</summary>
internal sealed partial class PostgreSqlMetadataStore : ISettingsStore
{
    /// <inheritdoc />
    public ValueTask<StoredSettings?> GetSettingsAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT document, version, updated_at, updated_by FROM settings WHERE id = 1;");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadSettings(reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// Each branch is one statement on the one row, so PostgreSQL's row lock makes the version check and the write one
    /// step, and of two concurrent first saves the second inserts nothing.
    /// </remarks>
    public ValueTask<StoredSettings?> TrySaveSettingsAsync(string document, long expectedVersion, DateTimeOffset updatedAt, string? updatedBy, CancellationToken cancellationToken = default)
    {
        SettingsStoreArguments.ValidateSave(document, expectedVersion, updatedBy);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            var sql = expectedVersion == 0
                ? """
                  INSERT INTO settings (id, document, version, updated_at, updated_by) VALUES (1, @document, 1, @updated_at, @updated_by)
                  ON CONFLICT (id) DO NOTHING;
                  """
                : """
                  UPDATE settings SET document = @document, version = version + 1, updated_at = @updated_at, updated_by = @updated_by
                  WHERE id = 1 AND version = @expected_version;
                  """;
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("@document", document);
            command.Parameters.AddWithValue("@updated_at", updatedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@updated_by", (object?)updatedBy ?? DBNull.Value);
            command.Parameters.AddWithValue("@expected_version", expectedVersion);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return null;
            }

            return new StoredSettings(document, expectedVersion + 1, DateTimeOffset.FromUnixTimeMilliseconds(updatedAt.ToUnixTimeMilliseconds()), updatedBy);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>A blob linked into several repositories has one size, so each digest is counted once.</remarks>
    public ValueTask<BlobUsage> GetBlobUsageAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT count(*), coalesce(sum(size), 0)::bigint
                FROM (SELECT digest, max(size) AS size FROM blob_links GROUP BY digest) AS linked;
                """);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return new BlobUsage(reader.GetInt64(0), reader.GetInt64(1));
        }, cancellationToken);

    private static StoredSettings ReadSettings(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        reader.GetInt64(1),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(2)),
        reader.IsDBNull(3) ? null : reader.GetString(3));
}

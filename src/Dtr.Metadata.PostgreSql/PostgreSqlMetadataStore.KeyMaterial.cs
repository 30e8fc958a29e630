using Dtr.Storage.KeyMaterial;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>The shared secrets, kept in the <c>key_material</c> table.</summary>
internal sealed partial class PostgreSqlMetadataStore : IKeyMaterialStore
{
    /// <inheritdoc />
    public ValueTask<StoredKeyMaterial?> GetKeyMaterialAsync(string name, CancellationToken cancellationToken = default)
    {
        KeyMaterialStoreArguments.ValidateName(name);
        return ReadAsync((connection, transaction, cancellationToken) => ReadKeyMaterialAsync(connection, transaction, name, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Of two concurrent inserts, the second waits for the first to commit and inserts nothing. The read is a separate statement, so under READ COMMITTED it reads the row that the other transaction committed.</remarks>
    public ValueTask<StoredKeyMaterial> GetOrAddKeyMaterialAsync(string name, string value, DateTimeOffset updatedAt, CancellationToken cancellationToken = default)
    {
        KeyMaterialStoreArguments.ValidateAdd(name, value);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var insert = CreateCommand(connection, transaction, """
                INSERT INTO key_material (name, value, updated_at) VALUES (@name, @value, @updated_at)
                ON CONFLICT (name) DO NOTHING;
                """))
            {
                insert.Parameters.AddWithValue("@name", name);
                insert.Parameters.AddWithValue("@value", value);
                insert.Parameters.AddWithValue("@updated_at", updatedAt.ToUnixTimeMilliseconds());
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return await ReadKeyMaterialAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"The key material '{name}' is missing right after it was inserted.");
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<StoredKeyMaterial> SetKeyMaterialAsync(string name, string value, DateTimeOffset updatedAt, CancellationToken cancellationToken = default)
    {
        KeyMaterialStoreArguments.ValidateAdd(name, value);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO key_material (name, value, updated_at) VALUES (@name, @value, @updated_at)
                ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at;
                """);
            command.Parameters.AddWithValue("@name", name);
            command.Parameters.AddWithValue("@value", value);
            command.Parameters.AddWithValue("@updated_at", updatedAt.ToUnixTimeMilliseconds());
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new StoredKeyMaterial(name, value, DateTimeOffset.FromUnixTimeMilliseconds(updatedAt.ToUnixTimeMilliseconds()));
        }, cancellationToken);
    }

    private static async Task<StoredKeyMaterial?> ReadKeyMaterialAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT value, updated_at FROM key_material WHERE name = @name;");
        command.Parameters.AddWithValue("@name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        return new StoredKeyMaterial(name, reader.GetString(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)));
    }
}

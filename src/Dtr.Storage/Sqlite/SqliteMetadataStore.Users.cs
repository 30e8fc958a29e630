using Dtr.Metadata;
using Dtr.Identity;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Users and their personal access tokens.</summary>
internal sealed partial class SqliteMetadataStore
{
    // The columns ReadUser expects, in its order; the query joins users AS u with namespaces AS n.
    private const string UserColumns = "n.name, u.email, u.full_name, u.is_active, u.is_admin, n.created_at";

    // The columns ReadAccessToken expects; the query joins access_tokens AS t with namespaces AS n.
    private const string AccessTokenColumns = "t.id, n.name, t.label, t.created_at, t.last_used_at";

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="IdentityConflictException">A user or an organization already has the name.</exception>
    public async ValueTask<User> CreateUserAsync(NewUser user, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(user);
        ValidateIdentityName(user.Name, "user", nameof(user));
        var created = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var createdAt = Now();
            var id = await ReserveNamespaceAsync(connection, transaction, user.Name, UserKind, createdAt, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO users (id, email, full_name, password_hash, is_active, is_admin)
                VALUES ($id, $email, $full_name, $password_hash, $is_active, $is_admin);
                """);
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$email", (object?)user.Email ?? DBNull.Value);
            command.Parameters.AddWithValue("$full_name", (object?)user.FullName ?? DBNull.Value);
            command.Parameters.AddWithValue("$password_hash", (object?)user.PasswordHash ?? DBNull.Value);
            command.Parameters.AddWithValue("$is_active", user.IsActive);
            command.Parameters.AddWithValue("$is_admin", user.IsAdmin);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new User(user.Name, user.Email, user.FullName, user.IsActive, user.IsAdmin, FromUnixMilliseconds(createdAt));
        }, cancellationToken).ConfigureAwait(false);

        SqliteLog.UserCreated(_logger, created.Name, created.IsAdmin);
        return created;
    }

    /// <inheritdoc />
    public ValueTask<User?> GetUserAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync((connection, transaction, cancellationToken) => FindUserAsync(connection, transaction, name, cancellationToken), cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<string?> GetPasswordHashAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT u.password_hash FROM users AS u
                JOIN namespaces AS n ON n.id = u.id
                WHERE n.name = $name;
                """);
            command.Parameters.AddWithValue("$name", name);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<User>> ListUsersAsync(string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var sql = last is null
            ? $"SELECT {UserColumns} FROM users AS u JOIN namespaces AS n ON n.id = u.id ORDER BY n.name LIMIT $limit;"
            : $"SELECT {UserColumns} FROM users AS u JOIN namespaces AS n ON n.id = u.id WHERE n.name > $last ORDER BY n.name LIMIT $limit;";
        return ReadAsync<IReadOnlyList<User>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            var users = new List<User>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                users.Add(ReadUser(reader));
            }

            return users;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<User?> UpdateUserAsync(string name, UserUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(update);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var command = CreateCommand(connection, transaction, """
                UPDATE users SET
                    password_hash = COALESCE($password_hash, password_hash),
                    email = COALESCE($email, email),
                    full_name = COALESCE($full_name, full_name),
                    is_active = COALESCE($is_active, is_active),
                    is_admin = COALESCE($is_admin, is_admin)
                WHERE id = (SELECT id FROM namespaces WHERE name = $name AND kind = 'user');
                """))
            {
                command.Parameters.AddWithValue("$name", name);
                command.Parameters.AddWithValue("$password_hash", (object?)update.PasswordHash ?? DBNull.Value);
                command.Parameters.AddWithValue("$email", (object?)update.Email ?? DBNull.Value);
                command.Parameters.AddWithValue("$full_name", (object?)update.FullName ?? DBNull.Value);
                command.Parameters.AddWithValue("$is_active", (object?)update.IsActive ?? DBNull.Value);
                command.Parameters.AddWithValue("$is_admin", (object?)update.IsAdmin ?? DBNull.Value);
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return null;
                }
            }

            return await FindUserAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Counts every repository row in the namespace, including repositories that hold pushed content but have no
    /// settings, so a later user or organization with the same name cannot inherit them.
    /// </remarks>
    /// <exception cref="IdentityConflictException">Repositories exist in the user's namespace.</exception>
    public async ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var deleted = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var userId = await FindNamespaceIdAsync(connection, transaction, name, UserKind, cancellationToken).ConfigureAwait(false);
            if (userId is null)
            {
                return false;
            }

            if (await FindFirstRepositoryInNamespaceAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false) is { } repository)
            {
                throw new IdentityConflictException(
                    $"The user '{name}' still has repositories, such as '{repository}'; delete or move the user's repositories first.");
            }

            // An organization must keep an owner, so the last owner of one cannot be deleted.
            await using (var soleOwner = CreateCommand(connection, transaction, """
                SELECT n.name FROM organization_owners AS o
                JOIN namespaces AS n ON n.id = o.organization_id
                WHERE o.user_id = $id
                  AND NOT EXISTS (SELECT 1 FROM organization_owners AS other WHERE other.organization_id = o.organization_id AND other.user_id <> $id)
                ORDER BY n.name LIMIT 1;
                """))
            {
                soleOwner.Parameters.AddWithValue("$id", userId.Value);
                if (await soleOwner.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string organization)
                {
                    throw new IdentityConflictException(
                        $"The user '{name}' is the only owner of organization '{organization}'; add another owner first.");
                }
            }

            // The users row and everything that references it (memberships, ownerships, tokens) go with the
            // namespace row through ON DELETE CASCADE.
            await using var command = CreateCommand(connection, transaction, "DELETE FROM namespaces WHERE id = $id;");
            command.Parameters.AddWithValue("$id", userId.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // A later user or organization of the same name must not inherit the namespace's webhooks.
            await DeleteWebhooksOfTargetAsync(connection, transaction, WebhookScope.Namespace, name, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (deleted)
        {
            SqliteLog.UserDeleted(_logger, name);
        }

        return deleted;
    }

    /// <inheritdoc />
    public ValueTask<bool> AnyUserAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
            await ExecuteScalarAsync(connection, transaction, "SELECT 1 FROM users LIMIT 1;", cancellationToken).ConfigureAwait(false) is not null,
            cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The id or the secret hash is empty.</exception>
    /// <exception cref="IdentityNotFoundException">The user does not exist.</exception>
    /// <exception cref="IdentityConflictException">A token with this id already exists.</exception>
    public async ValueTask<AccessToken> CreateAccessTokenAsync(string userName, string id, string secretHash, string? label, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentException.ThrowIfNullOrWhiteSpace(id);
        ArgumentException.ThrowIfNullOrWhiteSpace(secretHash);
        var token = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using (var existing = CreateCommand(connection, transaction, "SELECT 1 FROM access_tokens WHERE id = $id;"))
            {
                existing.Parameters.AddWithValue("$id", id);
                if (await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new IdentityConflictException($"An access token with id '{Truncate(id)}' already exists; generate a new id.");
                }
            }

            var createdAt = Now();
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO access_tokens (id, user_id, secret_hash, label, created_at)
                VALUES ($id, $user_id, $secret_hash, $label, $created_at);
                """);
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$user_id", userId);
            command.Parameters.AddWithValue("$secret_hash", secretHash);
            command.Parameters.AddWithValue("$label", (object?)label ?? DBNull.Value);
            command.Parameters.AddWithValue("$created_at", createdAt);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new AccessToken(id, userName, label, FromUnixMilliseconds(createdAt), null);
        }, cancellationToken).ConfigureAwait(false);

        SqliteLog.AccessTokenCreated(_logger, token.Id, token.UserName);
        return token;
    }

    /// <inheritdoc />
    public ValueTask<(AccessToken Token, string SecretHash)?> FindAccessTokenAsync(string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        return ReadAsync<(AccessToken Token, string SecretHash)?>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                SELECT {AccessTokenColumns}, t.secret_hash FROM access_tokens AS t
                JOIN namespaces AS n ON n.id = t.user_id
                WHERE t.id = $id;
                """);
            command.Parameters.AddWithValue("$id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return (ReadAccessToken(reader), reader.GetString(5));
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Tokens created in the same millisecond follow in ordinal order of their ids.</remarks>
    /// <exception cref="IdentityNotFoundException">The user does not exist.</exception>
    public ValueTask<IReadOnlyList<AccessToken>> ListAccessTokensAsync(string userName, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userName);
        return ReadAsync<IReadOnlyList<AccessToken>>(async (connection, transaction, cancellationToken) =>
        {
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, $"""
                SELECT {AccessTokenColumns} FROM access_tokens AS t
                JOIN namespaces AS n ON n.id = t.user_id
                WHERE t.user_id = $user_id
                ORDER BY t.created_at DESC, t.id;
                """);
            command.Parameters.AddWithValue("$user_id", userId);
            var tokens = new List<AccessToken>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                tokens.Add(ReadAccessToken(reader));
            }

            return tokens;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The user does not exist.</exception>
    public async ValueTask<bool> DeleteAccessTokenAsync(string userName, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(id);
        var deleted = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, "DELETE FROM access_tokens WHERE id = $id AND user_id = $user_id;");
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$user_id", userId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken).ConfigureAwait(false);

        if (deleted)
        {
            SqliteLog.AccessTokenDeleted(_logger, id, userName);
        }

        return deleted;
    }

    /// <inheritdoc />
    /// <remarks>
    /// Does nothing when the token does not exist, and never moves the time backwards, so concurrent requests
    /// that finish out of order keep the latest time.
    /// </remarks>
    public async ValueTask TouchAccessTokenAsync(string id, DateTimeOffset usedAt, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(id);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE access_tokens SET last_used_at = $used_at
                WHERE id = $id AND (last_used_at IS NULL OR last_used_at < $used_at);
                """);
            command.Parameters.AddWithValue("$id", id);
            command.Parameters.AddWithValue("$used_at", usedAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<User?> FindUserAsync(SqliteConnection connection, SqliteTransaction transaction, string name, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, $"SELECT {UserColumns} FROM users AS u JOIN namespaces AS n ON n.id = u.id WHERE n.name = $name;");
        command.Parameters.AddWithValue("$name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadUser(reader) : null;
    }

    private static User ReadUser(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.IsDBNull(1) ? null : reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetBoolean(3),
        reader.GetBoolean(4),
        FromUnixMilliseconds(reader.GetInt64(5)));

    private static AccessToken ReadAccessToken(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        FromUnixMilliseconds(reader.GetInt64(3)),
        reader.IsDBNull(4) ? null : FromUnixMilliseconds(reader.GetInt64(4)));
}

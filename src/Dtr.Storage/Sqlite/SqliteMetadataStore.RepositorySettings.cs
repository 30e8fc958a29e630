using Dtr.Metadata;
using System.Globalization;
using Dtr.Identity;
using Dtr.Names;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Repository settings, team access grants and the queries that authorization runs.</summary>
internal sealed partial class SqliteMetadataStore
{
    // The columns ReadRepositorySettings expects, in its order.
    private const string SettingsColumns = "name, visibility, description, scan_on_push, immutable_tags, created_at";

    /// <summary>
    /// The query of <see cref="GetAccessFactsAsync"/>, with parameters $repository, $namespace and $user (null for
    /// an anonymous caller). The one-row derived table keeps a result row when the repository does not exist.
    /// </summary>
    internal const string AccessFactsSql = """
        SELECT
            r.id IS NOT NULL,
            r.visibility,
            EXISTS (
                SELECT 1 FROM organization_owners
                WHERE organization_id = (SELECT id FROM namespaces WHERE name = $namespace AND kind = 'organization')
                  AND user_id = (SELECT id FROM namespaces WHERE name = $user AND kind = 'user')),
            (SELECT MAX(a.level) FROM team_access AS a
             JOIN team_members AS m ON m.team_id = a.team_id
             WHERE a.repository_id = r.id
               AND m.user_id = (SELECT id FROM namespaces WHERE name = $user AND kind = 'user'))
        FROM (SELECT 1) AS one
        LEFT JOIN repositories AS r ON r.name = $repository AND r.has_settings = 1;
        """;

    /// <inheritdoc />
    /// <remarks>
    /// The store sets <see cref="RepositorySettings.CreatedAt"/> and ignores the value passed in. A repository that
    /// already held content keeps the time its content first arrived.
    /// </remarks>
    /// <exception cref="IdentityNotFoundException">The namespace is neither a user nor an organization.</exception>
    /// <exception cref="IdentityConflictException">The repository already has settings.</exception>
    public async ValueTask<RepositorySettings> CreateRepositoryAsync(RepositorySettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var visibility = VisibilityToText(settings.Visibility);
        var repository = settings.Name;
        var created = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var owner = CreateCommand(connection, transaction, "SELECT 1 FROM namespaces WHERE name = $namespace;"))
            {
                owner.Parameters.AddWithValue("$namespace", repository.Namespace);
                if (await owner.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
                {
                    throw new IdentityNotFoundException(
                        $"The namespace '{repository.Namespace}' of repository '{repository}' is neither a user nor an organization; create the user or organization first.");
                }
            }

            long? existingId = null;
            await using (var existing = CreateCommand(connection, transaction, "SELECT id, has_settings FROM repositories WHERE name = $name;"))
            {
                existing.Parameters.AddWithValue("$name", repository.Value);
                await using var reader = await existing.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
                if (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (reader.GetBoolean(1))
                    {
                        throw new IdentityConflictException($"The repository '{repository}' already exists.");
                    }

                    existingId = reader.GetInt64(0);
                }
            }

            // A repository that content was pushed to before it was created keeps its row and gains the settings.
            var sql = existingId is null
                ? $"""
                   INSERT INTO repositories (name, created_at, has_settings, visibility, description, scan_on_push, immutable_tags)
                   VALUES ($name, $now, 1, $visibility, $description, $scan_on_push, $immutable_tags)
                   RETURNING {SettingsColumns};
                   """
                : $"""
                   UPDATE repositories
                   SET has_settings = 1, visibility = $visibility, description = $description, scan_on_push = $scan_on_push, immutable_tags = $immutable_tags
                   WHERE name = $name
                   RETURNING {SettingsColumns};
                   """;
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$name", repository.Value);
            command.Parameters.AddWithValue("$now", Now());
            command.Parameters.AddWithValue("$visibility", visibility);
            command.Parameters.AddWithValue("$description", (object?)settings.Description ?? DBNull.Value);
            command.Parameters.AddWithValue("$scan_on_push", settings.ScanOnPush);
            command.Parameters.AddWithValue("$immutable_tags", settings.ImmutableTags);
            await using var written = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await written.ReadAsync(cancellationToken).ConfigureAwait(false);
            return ReadRepositorySettings(written);
        }, cancellationToken).ConfigureAwait(false);

        SqliteLog.RepositoryCreated(_logger, repository.Value, visibility);
        return created;
    }

    /// <inheritdoc />
    public ValueTask<RepositorySettings?> GetRepositoryAsync(RepositoryName name, CancellationToken cancellationToken = default) =>
        ReadAsync((connection, transaction, cancellationToken) => FindRepositorySettingsAsync(connection, transaction, name, cancellationToken), cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<RepositorySettings>> ListRepositorySettingsAsync(string? namespaceName, string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var conditions = new List<string> { "has_settings = 1" };
        if (namespaceName is not null)
        {
            conditions.Add("(name = $namespace OR (name >= $start AND name < $end))");
        }

        if (last is not null)
        {
            conditions.Add("name > $last");
        }

        var sql = $"SELECT {SettingsColumns} FROM repositories WHERE {string.Join(" AND ", conditions)} ORDER BY name LIMIT $limit;";
        return ReadAsync<IReadOnlyList<RepositorySettings>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (namespaceName is not null)
            {
                var (start, end) = NamespaceRange(namespaceName);
                command.Parameters.AddWithValue("$namespace", namespaceName);
                command.Parameters.AddWithValue("$start", start);
                command.Parameters.AddWithValue("$end", end);
            }

            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            var repositories = new List<RepositorySettings>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                repositories.Add(ReadRepositorySettings(reader));
            }

            return repositories;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<RepositorySettings?> UpdateRepositoryAsync(RepositoryName name, RepositorySettingsUpdate update, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(update);
        var visibility = update.Visibility is { } value ? VisibilityToText(value) : null;
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using (var command = CreateCommand(connection, transaction, """
                UPDATE repositories SET
                    visibility = COALESCE($visibility, visibility),
                    description = COALESCE($description, description),
                    scan_on_push = COALESCE($scan_on_push, scan_on_push),
                    immutable_tags = COALESCE($immutable_tags, immutable_tags)
                WHERE name = $name AND has_settings = 1;
                """))
            {
                command.Parameters.AddWithValue("$name", name.Value);
                command.Parameters.AddWithValue("$visibility", (object?)visibility ?? DBNull.Value);
                command.Parameters.AddWithValue("$description", (object?)update.Description ?? DBNull.Value);
                command.Parameters.AddWithValue("$scan_on_push", (object?)update.ScanOnPush ?? DBNull.Value);
                command.Parameters.AddWithValue("$immutable_tags", (object?)update.ImmutableTags ?? DBNull.Value);
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return null;
                }
            }

            return await FindRepositorySettingsAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Deletes the repository whether or not it has settings. Tags, manifests, their references, blob links,
    /// upload sessions and team grants go with the repository row through ON DELETE CASCADE. The webhooks of the
    /// repository are deleted in the same transaction, so a later repository of the same name does not inherit them.
    /// Blob bytes and the data of open uploads stay in the blob store until garbage collection.
    /// </remarks>
    public async ValueTask<bool> DeleteRepositoryAsync(RepositoryName name, CancellationToken cancellationToken = default)
    {
        var deleted = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM repositories WHERE name = $name;");
            command.Parameters.AddWithValue("$name", name.Value);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
            {
                return false;
            }

            await DeleteWebhooksOfTargetAsync(connection, transaction, WebhookScope.Repository, name.Value, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (deleted)
        {
            SqliteLog.RepositoryDeleted(_logger, name.Value);
        }

        return deleted;
    }

    /// <inheritdoc />
    /// <remarks>The team may belong to any organization; the caller decides who may grant what.</remarks>
    /// <exception cref="ArgumentOutOfRangeException">The level is <see cref="AccessLevel.None"/> or not a defined level.</exception>
    /// <exception cref="IdentityNotFoundException">The repository (with settings), the organization or the team does not exist.</exception>
    public async ValueTask SetTeamAccessAsync(RepositoryName repository, string organization, string team, AccessLevel level, CancellationToken cancellationToken = default)
    {
        if (level is not (AccessLevel.ReadOnly or AccessLevel.ReadWrite or AccessLevel.Admin))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "A grant's level must be ReadOnly, ReadWrite or Admin; remove the grant to take access away.");
        }

        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await GetRepositoryWithSettingsIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            var teamId = await GetTeamIdAsync(connection, transaction, organization, team, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO team_access (repository_id, team_id, level) VALUES ($repository_id, $team_id, $level)
                ON CONFLICT (repository_id, team_id) DO UPDATE SET level = excluded.level;
                """);
            command.Parameters.AddWithValue("$repository_id", repositoryId);
            command.Parameters.AddWithValue("$team_id", teamId);
            command.Parameters.AddWithValue("$level", (int)level);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);

        SqliteLog.TeamAccessSet(_logger, repository.Value, organization, team, level);
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The repository (with settings), the organization or the team does not exist.</exception>
    public ValueTask<bool> RemoveTeamAccessAsync(RepositoryName repository, string organization, string team, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await GetRepositoryWithSettingsIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            var teamId = await GetTeamIdAsync(connection, transaction, organization, team, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, "DELETE FROM team_access WHERE repository_id = $repository_id AND team_id = $team_id;");
            command.Parameters.AddWithValue("$repository_id", repositoryId);
            command.Parameters.AddWithValue("$team_id", teamId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Grants come in ordinal order of organization, then team.</remarks>
    /// <exception cref="IdentityNotFoundException">The repository does not exist or has no settings.</exception>
    public ValueTask<IReadOnlyList<TeamAccess>> ListTeamAccessAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<TeamAccess>>(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await GetRepositoryWithSettingsIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                SELECT o.name, t.name, a.level FROM team_access AS a
                JOIN teams AS t ON t.id = a.team_id
                JOIN namespaces AS o ON o.id = t.organization_id
                WHERE a.repository_id = $repository_id
                ORDER BY o.name, t.name;
                """);
            command.Parameters.AddWithValue("$repository_id", repositoryId);
            var grants = new List<TeamAccess>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                grants.Add(new TeamAccess(reader.GetString(0), reader.GetString(1), (AccessLevel)reader.GetInt32(2)));
            }

            return grants;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>
    /// One statement, and every part of it seeks a primary key or unique index: the repository by name, the
    /// caller and the namespace by name, the owner record by (organization, user), and each grant's team
    /// membership by (team, user). The caller owns its own user namespace whether or not the user exists.
    /// </remarks>
    public ValueTask<RepositoryAccessFacts> GetAccessFactsAsync(string? userName, RepositoryName repository, CancellationToken cancellationToken = default)
    {
        var namespaceName = repository.Namespace;
        var ownsUserNamespace = userName is not null && string.Equals(userName, namespaceName, StringComparison.Ordinal);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, AccessFactsSql);
            command.Parameters.AddWithValue("$repository", repository.Value);
            command.Parameters.AddWithValue("$namespace", namespaceName);
            command.Parameters.AddWithValue("$user", (object?)userName ?? DBNull.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);

            var exists = reader.GetBoolean(0);
            var visibility = exists ? ParseVisibility(reader.GetString(1)) : RepositoryVisibility.Private;
            var ownsOrganization = reader.GetBoolean(2);
            var teamLevel = reader.IsDBNull(3) ? AccessLevel.None : (AccessLevel)reader.GetInt32(3);
            return new RepositoryAccessFacts(exists, visibility, ownsUserNamespace || ownsOrganization, teamLevel);
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// For administrators the list is every repository row, including repositories that hold content but have no
    /// settings. For everyone else it contains only repositories with settings. The caller owns its own user
    /// namespace whether or not the user exists.
    /// NOTE: the query walks repositories in name order and tests each row, so a page costs time in proportion
    /// to the rows it skips, not only to the rows it returns.
    /// </remarks>
    public ValueTask<IReadOnlyList<string>> ListVisibleRepositoriesAsync(string? userName, bool isAdmin, string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (isAdmin)
        {
            return ListRepositoriesAsync(last, limit, cancellationToken);
        }

        var after = last is null ? string.Empty : "AND r.name > $last";
        var sql = userName is null
            ? $"""
               SELECT r.name FROM repositories AS r
               WHERE r.has_settings = 1 AND r.visibility = 'public' {after}
               ORDER BY r.name
               LIMIT $limit;
               """
            : $"""
               WITH caller (id) AS (SELECT id FROM namespaces WHERE name = $user AND kind = 'user'),
               owned (name) AS (
                   SELECT $user
                   UNION
                   SELECT n.name FROM organization_owners AS o
                   JOIN namespaces AS n ON n.id = o.organization_id
                   WHERE o.user_id = (SELECT id FROM caller))
               SELECT r.name FROM repositories AS r
               WHERE r.has_settings = 1 {after}
                 AND (r.visibility = 'public'
                      OR substr(r.name, 1, instr(r.name || '/', '/') - 1) IN (SELECT name FROM owned)
                      OR EXISTS (
                          SELECT 1 FROM team_access AS a
                          JOIN team_members AS m ON m.team_id = a.team_id
                          WHERE a.repository_id = r.id AND m.user_id = (SELECT id FROM caller)))
               ORDER BY r.name
               LIMIT $limit;
               """;
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (userName is not null)
            {
                command.Parameters.AddWithValue("$user", userName);
            }

            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    private static async Task<RepositorySettings?> FindRepositorySettingsAsync(SqliteConnection connection, SqliteTransaction transaction, RepositoryName name, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, $"SELECT {SettingsColumns} FROM repositories WHERE name = $name AND has_settings = 1;");
        command.Parameters.AddWithValue("$name", name.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRepositorySettings(reader) : null;
    }

    private static RepositorySettings ReadRepositorySettings(SqliteDataReader reader) => new(
        RepositoryName.Parse(reader.GetString(0)),
        ParseVisibility(reader.GetString(1)),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetBoolean(3),
        reader.GetBoolean(4),
        FromUnixMilliseconds(reader.GetInt64(5)));

    /// <exception cref="ArgumentOutOfRangeException">The value is not a defined visibility.</exception>
    private static string VisibilityToText(RepositoryVisibility visibility) => visibility switch
    {
        RepositoryVisibility.Private => "private",
        RepositoryVisibility.Public => "public",
        _ => throw new ArgumentOutOfRangeException(nameof(visibility), visibility, "The visibility must be Private or Public."),
    };

    private static RepositoryVisibility ParseVisibility(string text) => text switch
    {
        "private" => RepositoryVisibility.Private,
        "public" => RepositoryVisibility.Public,
        _ => throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The repositories table contains the visibility '{text}', which this version does not know.")),
    };
}

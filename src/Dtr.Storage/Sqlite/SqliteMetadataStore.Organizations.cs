using Dtr.Metadata;
using Dtr.Identity;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Organizations, their owners, their teams and team members.</summary>
internal sealed partial class SqliteMetadataStore
{
    /// <inheritdoc />
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="IdentityConflictException">A user or an organization already has the name.</exception>
    public async ValueTask<Organization> CreateOrganizationAsync(string name, CancellationToken cancellationToken = default)
    {
        ValidateIdentityName(name, "organization", nameof(name));
        var created = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var createdAt = Now();
            var id = await ReserveNamespaceAsync(connection, transaction, name, OrganizationKind, createdAt, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, "INSERT INTO organizations (id) VALUES ($id);");
            command.Parameters.AddWithValue("$id", id);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new Organization(name, FromUnixMilliseconds(createdAt));
        }, cancellationToken).ConfigureAwait(false);

        SqliteLog.OrganizationCreated(_logger, name);
        return created;
    }

    /// <inheritdoc />
    public ValueTask<Organization?> GetOrganizationAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT name, created_at FROM namespaces WHERE name = $name AND kind = 'organization';");
            command.Parameters.AddWithValue("$name", name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadOrganization(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<Organization>> ListOrganizationsAsync(string? last, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        var sql = last is null
            ? "SELECT name, created_at FROM namespaces WHERE kind = 'organization' ORDER BY name LIMIT $limit;"
            : "SELECT name, created_at FROM namespaces WHERE kind = 'organization' AND name > $last ORDER BY name LIMIT $limit;";
        return ReadAsync<IReadOnlyList<Organization>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", limit);
            if (last is not null)
            {
                command.Parameters.AddWithValue("$last", last);
            }

            var organizations = new List<Organization>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                organizations.Add(ReadOrganization(reader));
            }

            return organizations;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// Counts every repository row in the namespace, including repositories that hold pushed content but have no
    /// settings, so a later user or organization with the same name cannot inherit them.
    /// </remarks>
    /// <exception cref="IdentityConflictException">Repositories exist in the organization's namespace.</exception>
    public async ValueTask<bool> DeleteOrganizationAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var deleted = await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await FindNamespaceIdAsync(connection, transaction, name, OrganizationKind, cancellationToken).ConfigureAwait(false);
            if (organizationId is null)
            {
                return false;
            }

            if (await FindFirstRepositoryInNamespaceAsync(connection, transaction, name, cancellationToken).ConfigureAwait(false) is { } repository)
            {
                throw new IdentityConflictException(
                    $"The organization '{name}' still has repositories, such as '{repository}'; delete its repositories first.");
            }

            // Teams, their members and grants, and the owner records go with the namespace row through ON DELETE CASCADE.
            await using var command = CreateCommand(connection, transaction, "DELETE FROM namespaces WHERE id = $id;");
            command.Parameters.AddWithValue("$id", organizationId.Value);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // A later user or organization of the same name must not inherit the namespace's webhooks.
            await DeleteWebhooksOfTargetAsync(connection, transaction, WebhookScope.Namespace, name, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken).ConfigureAwait(false);

        if (deleted)
        {
            SqliteLog.OrganizationDeleted(_logger, name);
        }

        return deleted;
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization or the user does not exist.</exception>
    public async ValueTask AddOwnerAsync(string organization, string userName, CancellationToken cancellationToken = default)
    {
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO organization_owners (organization_id, user_id) VALUES ($organization_id, $user_id)
                ON CONFLICT (organization_id, user_id) DO NOTHING;
                """);
            command.Parameters.AddWithValue("$organization_id", organizationId);
            command.Parameters.AddWithValue("$user_id", userId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>The owner count is checked in the same transaction, so two concurrent removals cannot both succeed on the last two owners.</remarks>
    /// <exception cref="IdentityNotFoundException">The organization or the user does not exist.</exception>
    /// <exception cref="IdentityConflictException">The user is the organization's only owner.</exception>
    public ValueTask<bool> RemoveOwnerAsync(string organization, string userName, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using (var command = CreateCommand(connection, transaction, "DELETE FROM organization_owners WHERE organization_id = $organization_id AND user_id = $user_id;"))
            {
                command.Parameters.AddWithValue("$organization_id", organizationId);
                command.Parameters.AddWithValue("$user_id", userId);
                if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                {
                    return false;
                }
            }

            // Throwing rolls the delete back.
            await using var remaining = CreateCommand(connection, transaction, "SELECT 1 FROM organization_owners WHERE organization_id = $organization_id LIMIT 1;");
            remaining.Parameters.AddWithValue("$organization_id", organizationId);
            if (await remaining.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is null)
            {
                throw new IdentityConflictException(
                    $"The user '{userName}' is the only owner of the organization '{organization}', and an organization needs at least one owner; add another owner first.");
            }

            return true;
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization does not exist.</exception>
    public ValueTask<IReadOnlyList<string>> ListOwnersAsync(string organization, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                SELECT n.name FROM organization_owners AS o
                JOIN namespaces AS n ON n.id = o.user_id
                WHERE o.organization_id = $organization_id
                ORDER BY n.name;
                """);
            command.Parameters.AddWithValue("$organization_id", organizationId);
            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The team name is invalid.</exception>
    /// <exception cref="IdentityNotFoundException">The organization does not exist.</exception>
    /// <exception cref="IdentityConflictException">The organization already has a team with the name.</exception>
    public ValueTask<Team> CreateTeamAsync(string organization, string name, CancellationToken cancellationToken = default)
    {
        ValidateIdentityName(name, "team", nameof(name));
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
            await using (var existing = CreateCommand(connection, transaction, "SELECT 1 FROM teams WHERE organization_id = $organization_id AND name = $name;"))
            {
                existing.Parameters.AddWithValue("$organization_id", organizationId);
                existing.Parameters.AddWithValue("$name", name);
                if (await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null)
                {
                    throw new IdentityConflictException($"The organization '{organization}' already has a team named '{name}'.");
                }
            }

            var createdAt = Now();
            await using var command = CreateCommand(connection, transaction, "INSERT INTO teams (organization_id, name, created_at) VALUES ($organization_id, $name, $created_at);");
            command.Parameters.AddWithValue("$organization_id", organizationId);
            command.Parameters.AddWithValue("$name", name);
            command.Parameters.AddWithValue("$created_at", createdAt);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return new Team(organization, name, FromUnixMilliseconds(createdAt));
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Returns null also when the organization does not exist.</remarks>
    public ValueTask<Team?> GetTeamAsync(string organization, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(organization);
        ArgumentNullException.ThrowIfNull(name);
        return ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT o.name, t.name, t.created_at FROM teams AS t
                JOIN namespaces AS o ON o.id = t.organization_id
                WHERE o.name = $organization AND t.name = $name;
                """);
            command.Parameters.AddWithValue("$organization", organization);
            command.Parameters.AddWithValue("$name", name);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadTeam(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization does not exist.</exception>
    public ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string organization, CancellationToken cancellationToken = default) =>
        ReadAsync<IReadOnlyList<Team>>(async (connection, transaction, cancellationToken) =>
        {
            var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                SELECT o.name, t.name, t.created_at FROM teams AS t
                JOIN namespaces AS o ON o.id = t.organization_id
                WHERE t.organization_id = $organization_id
                ORDER BY t.name;
                """);
            command.Parameters.AddWithValue("$organization_id", organizationId);
            var teams = new List<Team>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                teams.Add(ReadTeam(reader));
            }

            return teams;
        }, cancellationToken);

    /// <inheritdoc />
    /// <remarks>Returns false also when the organization does not exist.</remarks>
    public ValueTask<bool> DeleteTeamAsync(string organization, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(organization);
        ArgumentNullException.ThrowIfNull(name);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            // Members and grants go with the team row through ON DELETE CASCADE.
            await using var command = CreateCommand(connection, transaction, """
                DELETE FROM teams
                WHERE organization_id = (SELECT id FROM namespaces WHERE name = $organization AND kind = 'organization') AND name = $name;
                """);
            command.Parameters.AddWithValue("$organization", organization);
            command.Parameters.AddWithValue("$name", name);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization, the team or the user does not exist.</exception>
    public async ValueTask AddTeamMemberAsync(string organization, string team, string userName, CancellationToken cancellationToken = default)
    {
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var teamId = await GetTeamIdAsync(connection, transaction, organization, team, cancellationToken).ConfigureAwait(false);
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO team_members (team_id, user_id) VALUES ($team_id, $user_id)
                ON CONFLICT (team_id, user_id) DO NOTHING;
                """);
            command.Parameters.AddWithValue("$team_id", teamId);
            command.Parameters.AddWithValue("$user_id", userId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization, the team or the user does not exist.</exception>
    public ValueTask<bool> RemoveTeamMemberAsync(string organization, string team, string userName, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var teamId = await GetTeamIdAsync(connection, transaction, organization, team, cancellationToken).ConfigureAwait(false);
            var userId = await GetUserIdAsync(connection, transaction, userName, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, "DELETE FROM team_members WHERE team_id = $team_id AND user_id = $user_id;");
            command.Parameters.AddWithValue("$team_id", teamId);
            command.Parameters.AddWithValue("$user_id", userId);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The organization or the team does not exist.</exception>
    public ValueTask<IReadOnlyList<string>> ListTeamMembersAsync(string organization, string team, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            var teamId = await GetTeamIdAsync(connection, transaction, organization, team, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                SELECT n.name FROM team_members AS m
                JOIN namespaces AS n ON n.id = m.user_id
                WHERE m.team_id = $team_id
                ORDER BY n.name;
                """);
            command.Parameters.AddWithValue("$team_id", teamId);
            return await ReadStringsAsync(command, cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    private static Organization ReadOrganization(SqliteDataReader reader) =>
        new(reader.GetString(0), FromUnixMilliseconds(reader.GetInt64(1)));

    private static Team ReadTeam(SqliteDataReader reader) =>
        new(reader.GetString(0), reader.GetString(1), FromUnixMilliseconds(reader.GetInt64(2)));
}

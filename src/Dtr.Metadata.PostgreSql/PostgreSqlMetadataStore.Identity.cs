using System.Globalization;
using Dtr.Identity;
using Dtr.Names;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Name checks and lookups that the user, organization and repository settings operations share.</summary>
internal sealed partial class PostgreSqlMetadataStore : IIdentityStore
{
    // The values of namespaces.kind.
    private const string UserKind = "user";
    private const string OrganizationKind = "organization";

    /// <summary>
    /// Checks a user, organization or team name against the repository-name component grammar, because user and
    /// organization names become the first component of repository names.
    /// </summary>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    private static void ValidateIdentityName(string? name, string identityKind, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        if (name.Length > RepositoryName.MaxLength || !RepositoryName.IsValidComponent(name))
        {
            throw new ArgumentException(
                $"The {identityKind} name '{Truncate(name)}' is invalid: it must be lowercase letters and digits, optionally joined by '.', '_', '__' or '-', " +
                $"must start and end with a letter or digit, and must be at most {RepositoryName.MaxLength} characters long.",
                parameterName);
        }
    }

    /// <summary>
    /// Inserts the namespace row that reserves <paramref name="name"/> for a new user or organization and returns its id.
    /// </summary>
    /// <remarks>
    /// Callers hold the write lock (see WriteAsync), so no other writer can take the name between the check and the insert.
    /// </remarks>
    /// <exception cref="IdentityConflictException">A user or an organization already has the name.</exception>
    private async Task<long> ReserveNamespaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, string kind, long createdAt, CancellationToken cancellationToken)
    {
        await using (var existing = CreateCommand(connection, transaction, "SELECT kind FROM namespaces WHERE name = @name;"))
        {
            existing.Parameters.AddWithValue("@name", name);
            if (await existing.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string takenBy)
            {
                throw new IdentityConflictException(
                    $"The name '{name}' is already taken by {(takenBy == UserKind ? "a user" : "an organization")}. " +
                    "Users and organizations share one name space; choose another name.");
            }
        }

        await using var insert = CreateCommand(connection, transaction, "INSERT INTO namespaces (name, kind, created_at) VALUES (@name, @kind, @created_at) RETURNING id;");
        insert.Parameters.AddWithValue("@name", name);
        insert.Parameters.AddWithValue("@kind", kind);
        insert.Parameters.AddWithValue("@created_at", createdAt);
        return Convert.ToInt64(await insert.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    /// <summary>Returns the id of a user or an organization, or null when no namespace of that kind has the name.</summary>
    private static async Task<long?> FindNamespaceIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string name, string kind, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM namespaces WHERE name = @name AND kind = @kind;");
        command.Parameters.AddWithValue("@name", name);
        command.Parameters.AddWithValue("@kind", kind);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return result is null ? null : Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <exception cref="IdentityNotFoundException">The user does not exist.</exception>
    private static async Task<long> GetUserIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string userName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userName);
        return await FindNamespaceIdAsync(connection, transaction, userName, UserKind, cancellationToken).ConfigureAwait(false)
            ?? throw new IdentityNotFoundException($"The user '{Truncate(userName)}' does not exist.");
    }

    /// <exception cref="IdentityNotFoundException">The organization does not exist.</exception>
    private static async Task<long> GetOrganizationIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string organization, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(organization);
        return await FindNamespaceIdAsync(connection, transaction, organization, OrganizationKind, cancellationToken).ConfigureAwait(false)
            ?? throw new IdentityNotFoundException($"The organization '{Truncate(organization)}' does not exist.");
    }

    /// <exception cref="IdentityNotFoundException">The organization or the team does not exist.</exception>
    private static async Task<long> GetTeamIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string organization, string team, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(team);
        var organizationId = await GetOrganizationIdAsync(connection, transaction, organization, cancellationToken).ConfigureAwait(false);
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM teams WHERE organization_id = @organization_id AND name = @name;");
        command.Parameters.AddWithValue("@organization_id", organizationId);
        command.Parameters.AddWithValue("@name", team);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new IdentityNotFoundException($"The organization '{organization}' has no team '{Truncate(team)}'.");
        return Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <exception cref="IdentityNotFoundException">The repository does not exist or has no settings.</exception>
    private static async Task<long> GetRepositoryWithSettingsIdAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, RepositoryName repository, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "SELECT id FROM repositories WHERE name = @name AND has_settings;");
        command.Parameters.AddWithValue("@name", repository.Value);
        var result = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new IdentityNotFoundException($"The repository '{repository}' does not exist; create it before changing its access.");
        return Convert.ToInt64(result, CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Returns the bounds of the names in a namespace other than the namespace itself: <c>name/</c> inclusive to
    /// <c>name0</c> exclusive, because '0' is the character after '/' in ordinal order. A range lets PostgreSQL seek
    /// the unique index on repositories.name.
    /// </summary>
    private static (string Start, string End) NamespaceRange(string namespaceName) => (namespaceName + "/", namespaceName + "0");

    /// <summary>
    /// Returns the first repository, in ordinal order, whose name is <paramref name="namespaceName"/> or starts with
    /// it and a '/', or null. Every repository row counts, including those with pushed content but no settings.
    /// </summary>
    private static async Task<string?> FindFirstRepositoryInNamespaceAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string namespaceName, CancellationToken cancellationToken)
    {
        var (start, end) = NamespaceRange(namespaceName);
        await using var command = CreateCommand(connection, transaction, """
            SELECT name FROM repositories
            WHERE name = @namespace OR (name >= @start AND name < @end)
            ORDER BY name
            LIMIT 1;
            """);
        command.Parameters.AddWithValue("@namespace", namespaceName);
        command.Parameters.AddWithValue("@start", start);
        command.Parameters.AddWithValue("@end", end);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
    }

    private static DateTimeOffset FromUnixMilliseconds(long milliseconds) => DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);

    private static string Truncate(string value) => value.Length <= 100 ? value : value[..100] + "…";
}

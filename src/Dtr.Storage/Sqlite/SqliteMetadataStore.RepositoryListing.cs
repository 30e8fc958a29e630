using Dtr.Identity;
using Dtr.Names;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>The repository listing of the management API.</summary>
internal sealed partial class SqliteMetadataStore
{
    /// <inheritdoc />
    /// <remarks>
    /// Visibility follows <see cref="ListVisibleRepositoriesAsync"/>: administrators get every repository with settings
    /// or content, everyone else only repositories with settings. The tag count and last push time are correlated
    /// subqueries on the tags primary key, evaluated for the returned rows only.
    /// NOTE: the query walks repositories in name order and tests each row, so a page costs time in proportion to
    /// the rows it skips, which with a name filter can be most of the table.
    /// </remarks>
    public ValueTask<IReadOnlyList<RepositorySummary>> ListRepositorySummariesAsync(RepositoryListQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegative(query.Limit);
        var userName = query.IsAdmin ? null : query.UserName;
        var conditions = new List<string>();
        if (query.IsAdmin)
        {
            conditions.Add(RepositoryHasContent);
        }
        else if (userName is null)
        {
            conditions.Add("r.has_settings = 1 AND r.visibility = 'public'");
        }
        else
        {
            conditions.Add("""
                r.has_settings = 1
                AND (r.visibility = 'public'
                     OR substr(r.name, 1, instr(r.name || '/', '/') - 1) IN (SELECT name FROM owned)
                     OR EXISTS (
                         SELECT 1 FROM team_access AS a
                         JOIN team_members AS m ON m.team_id = a.team_id
                         WHERE a.repository_id = r.id AND m.user_id = (SELECT id FROM caller)))
                """);
        }

        if (query.Namespace is not null)
        {
            conditions.Add("r.name >= $start AND r.name < $end");
        }

        if (query.Last is not null)
        {
            conditions.Add("r.name > $last");
        }

        // Repository names are lowercase by grammar, so a lowercase needle makes the match case-insensitive.
        var contains = string.IsNullOrEmpty(query.NameContains) ? null : query.NameContains.ToLowerInvariant();
        if (contains is not null)
        {
            conditions.Add("instr(r.name, $contains) > 0");
        }

        var callerTables = userName is null
            ? string.Empty
            : """
              WITH caller (id) AS (SELECT id FROM namespaces WHERE name = $user AND kind = 'user'),
              owned (name) AS (
                  SELECT $user
                  UNION
                  SELECT n.name FROM organization_owners AS o
                  JOIN namespaces AS n ON n.id = o.organization_id
                  WHERE o.user_id = (SELECT id FROM caller))
              """;
        var sql = $"""
            {callerTables}
            SELECT r.name, r.has_settings, r.visibility, r.description, r.scan_on_push, r.immutable_tags, r.created_at,
                   (SELECT COUNT(*) FROM tags AS t WHERE t.repository_id = r.id),
                   (SELECT MAX(t.updated_at) FROM tags AS t WHERE t.repository_id = r.id)
            FROM repositories AS r
            WHERE {string.Join(" AND ", conditions)}
            ORDER BY r.name
            LIMIT $limit;
            """;
        return ReadAsync<IReadOnlyList<RepositorySummary>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, sql);
            command.Parameters.AddWithValue("$limit", query.Limit);
            if (userName is not null)
            {
                command.Parameters.AddWithValue("$user", userName);
            }

            if (query.Namespace is not null)
            {
                var (start, end) = NamespaceRange(query.Namespace);
                command.Parameters.AddWithValue("$start", start);
                command.Parameters.AddWithValue("$end", end);
            }

            if (query.Last is not null)
            {
                command.Parameters.AddWithValue("$last", query.Last);
            }

            if (contains is not null)
            {
                command.Parameters.AddWithValue("$contains", contains);
            }

            var summaries = new List<RepositorySummary>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                summaries.Add(ReadRepositorySummary(reader));
            }

            return summaries;
        }, cancellationToken);
    }

    private static RepositorySummary ReadRepositorySummary(SqliteDataReader reader)
    {
        var name = RepositoryName.Parse(reader.GetString(0));
        var settings = reader.GetBoolean(1)
            ? new RepositorySettings(
                name,
                ParseVisibility(reader.GetString(2)),
                reader.IsDBNull(3) ? null : reader.GetString(3),
                reader.GetBoolean(4),
                reader.GetBoolean(5),
                FromUnixMilliseconds(reader.GetInt64(6)))
            : null;
        DateTimeOffset? lastPushedAt = reader.IsDBNull(8) ? null : FromUnixMilliseconds(reader.GetInt64(8));
        return new RepositorySummary(name, settings, reader.GetInt32(7), lastPushedAt);
    }
}

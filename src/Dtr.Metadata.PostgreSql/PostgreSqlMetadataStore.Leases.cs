using Dtr.Storage.Scanning;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Named leases that registry hosts sharing the database use to run a job on one host at a time.</summary>
internal sealed partial class PostgreSqlMetadataStore : ILeaseStore
{
    /// <inheritdoc />
    /// <remarks>
    /// Times are compared in whole milliseconds. The upsert is one statement, so its row lock makes the check and the
    /// update one step, and a concurrent insert of the same new name turns into the conditional update.
    /// </remarks>
    public ValueTask<bool> TryAcquireLeaseAsync(string name, string holder, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken = default)
    {
        ScanStoreArguments.ValidateLease(name, holder, now, expiresAt);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO leases (name, holder, expires_at) VALUES (@name, @holder, @expires_at)
                ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
                WHERE leases.holder = excluded.holder OR leases.expires_at <= @now;
                """);
            command.Parameters.AddWithValue("@name", name);
            command.Parameters.AddWithValue("@holder", holder);
            command.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@expires_at", expiresAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask ReleaseLeaseAsync(string name, string holder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(holder);
        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM leases WHERE name = @name AND holder = @holder;");
            command.Parameters.AddWithValue("@name", name);
            command.Parameters.AddWithValue("@holder", holder);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }
}

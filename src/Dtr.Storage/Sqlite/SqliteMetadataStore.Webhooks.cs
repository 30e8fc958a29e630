using System.Text;
using Dtr.Metadata;
using Dtr.Scanning;
using Dtr.Storage.Webhooks;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>Webhook subscriptions, deliveries and attempts, kept in the <c>webhooks</c>, <c>webhook_deliveries</c> and <c>webhook_attempts</c> tables.</summary>
internal sealed partial class SqliteMetadataStore : IWebhookStore
{
    private const string WebhookColumns = "id, scope, target, url, events, min_severity, enabled, secret, description, created_by, created_at, updated_at";

    private const string DeliveryColumns = "id, webhook_id, event_id, event_type, payload, created_at, state, attempts, next_attempt_at";

    /// <inheritdoc />
    public ValueTask<WebhookSubscription> CreateWebhookAsync(WebhookSubscription subscription, CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateSubscription(subscription);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                INSERT INTO webhooks (scope, target, url, events, min_severity, enabled, secret, description, created_by, created_at, updated_at)
                VALUES ($scope, $target, $url, $events, $min_severity, $enabled, $secret, $description, $created_by, $created_at, $updated_at)
                RETURNING {WebhookColumns};
                """);
            AddWebhookParameters(command, subscription);
            command.Parameters.AddWithValue("$created_by", (object?)subscription.CreatedBy ?? DBNull.Value);
            command.Parameters.AddWithValue("$created_at", subscription.CreatedAt.ToUnixTimeMilliseconds());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return ReadWebhook(reader);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<WebhookSubscription?> GetWebhookAsync(long id, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {WebhookColumns} FROM webhooks WHERE id = $id;");
            command.Parameters.AddWithValue("$id", id);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadWebhook(reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<WebhookSubscription>> ListWebhooksAsync(WebhookQuery query, long? afterId, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        WebhookStoreArguments.ValidateLimit(limit);
        return ReadAsync<IReadOnlyList<WebhookSubscription>>(async (connection, transaction, cancellationToken) =>
        {
            var sql = new StringBuilder($"SELECT {WebhookColumns} FROM webhooks WHERE 1 = 1");
            await using var command = CreateCommand(connection, transaction, "");
            if (afterId is { } after)
            {
                sql.Append(" AND id > $after");
                command.Parameters.AddWithValue("$after", after);
            }

            if (query.Namespace is { } namespaceName)
            {
                // substr instead of LIKE, because '_' in a name would be a LIKE wildcard.
                sql.Append(" AND ((scope = 1 AND target = $namespace) OR (scope = 2 AND substr(target, 1, length($namespace) + 1) = $namespace || '/'))");
                command.Parameters.AddWithValue("$namespace", namespaceName);
            }

            if (query.Repository is { } repository)
            {
                sql.Append(" AND scope = 2 AND target = $repository");
                command.Parameters.AddWithValue("$repository", repository);
            }

            if (query.EnabledOnly)
            {
                sql.Append(" AND enabled = 1");
            }

            sql.Append(" ORDER BY id LIMIT $limit;");
            command.Parameters.AddWithValue("$limit", limit);
            command.CommandText = sql.ToString();

            var subscriptions = new List<WebhookSubscription>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                subscriptions.Add(ReadWebhook(reader));
            }

            return subscriptions;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> UpdateWebhookAsync(WebhookSubscription subscription, CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateSubscription(subscription);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                UPDATE webhooks SET scope = $scope, target = $target, url = $url, events = $events, min_severity = $min_severity,
                    enabled = $enabled, secret = $secret, description = $description, updated_at = $updated_at
                WHERE id = $id;
                """);
            AddWebhookParameters(command, subscription);
            command.Parameters.AddWithValue("$id", subscription.Id);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> DeleteWebhookAsync(long id, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM webhooks WHERE id = $id;");
            command.Parameters.AddWithValue("$id", id);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);

    /// <summary>
    /// Deletes the subscriptions of one namespace or repository, with their deliveries and attempt log, inside the
    /// transaction that deletes that namespace or repository.
    /// </summary>
    private static async Task DeleteWebhooksOfTargetAsync(SqliteConnection connection, SqliteTransaction transaction, WebhookScope scope, string target, CancellationToken cancellationToken)
    {
        await using var command = CreateCommand(connection, transaction, "DELETE FROM webhooks WHERE scope = $scope AND target = $target;");
        command.Parameters.AddWithValue("$scope", (short)scope);
        command.Parameters.AddWithValue("$target", target);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyList<long>> EnqueueWebhookDeliveriesAsync(IReadOnlyList<WebhookDeliveryRequest> deliveries, CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateDeliveries(deliveries);
        if (deliveries.Count == 0)
        {
            return [];
        }

        return await WriteAsync<IReadOnlyList<long>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, payload, created_at, state, attempts, next_attempt_at)
                SELECT id, $event_id, $event_type, $payload, $created_at, 0, 0, $created_at FROM webhooks WHERE id = $webhook_id
                RETURNING id;
                """);
            var webhookId = command.Parameters.Add("$webhook_id", SqliteType.Integer);
            var eventId = command.Parameters.Add("$event_id", SqliteType.Text);
            var eventType = command.Parameters.Add("$event_type", SqliteType.Text);
            var payload = command.Parameters.Add("$payload", SqliteType.Text);
            var createdAt = command.Parameters.Add("$created_at", SqliteType.Integer);
            var ids = new List<long>(deliveries.Count);
            foreach (var delivery in deliveries)
            {
                webhookId.Value = delivery.WebhookId;
                eventId.Value = delivery.EventId;
                eventType.Value = delivery.EventType;
                payload.Value = delivery.Payload;
                createdAt.Value = delivery.CreatedAt.ToUnixTimeMilliseconds();
                var id = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
                ids.Add(id is null ? 0 : Convert.ToInt64(id, System.Globalization.CultureInfo.InvariantCulture));
            }

            return ids;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public ValueTask<WebhookDelivery?> TryClaimWebhookDeliveryAsync(
        string holder,
        DateTimeOffset now,
        DateTimeOffset leaseExpiresAt,
        IReadOnlyCollection<long>? excludedWebhookIds = null,
        CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateClaim(holder, now, leaseExpiresAt);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                UPDATE webhook_deliveries SET holder = $holder, lease_expires_at = $expires_at
                WHERE id = (
                    SELECT id FROM webhook_deliveries
                    WHERE state = 0 AND next_attempt_at <= $now AND (holder IS NULL OR lease_expires_at <= $now)
                      AND webhook_id NOT IN (SELECT value FROM json_each($excluded))
                    ORDER BY next_attempt_at, id
                    LIMIT 1)
                RETURNING {DeliveryColumns};
                """);
            command.Parameters.AddWithValue("$holder", holder);
            command.Parameters.AddWithValue("$now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$expires_at", leaseExpiresAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("$excluded", System.Text.Json.JsonSerializer.Serialize(excludedWebhookIds ?? []));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadDelivery(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> RecordWebhookAttemptsAsync(
        long deliveryId,
        string holder,
        IReadOnlyList<WebhookAttempt> attempts,
        WebhookDeliveryState state,
        DateTimeOffset? nextAttemptAt,
        CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateAttempts(holder, attempts, state, nextAttemptAt);
        return WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var update = CreateCommand(connection, transaction, """
                UPDATE webhook_deliveries
                SET state = $state, attempts = attempts + $count, next_attempt_at = coalesce($next, next_attempt_at), holder = NULL, lease_expires_at = NULL
                WHERE id = $id AND holder = $holder
                RETURNING webhook_id;
                """);
            update.Parameters.AddWithValue("$id", deliveryId);
            update.Parameters.AddWithValue("$holder", holder);
            update.Parameters.AddWithValue("$state", (int)state);
            update.Parameters.AddWithValue("$count", attempts.Count);
            update.Parameters.AddWithValue("$next", (object?)nextAttemptAt?.ToUnixTimeMilliseconds() ?? DBNull.Value);
            var webhookId = await update.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
            if (webhookId is null)
            {
                return false;
            }

            await using var insert = CreateCommand(connection, transaction, """
                INSERT INTO webhook_attempts (delivery_id, webhook_id, number, time, status_code, error, duration_ms)
                VALUES ($delivery_id, $webhook_id, $number, $time, $status_code, $error, $duration_ms);
                """);
            insert.Parameters.AddWithValue("$delivery_id", deliveryId);
            insert.Parameters.AddWithValue("$webhook_id", webhookId);
            var number = insert.Parameters.Add("$number", SqliteType.Integer);
            var time = insert.Parameters.Add("$time", SqliteType.Integer);
            var statusCode = insert.Parameters.Add("$status_code", SqliteType.Integer);
            var error = insert.Parameters.Add("$error", SqliteType.Text);
            var duration = insert.Parameters.Add("$duration_ms", SqliteType.Integer);
            foreach (var attempt in attempts)
            {
                number.Value = attempt.Number;
                time.Value = attempt.Time.ToUnixTimeMilliseconds();
                statusCode.Value = (object?)attempt.StatusCode ?? DBNull.Value;
                error.Value = (object?)attempt.Error ?? DBNull.Value;
                duration.Value = (long)attempt.Duration.TotalMilliseconds;
                await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<WebhookDelivery?> GetWebhookDeliveryAsync(long deliveryId, CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {DeliveryColumns} FROM webhook_deliveries WHERE id = $id;");
            command.Parameters.AddWithValue("$id", deliveryId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadDelivery(reader) : null;
        }, cancellationToken);

    /// <inheritdoc />
    public ValueTask<IReadOnlyList<StoredWebhookAttempt>> ListWebhookAttemptsAsync(long webhookId, long? before, int limit, CancellationToken cancellationToken = default)
    {
        WebhookStoreArguments.ValidateLimit(limit);
        return ReadAsync<IReadOnlyList<StoredWebhookAttempt>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT a.seq, a.delivery_id, d.event_id, d.event_type, a.time, a.number, a.status_code, a.error, a.duration_ms
                FROM webhook_attempts AS a JOIN webhook_deliveries AS d ON d.id = a.delivery_id
                WHERE a.webhook_id = $webhook_id AND ($before IS NULL OR a.seq < $before)
                ORDER BY a.seq DESC LIMIT $limit;
                """);
            command.Parameters.AddWithValue("$webhook_id", webhookId);
            command.Parameters.AddWithValue("$before", (object?)before ?? DBNull.Value);
            command.Parameters.AddWithValue("$limit", limit);
            var attempts = new List<StoredWebhookAttempt>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var attempt = new WebhookAttempt(
                    DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(4)),
                    reader.GetInt32(5),
                    reader.IsDBNull(6) ? null : reader.GetInt32(6),
                    reader.IsDBNull(7) ? null : reader.GetString(7),
                    TimeSpan.FromMilliseconds(reader.GetInt64(8)));
                attempts.Add(new StoredWebhookAttempt(reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), reader.GetString(3), attempt));
            }

            return attempts;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<long> CountPendingWebhookDeliveriesAsync(CancellationToken cancellationToken = default) =>
        ReadAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT count(*) FROM webhook_deliveries WHERE state = 0;");
            return (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
        }, cancellationToken);

    /// <inheritdoc />
    public ValueTask<long> DeleteWebhookHistoryBeforeAsync(DateTimeOffset cutoff, CancellationToken cancellationToken = default) =>
        WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var attempts = CreateCommand(connection, transaction, "DELETE FROM webhook_attempts WHERE time < $cutoff;");
            attempts.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            long deleted = await attempts.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);

            // Attempts of a finished delivery may be newer than the cutoff; the cascade deletes them with it.
            await using var deliveries = CreateCommand(connection, transaction, "DELETE FROM webhook_deliveries WHERE state <> 0 AND created_at < $cutoff;");
            deliveries.Parameters.AddWithValue("$cutoff", cutoff.ToUnixTimeMilliseconds());
            deleted += await deliveries.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            return deleted;
        }, cancellationToken);

    private static void AddWebhookParameters(SqliteCommand command, WebhookSubscription subscription)
    {
        command.Parameters.AddWithValue("$scope", (int)subscription.Scope);
        command.Parameters.AddWithValue("$target", (object?)subscription.Target ?? DBNull.Value);
        command.Parameters.AddWithValue("$url", subscription.Url);
        command.Parameters.AddWithValue("$events", (int)subscription.Events);
        command.Parameters.AddWithValue("$min_severity", (int)subscription.MinSeverity);
        command.Parameters.AddWithValue("$enabled", subscription.Enabled ? 1 : 0);
        command.Parameters.AddWithValue("$secret", subscription.Secret);
        command.Parameters.AddWithValue("$description", (object?)subscription.Description ?? DBNull.Value);
        command.Parameters.AddWithValue("$updated_at", subscription.UpdatedAt.ToUnixTimeMilliseconds());
    }

    private static WebhookSubscription ReadWebhook(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        (WebhookScope)reader.GetInt32(1),
        reader.IsDBNull(2) ? null : reader.GetString(2),
        reader.GetString(3),
        (WebhookEventTypes)reader.GetInt32(4),
        (Severity)reader.GetInt32(5),
        reader.GetInt32(6) != 0,
        reader.GetString(7),
        reader.IsDBNull(8) ? null : reader.GetString(8),
        reader.IsDBNull(9) ? null : reader.GetString(9),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(10)),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(11)));

    private static WebhookDelivery ReadDelivery(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetInt64(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetString(4),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(5)),
        (WebhookDeliveryState)reader.GetInt32(6),
        reader.GetInt32(7),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(8)));
}

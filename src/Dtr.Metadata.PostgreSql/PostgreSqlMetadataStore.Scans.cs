using System.Globalization;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Storage.Scanning;
using Npgsql;
using NpgsqlTypes;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Layer analyses, image scans, the scan queue and pull policies of image scanning.</summary>
internal sealed partial class PostgreSqlMetadataStore
{
    private const string ScanJobColumns = "id, repository, manifest_digest, reason, enqueued_at, attempts, holder, lease_expires_at";

    /// <inheritdoc />
    public ValueTask<string?> GetLayerAnalysisAsync(Digest layer, int analyzerVersion, CancellationToken cancellationToken = default)
    {
        ValidateDigest(layer);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "SELECT analysis_json FROM layer_analyses WHERE digest = @digest AND analyzer_version = @version;");
            command.Parameters.AddWithValue("@digest", layer.Value);
            command.Parameters.AddWithValue("@version", analyzerVersion);
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as string;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask PutLayerAnalysisAsync(Digest layer, int analyzerVersion, string analysisJson, CancellationToken cancellationToken = default)
    {
        ValidateDigest(layer);
        ArgumentNullException.ThrowIfNull(analysisJson);
        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO layer_analyses (digest, analyzer_version, analysis_json, created_at) VALUES (@digest, @version, @json, @now)
                ON CONFLICT (digest, analyzer_version) DO UPDATE SET analysis_json = excluded.analysis_json, created_at = excluded.created_at;
                """);
            command.Parameters.AddWithValue("@digest", layer.Value);
            command.Parameters.AddWithValue("@version", analyzerVersion);
            command.Parameters.AddWithValue("@json", analysisJson);
            command.Parameters.AddWithValue("@now", Now());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask PutImageScanAsync(ImageScan scan, CancellationToken cancellationToken = default)
    {
        ScanStoreArguments.ValidateScan(scan);
        await WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO image_scans
                    (manifest_digest, status, scanned_at, matched_at, database_version, critical, high, medium, low, unknown, inventory_json, result_json)
                VALUES (@digest, @status, @scanned_at, @matched_at, @database_version, @critical, @high, @medium, @low, @unknown, @inventory, @result)
                ON CONFLICT (manifest_digest) DO UPDATE SET
                    status = excluded.status,
                    scanned_at = excluded.scanned_at,
                    matched_at = excluded.matched_at,
                    database_version = excluded.database_version,
                    critical = excluded.critical,
                    high = excluded.high,
                    medium = excluded.medium,
                    low = excluded.low,
                    unknown = excluded.unknown,
                    inventory_json = excluded.inventory_json,
                    result_json = excluded.result_json;
                """);
            command.Parameters.AddWithValue("@digest", scan.Manifest.Value);
            command.Parameters.AddWithValue("@status", (short)scan.Status);
            command.Parameters.AddWithValue("@scanned_at", scan.ScannedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@matched_at", scan.MatchedAt.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@database_version", scan.DatabaseVersion);
            command.Parameters.AddWithValue("@critical", scan.Summary.Critical);
            command.Parameters.AddWithValue("@high", scan.Summary.High);
            command.Parameters.AddWithValue("@medium", scan.Summary.Medium);
            command.Parameters.AddWithValue("@low", scan.Summary.Low);
            command.Parameters.AddWithValue("@unknown", scan.Summary.Unknown);
            command.Parameters.Add(new NpgsqlParameter<string?>("@inventory", NpgsqlDbType.Text) { TypedValue = scan.InventoryJson });
            command.Parameters.AddWithValue("@result", scan.ResultJson);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Timestamps come back in UTC, truncated to whole milliseconds.</remarks>
    public ValueTask<ImageScan?> GetImageScanAsync(Digest manifest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(manifest);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {ImageScanColumns} FROM image_scans WHERE manifest_digest = @digest;");
            command.Parameters.AddWithValue("@digest", manifest.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadImageScan(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask<IReadOnlyDictionary<Digest, ImageScanSummary>> GetImageScanSummariesAsync(IReadOnlyCollection<Digest> manifests, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(manifests);
        var digests = manifests.Distinct().ToArray();
        foreach (var digest in digests)
        {
            ValidateDigest(digest);
        }

        if (digests.Length == 0)
        {
            return new Dictionary<Digest, ImageScanSummary>();
        }

        return await ReadStatementAsync<IReadOnlyDictionary<Digest, ImageScanSummary>>(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT manifest_digest, status, matched_at, database_version, critical, high, medium, low, unknown
                FROM image_scans WHERE manifest_digest = ANY (@digests);
                """);
            command.Parameters.AddWithValue("@digests", NpgsqlDbType.Array | NpgsqlDbType.Text, digests.Select(digest => digest.Value).ToArray());

            var summaries = new Dictionary<Digest, ImageScanSummary>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                summaries[Digest.Parse(reader.GetString(0))] = new ImageScanSummary(
                    (ScanStatus)reader.GetInt16(1),
                    FromUnixMilliseconds(reader.GetInt64(2)),
                    reader.GetInt64(3),
                    new ScanSummary(reader.GetInt32(4), reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8)));
            }

            return summaries;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    /// <remarks>Partial scans count as completed; failed scans and scans without an inventory are never listed.</remarks>
    public ValueTask<IReadOnlyList<ImageScan>> ListImageScansToRematchAsync(long databaseVersion, Digest? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (after is { } afterDigest)
        {
            ValidateDigest(afterDigest);
        }

        return ReadStatementAsync<IReadOnlyList<ImageScan>>(async (connection, transaction, cancellationToken) =>
        {
            var afterCondition = after is null ? "" : "AND manifest_digest > @after";
            await using var command = CreateCommand(connection, transaction, $"""
                SELECT {ImageScanColumns} FROM image_scans
                WHERE status IN (0, 1) AND inventory_json IS NOT NULL AND database_version < @version {afterCondition}
                ORDER BY manifest_digest
                LIMIT @limit;
                """);
            command.Parameters.AddWithValue("@version", databaseVersion);
            command.Parameters.AddWithValue("@limit", limit);
            if (after is { } resumeAfter)
            {
                command.Parameters.AddWithValue("@after", resumeAfter.Value);
            }

            var scans = new List<ImageScan>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                scans.Add(ReadImageScan(reader));
            }

            return scans;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> EnqueueScanAsync(ScanJobRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        ValidateDigest(request.Manifest);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            // The partial unique index allows one waiting job per manifest, so a duplicate inserts nothing.
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO scan_jobs (repository, manifest_digest, reason, enqueued_at, attempts)
                VALUES (@repository, @digest, @reason, @enqueued_at, 0)
                ON CONFLICT (manifest_digest) WHERE holder IS NULL DO NOTHING;
                """);
            command.Parameters.AddWithValue("@repository", request.Repository.Value);
            command.Parameters.AddWithValue("@digest", request.Manifest.Value);
            command.Parameters.AddWithValue("@reason", (short)request.Reason);
            command.Parameters.AddWithValue("@enqueued_at", request.EnqueuedAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>
    /// The oldest job is the one enqueued first, and of jobs enqueued in the same millisecond the one inserted first.
    /// FOR UPDATE SKIP LOCKED makes concurrent claimers pass over a job that another claimer is taking, and a job
    /// that another claimer took meanwhile fails the re-check of the condition, so each job goes to one claimer.
    /// </remarks>
    public ValueTask<ScanJob?> TryClaimScanJobAsync(string holder, DateTimeOffset now, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default)
    {
        ValidateScanJobHolder(holder, now, leaseExpiresAt);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"""
                UPDATE scan_jobs SET holder = @holder, lease_expires_at = @expires_at, attempts = attempts + 1
                WHERE id = (
                    SELECT id FROM scan_jobs
                    WHERE holder IS NULL OR lease_expires_at <= @now
                    ORDER BY enqueued_at, id
                    LIMIT 1
                    FOR UPDATE SKIP LOCKED)
                RETURNING {ScanJobColumns};
                """);
            command.Parameters.AddWithValue("@holder", holder);
            command.Parameters.AddWithValue("@now", now.ToUnixTimeMilliseconds());
            command.Parameters.AddWithValue("@expires_at", leaseExpiresAt.ToUnixTimeMilliseconds());
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadScanJob(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>A holder whose lease expired can still renew it until another worker claims the job.</remarks>
    public ValueTask<bool> RenewScanJobAsync(long jobId, string holder, DateTimeOffset leaseExpiresAt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "UPDATE scan_jobs SET lease_expires_at = @expires_at WHERE id = @id AND holder = @holder;");
            command.Parameters.AddWithValue("@id", jobId);
            command.Parameters.AddWithValue("@holder", holder);
            command.Parameters.AddWithValue("@expires_at", leaseExpiresAt.ToUnixTimeMilliseconds());
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<bool> CompleteScanJobAsync(long jobId, string holder, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        return WriteRowAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, "DELETE FROM scan_jobs WHERE id = @id AND holder = @holder;");
            command.Parameters.AddWithValue("@id", jobId);
            command.Parameters.AddWithValue("@holder", holder);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<ScanJob?> FindScanJobAsync(Digest manifest, CancellationToken cancellationToken = default)
    {
        ValidateDigest(manifest);
        return ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, $"SELECT {ScanJobColumns} FROM scan_jobs WHERE manifest_digest = @digest ORDER BY id LIMIT 1;");
            command.Parameters.AddWithValue("@digest", manifest.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadScanJob(reader) : null;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public ValueTask<int> CountScanJobsAsync(CancellationToken cancellationToken = default) =>
        ReadStatementAsync(async (connection, transaction, cancellationToken) =>
            Convert.ToInt32(await ExecuteScalarAsync(connection, transaction, "SELECT count(*) FROM scan_jobs;", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture),
            cancellationToken);

    /// <inheritdoc />
    public ValueTask<ScanPolicy?> GetScanPolicyAsync(RepositoryName repository, CancellationToken cancellationToken = default) =>
        ReadStatementAsync(async (connection, transaction, cancellationToken) =>
        {
            await using var command = CreateCommand(connection, transaction, """
                SELECT p.block_severity, p.allow_unscanned, p.allowlist FROM scan_policies AS p
                JOIN repositories AS r ON r.id = p.repository_id
                WHERE r.name = @name;
                """);
            command.Parameters.AddWithValue("@name", repository.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            return new ScanPolicy(
                reader.IsDBNull(0) ? null : (Severity)reader.GetInt16(0),
                reader.GetBoolean(1),
                ScanStoreJson.DeserializeAllowlist(reader.GetString(2)));
        }, cancellationToken);

    /// <inheritdoc />
    /// <exception cref="IdentityNotFoundException">The repository does not exist or has no settings.</exception>
    public async ValueTask SetScanPolicyAsync(RepositoryName repository, ScanPolicy policy, CancellationToken cancellationToken = default)
    {
        ScanStoreArguments.ValidatePolicy(policy);
        await WriteAsync(async (connection, transaction, cancellationToken) =>
        {
            var repositoryId = await GetRepositoryWithSettingsIdAsync(connection, transaction, repository, cancellationToken).ConfigureAwait(false);
            await using var command = CreateCommand(connection, transaction, """
                INSERT INTO scan_policies (repository_id, block_severity, allow_unscanned, allowlist)
                VALUES (@repository_id, @block_severity, @allow_unscanned, @allowlist)
                ON CONFLICT (repository_id) DO UPDATE SET
                    block_severity = excluded.block_severity,
                    allow_unscanned = excluded.allow_unscanned,
                    allowlist = excluded.allowlist;
                """);
            command.Parameters.AddWithValue("@repository_id", repositoryId);
            command.Parameters.Add(new NpgsqlParameter<short?>("@block_severity", NpgsqlDbType.Smallint) { TypedValue = (short?)policy.BlockSeverity });
            command.Parameters.AddWithValue("@allow_unscanned", policy.AllowUnscanned);
            command.Parameters.AddWithValue("@allowlist", ScanStoreJson.SerializeAllowlist(policy.Allowlist));
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    private const string ImageScanColumns =
        "manifest_digest, status, scanned_at, matched_at, database_version, critical, high, medium, low, unknown, inventory_json, result_json";

    private static ImageScan ReadImageScan(NpgsqlDataReader reader) => new(
        Digest.Parse(reader.GetString(0)),
        (ScanStatus)reader.GetInt16(1),
        FromUnixMilliseconds(reader.GetInt64(2)),
        FromUnixMilliseconds(reader.GetInt64(3)),
        reader.GetInt64(4),
        new ScanSummary(reader.GetInt32(5), reader.GetInt32(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetInt32(9)),
        reader.IsDBNull(10) ? null : reader.GetString(10),
        reader.GetString(11));

    private static ScanJob ReadScanJob(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        RepositoryName.Parse(reader.GetString(1)),
        Digest.Parse(reader.GetString(2)),
        (ScanReason)reader.GetInt16(3),
        FromUnixMilliseconds(reader.GetInt64(4)),
        reader.GetInt32(5),
        reader.IsDBNull(6) ? null : reader.GetString(6),
        reader.IsDBNull(7) ? null : FromUnixMilliseconds(reader.GetInt64(7)));

    /// <exception cref="ArgumentException">The holder is empty or too long, or the lease would expire at or before <paramref name="now"/>.</exception>
    private static void ValidateScanJobHolder(string holder, DateTimeOffset now, DateTimeOffset leaseExpiresAt) =>
        ScanStoreArguments.ValidateLease("scan-job", holder, now, leaseExpiresAt);
}

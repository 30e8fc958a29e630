using System.Globalization;
using System.Net;
using Dtr.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace Dtr.Scanning.Service;

/// <summary>The state of the online update, for <c>GET /scanning/database</c>.</summary>
/// <param name="LastAttemptAt">When this host last ran an update, or null.</param>
/// <param name="LastSuccessAt">When an update last finished without error on this host, or null.</param>
/// <param name="LastError">The error of the last update, or null when it succeeded.</param>
/// <param name="NextAttemptAt">When the next update runs, or null when none is scheduled.</param>
internal sealed record DatabaseUpdateStatus(DateTimeOffset? LastAttemptAt, DateTimeOffset? LastSuccessAt, string? LastError, DateTimeOffset? NextAttemptAt);

/// <summary>
/// Downloads the archives of <see cref="ScanningOptions.DatabaseUrls"/> every <see cref="ScanningOptions.UpdateInterval"/>
/// and imports those that changed. Requests are conditional on the stored <c>ETag</c> and <c>Last-Modified</c>, so an
/// unchanged archive costs one 304. Transient failures are retried with backoff. One host at a time updates, under the
/// lease <c>scanning:update</c>. A failure keeps the previous database and is logged and shown in the status. The
/// options are read through <see cref="IOptionsMonitor{TOptions}"/>: new URLs are fetched shortly after they change, a
/// new interval counts from the database's last change, and removing every URL stops the schedule.
/// </summary>
internal sealed class DatabaseUpdater : BackgroundService
{
    /// <summary>The name of the lease that keeps the online update to one host.</summary>
    public const string LeaseName = "scanning:update";

    /// <summary>The name of the <see cref="HttpClient"/> the update uses.</summary>
    public const string HttpClientName = "Dtr.Scanning.Database";

    private readonly IHttpClientFactory _httpClients;
    private readonly IScanStore _store;
    private readonly ILeaseStore _leases;
    private readonly DatabaseArchiveImporter _importer;
    private readonly IOptionsMonitor<ScanningOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DatabaseUpdater> _logger;
    private readonly WakeSignal _trigger = new();

    // 1 after the options changed and before the loop has read them again.
    private int _optionsChanged;
    private readonly string _holder = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";
    private readonly Lock _statusLock = new();
    private DatabaseUpdateStatus _status = new(null, null, null, null);

    public DatabaseUpdater(
        IHttpClientFactory httpClients,
        IScanStore store,
        ILeaseStore leases,
        DatabaseArchiveImporter importer,
        IOptionsMonitor<ScanningOptions> options,
        TimeProvider time,
        ILogger<DatabaseUpdater> logger)
    {
        _httpClients = httpClients;
        _store = store;
        _leases = leases;
        _importer = importer;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>How long after start the first update runs when the database is older than the interval.</summary>
    internal TimeSpan StartDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The delay before the first retry of a failed download; later retries wait twice as long each.</summary>
    internal TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How many times a failed download is retried.</summary>
    internal int MaxRetries { get; set; } = 3;

    /// <summary>How long the update lease lasts. An update that runs longer may overlap with one on another host.</summary>
    internal TimeSpan LeaseDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The state of the online update on this host.</summary>
    public DatabaseUpdateStatus Status
    {
        get
        {
            lock (_statusLock)
            {
                return _status;
            }
        }
    }

    /// <summary>How long the loop sleeps between checks while no URL is set.</summary>
    internal TimeSpan IdleInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether any database URL is set.</summary>
    public bool IsConfigured => _options.CurrentValue.DatabaseUrls.Count > 0;

    /// <summary>Starts an update now instead of at the next scheduled time.</summary>
    public void TriggerNow() => _trigger.Set();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = _options.OnChange(_ =>
        {
            Interlocked.Exchange(ref _optionsChanged, 1);
            _trigger.Set();
        });

        // The URLs and interval that `next` was computed for; null while no URL is set.
        string? scheduledUrls = null;
        var scheduledInterval = TimeSpan.Zero;
        DateTimeOffset? next = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var options = _options.CurrentValue;
                var urls = string.Join('\n', options.DatabaseUrls);
                if (options.DatabaseUrls.Count == 0)
                {
                    SetNextAttempt(null);
                    scheduledUrls = null;
                    next = null;
                    await _trigger.WaitAsync(IdleInterval, _time, stoppingToken);
                    Interlocked.Exchange(ref _optionsChanged, 0);
                    continue;
                }

                if (next is null || urls != scheduledUrls || options.UpdateInterval != scheduledInterval)
                {
                    // Changed URLs are fetched soon. A first schedule, or a new interval, counts from the database's
                    // last change.
                    next = scheduledUrls is not null && urls != scheduledUrls
                        ? _time.GetUtcNow() + StartDelay
                        : await GetFirstAttemptAsync(options.UpdateInterval, stoppingToken);
                    scheduledUrls = urls;
                    scheduledInterval = options.UpdateInterval;
                }

                SetNextAttempt(next);
                ScanningLog.UpdateScheduled(_logger, next.Value);
                var wait = next.Value - _time.GetUtcNow();
                if (wait > TimeSpan.Zero)
                {
                    var woken = await _trigger.WaitAsync(wait, _time, stoppingToken);
                    if (woken && Interlocked.Exchange(ref _optionsChanged, 0) == 1)
                    {
                        // The options changed: recompute the schedule instead of updating now.
                        continue;
                    }
                }

                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
                {
                    // The lease store failed; an exception here would stop the host, so the next interval retries.
                    ScanningLog.UpdateFailed(_logger, "(update lease)", exception.Message, exception);
                    RecordFailure(_time.GetUtcNow(), $"The update lease could not be taken: {exception.Message}");
                }

                next = _time.GetUtcNow() + _options.CurrentValue.UpdateInterval;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Returns when the first update runs: shortly after start when the database is older than the interval or empty,
    /// otherwise one interval after its last change.
    /// </summary>
    private async Task<DateTimeOffset> GetFirstAttemptAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        try
        {
            var database = await _store.GetVulnerabilityDatabaseAsync(cancellationToken);
            if (database.UpdatedAt is { } updatedAt && updatedAt + interval > now + StartDelay)
            {
                return updatedAt + interval;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            ScanningLog.UpdateFailed(_logger, "(database state)", exception.Message, exception);
        }

        return now + StartDelay;
    }

    /// <summary>Runs one update of every URL, when this host gets the lease.</summary>
    /// <returns>False when another host holds the lease; true when this host ran the update, even if a URL failed.</returns>
    public async Task<bool> RunOnceAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (!await _leases.TryAcquireLeaseAsync(LeaseName, _holder, now, now + LeaseDuration, cancellationToken))
        {
            ScanningLog.UpdateLeaseHeld(_logger);
            return false;
        }

        var errors = new List<string>();
        var options = _options.CurrentValue;
        try
        {
            for (var i = 0; i < options.DatabaseUrls.Count; i++)
            {
                var url = options.DatabaseUrls[i];
                try
                {
                    await UpdateSourceAsync(i, url, cancellationToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var message = exception is HttpRequestException or DatabaseArchiveException or TimeoutException or OperationCanceledException
                        ? exception.Message
                        : $"{exception.GetType().Name}: {exception.Message}";
                    var redacted = DatabaseUrl.Redact(url);
                    ScanningLog.UpdateFailed(_logger, redacted, message, exception);
                    errors.Add($"{redacted}: {message}");
                }
            }
        }
        finally
        {
            await _leases.ReleaseLeaseAsync(LeaseName, _holder, CancellationToken.None);
        }

        var finished = _time.GetUtcNow();
        lock (_statusLock)
        {
            _status = errors.Count == 0
                ? _status with { LastAttemptAt = now, LastSuccessAt = finished, LastError = null }
                : _status with { LastAttemptAt = now, LastError = string.Join("; ", errors) };
        }

        return true;
    }

    private async Task UpdateSourceAsync(int index, Uri url, CancellationToken cancellationToken)
    {
        // The source name is the redacted URL: it is shown in the API and logs, and stays the same for one URL, so
        // the stored ETag and Last-Modified still apply. Only the request itself uses the full URL.
        var source = DatabaseUrl.Redact(url);
        ScanningLog.UpdateStarted(_logger, source);
        var database = await _store.GetVulnerabilityDatabaseAsync(cancellationToken);
        var previous = database.Sources.FirstOrDefault(candidate => string.Equals(candidate.Name, source, StringComparison.Ordinal));

        var client = _httpClients.CreateClient(HttpClientName);
        var pipeline = BuildPipeline(url);

        // 1. Download the archive, unless it is unchanged since the last import.
        using var response = await pipeline.ExecuteAsync(
            async token =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (previous?.ETag is { } etag)
                {
                    request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                }

                if (previous?.LastModified is { } lastModified)
                {
                    request.Headers.IfModifiedSince = lastModified;
                }

                return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, token);
            },
            cancellationToken);

        if (response.StatusCode == HttpStatusCode.NotModified)
        {
            ScanningLog.UpdateNotModified(_logger, source);
            return;
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"GET {source} returned {(int)response.StatusCode} {response.ReasonPhrase}.",
                null,
                response.StatusCode);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var archive = await _importer.SpoolAsync(body, response.Content.Headers.ContentLength, cancellationToken);

        // 2. Fetch the signature when a key is configured; ImportAsync rejects a missing or wrong one.
        byte[]? signature = null;
        if (_importer.SignatureRequired)
        {
            signature = await DownloadSignatureAsync(index, url, client, cancellationToken);
        }

        // 3. Import it, with what the next conditional request needs.
        var update = new VulnerabilitySourceUpdate(0, _time.GetUtcNow())
        {
            ETag = response.Headers.ETag?.ToString(),
            LastModified = response.Content.Headers.LastModified,
        };
        await _importer.ImportAsync(source, archive, signature, update, cancellationToken);
    }

    private async Task<byte[]> DownloadSignatureAsync(int index, Uri url, HttpClient client, CancellationToken cancellationToken)
    {
        var signatureUrl = SignatureUrlOf(index, url);
        var pipeline = BuildPipeline(signatureUrl);
        using var response = await pipeline.ExecuteAsync(
            async token => await client.GetAsync(signatureUrl, HttpCompletionOption.ResponseHeadersRead, token),
            cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException(
                $"signature required: GET {DatabaseUrl.Redact(signatureUrl)} returned {(int)response.StatusCode} {response.ReasonPhrase}.",
                null,
                response.StatusCode);
        }

        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var copy = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copy.Write(buffer, 0, read);
            if (copy.Length > ArchiveSignatureVerifier.MaxSignatureLength)
            {
                throw new DatabaseArchiveException(
                    ArchiveRejection.SignatureInvalid,
                    $"signature invalid: {DatabaseUrl.Redact(signatureUrl)} is larger than {ArchiveSignatureVerifier.MaxSignatureLength} bytes.");
            }
        }

        return copy.ToArray();
    }

    /// <summary>Returns the signature URL of a database URL: mapped by position or URL in SignatureUrls, else <c>&lt;url&gt;.sig</c>.</summary>
    internal Uri SignatureUrlOf(int index, Uri url)
    {
        if (_options.CurrentValue.SignatureUrls.TryGetValue(index.ToString(CultureInfo.InvariantCulture), out var byIndex))
        {
            return byIndex;
        }

        if (_options.CurrentValue.SignatureUrls.TryGetValue(url.ToString(), out var byUrl) || _options.CurrentValue.SignatureUrls.TryGetValue(url.OriginalString, out byUrl))
        {
            return byUrl;
        }

        var builder = new UriBuilder(url);
        builder.Path += ".sig";
        return builder.Uri;
    }

    /// <summary>Retries connection failures, timeouts, 408, 429 and 5xx responses with exponential backoff.</summary>
    private ResiliencePipeline<HttpResponseMessage> BuildPipeline(Uri url) =>
        new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = _time }
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = MaxRetries,
                Delay = RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutException>()
                    .Handle<TaskCanceledException>(exception => exception.InnerException is TimeoutException)
                    .HandleResult(response => IsTransient(response.StatusCode)),
                OnRetry = arguments =>
                {
                    var outcome = arguments.Outcome.Exception?.Message
                        ?? $"{(int)arguments.Outcome.Result!.StatusCode} {arguments.Outcome.Result.ReasonPhrase}";
                    ScanningLog.DownloadRetry(_logger, DatabaseUrl.Redact(url), outcome, arguments.AttemptNumber + 1, arguments.RetryDelay.TotalSeconds);
                    arguments.Outcome.Result?.Dispose();
                    return ValueTask.CompletedTask;
                },
            })
            .Build();

    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests || (int)status >= 500;

    private void RecordFailure(DateTimeOffset attemptedAt, string error)
    {
        lock (_statusLock)
        {
            _status = _status with { LastAttemptAt = attemptedAt, LastError = error };
        }
    }

    private void SetNextAttempt(DateTimeOffset? next)
    {
        lock (_statusLock)
        {
            _status = _status with { NextAttemptAt = next };
        }
    }
}

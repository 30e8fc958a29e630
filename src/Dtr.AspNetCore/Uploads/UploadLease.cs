using Dtr.AspNetCore.Logging;
using Dtr.Errors;
using Dtr.Metadata;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Uploads;

/// <summary>
/// The lease on one upload session that a request holds in the shared metadata store while it reads or writes the
/// upload, so that registry hosts behind one load balancer do not write to the same upload at once.
/// </summary>
/// <remarks>
/// Each request takes the lease under a holder id of its own, renews it while a long body is still arriving, and
/// releases it when it ends. A host that crashed while holding a lease blocks the upload until the lease expires.
/// Hosts compare expiry times with their own clocks, so the clocks must agree to well within half the lease duration.
/// </remarks>
internal sealed class UploadLease : IAsyncDisposable
{
    private static readonly TimeSpan s_firstPollDelay = TimeSpan.FromMilliseconds(25);
    private static readonly TimeSpan s_maxPollDelay = TimeSpan.FromMilliseconds(500);

    private readonly IMetadataStore _metadata;
    private readonly UploadSession _session;
    private readonly TimeSpan _duration;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private DateTimeOffset _renewedAt;
    private DateTimeOffset _expiresAt;

    private UploadLease(IMetadataStore metadata, UploadSession session, string holder, TimeSpan duration, DateTimeOffset acquiredAt, TimeProvider timeProvider, ILogger logger)
    {
        _metadata = metadata;
        _session = session;
        Holder = holder;
        _duration = duration;
        _renewedAt = acquiredAt;
        _expiresAt = acquiredAt + duration;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    /// <summary>The id under which this request holds the lease.</summary>
    public string Holder { get; }

    /// <summary>
    /// Takes the lease on <paramref name="session"/> under a new holder id. While another request holds it, polls
    /// with a delay that grows from 25 ms to 500 ms, for at most one lease duration.
    /// </summary>
    /// <exception cref="RegistryException">
    /// BLOB_UPLOAD_UNKNOWN when the session no longer exists, or BLOB_UPLOAD_INVALID when another request kept the
    /// lease for a whole lease duration. BLOB_UPLOAD_INVALID is the OCI error code for an upload that cannot proceed,
    /// and its message advises a retry.
    /// </exception>
    public static async Task<UploadLease> AcquireAsync(
        IMetadataStore metadata,
        UploadSession session,
        TimeSpan duration,
        TimeProvider timeProvider,
        ILogger logger,
        CancellationToken cancellationToken)
    {
        var holder = Guid.NewGuid().ToString("N");
        var deadline = timeProvider.GetUtcNow() + duration;
        var delay = s_firstPollDelay;
        var waiting = false;
        while (true)
        {
            var now = timeProvider.GetUtcNow();
            if (await metadata.TryAcquireUploadLeaseAsync(session.Id, holder, now, now + duration, cancellationToken))
            {
                return new UploadLease(metadata, session, holder, duration, now, timeProvider, logger);
            }

            // The store also returns false when the session is gone, for example because another host completed
            // or cancelled the upload while this request waited.
            if (await metadata.GetUploadAsync(session.Id, cancellationToken) is null)
            {
                throw new RegistryException(
                    OciErrorCode.BlobUploadUnknown,
                    $"The upload '{session.Id}' no longer exists in repository '{session.Repository}'; another request completed or cancelled it. Start a new upload with POST /v2/{session.Repository}/blobs/uploads/.");
            }

            if (now >= deadline)
            {
                RegistryLog.UploadLeaseWaitTimedOut(logger, session.Repository.Value, session.Id, duration.TotalSeconds);
                throw new RegistryException(
                    OciErrorCode.BlobUploadInvalid,
                    $"Another request is writing upload '{session.Id}' and has not finished within {duration.TotalSeconds:F0} s; retry the request later.");
            }

            if (!waiting)
            {
                RegistryLog.UploadLeaseWaiting(logger, session.Repository.Value, session.Id, duration.TotalSeconds);
                waiting = true;
            }

            await Task.Delay(delay, timeProvider, cancellationToken);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, s_maxPollDelay.Ticks));
        }
    }

    /// <summary>
    /// Extends the lease when half its duration has passed since it was taken or last extended. Callers run this
    /// before each write, so a request does not start a write after its lease could have passed to another
    /// request.
    /// </summary>
    /// <exception cref="RegistryException">
    /// BLOB_UPLOAD_INVALID when the lease expired, or was taken by another request or deleted with the session; the
    /// request must not write further.
    /// </exception>
    public async ValueTask RenewIfDueAsync(CancellationToken cancellationToken)
    {
        var now = _timeProvider.GetUtcNow();

        // After expiry another request may have taken the lease, written and released it, and a renewal would not
        // notice. So an expired lease counts as lost even when it is free now.
        if (now >= _expiresAt)
        {
            throw Lost();
        }

        if (now - _renewedAt < _duration / 2)
        {
            return;
        }

        if (!await _metadata.TryAcquireUploadLeaseAsync(_session.Id, Holder, now, now + _duration, cancellationToken))
        {
            throw Lost();
        }

        _renewedAt = now;
        _expiresAt = now + _duration;
    }

    /// <summary>Releases the lease. A failure is logged, not thrown: the lease then expires on its own.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            // The request may have been aborted, but the release should still reach the store.
            await _metadata.ReleaseUploadLeaseAsync(_session.Id, Holder, CancellationToken.None);
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // Which exceptions a store throws depends on its database; every one of them only delays the next request.
            RegistryLog.UploadLeaseReleaseFailed(_logger, _session.Repository.Value, _session.Id, Holder, error);
        }
    }

    private RegistryException Lost()
    {
        RegistryLog.UploadLeaseLost(_logger, _session.Repository.Value, _session.Id, Holder);
        return new RegistryException(
            OciErrorCode.BlobUploadInvalid,
            $"This request lost its lease on upload '{_session.Id}' while writing, because the lease expired or another request took it over. The request stopped writing, and another request may have written since. Read the upload's length with GET and resume from there.");
    }
}

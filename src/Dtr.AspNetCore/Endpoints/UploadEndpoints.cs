using Dtr.AspNetCore.GarbageCollection;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Logging;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Telemetry;
using Dtr.AspNetCore.Uploads;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// The blob upload endpoints: <c>POST /v2/&lt;name&gt;/blobs/uploads/</c> (new session, monolithic upload or
/// cross-repository mount) and <c>GET</c>, <c>PATCH</c>, <c>PUT</c>, <c>DELETE</c> on an upload session.
/// </summary>
internal sealed class UploadEndpoints
{
    private readonly UploadService _uploads;
    private readonly IBlobStore _blobs;
    private readonly IMetadataStore _metadata;
    private readonly RegistryUrls _urls;
    private readonly ILogger<UploadEndpoints> _logger;

    public UploadEndpoints(UploadService uploads, IBlobStore blobs, IMetadataStore metadata, RegistryUrls urls, ILogger<UploadEndpoints> logger)
    {
        _uploads = uploads;
        _blobs = blobs;
        _metadata = metadata;
        _urls = urls;
        _logger = logger;
    }

    /// <summary>
    /// Starts an upload. With <c>?mount=&amp;from=</c> it links a blob the source repository has (201) or falls back
    /// to a new session (202); with <c>?digest=</c> it stores the request body as the whole blob (201). A mount
    /// from a repository the caller may not pull falls back to a new session too, which reveals nothing about it.
    /// </summary>
    public async Task StartAsync(HttpContext context, RepositoryName repository, RequestAccess access)
    {
        var query = context.Request.Query;
        var cancellationToken = context.RequestAborted;

        if (query.TryGetValue("mount", out var mount) && !string.IsNullOrEmpty(mount))
        {
            var digest = RequestParsing.ParseDigest(mount, "mount digest");
            if (await TryMountAsync(repository, digest, query["from"], access, cancellationToken))
            {
                WriteBlobCreated(context, repository, digest);
                return;
            }
        }

        if (query.TryGetValue("digest", out var digestValue))
        {
            var digest = RequestParsing.ParseDigest(digestValue, "digest parameter");
            AllowUnlimitedBody(context);
            var session = await _uploads.StartAsync(repository, cancellationToken);
            try
            {
                await _uploads.CompleteAsync(session, digest, context.Request.BodyReader, expectedStart: null, RegistryOperations.UploadStart, cancellationToken);
            }
            catch
            {
                await DiscardQuietlyAsync(session);
                throw;
            }

            WriteBlobCreated(context, repository, digest);
            return;
        }

        var started = await _uploads.StartAsync(repository, cancellationToken);
        WriteUploadStatus(context, started, 0, StatusCodes.Status202Accepted);
    }

    /// <summary>Reports how many bytes the upload holds: 204 with <c>Range</c> and <c>Location</c>.</summary>
    public async Task GetStatusAsync(HttpContext context, RepositoryName repository, string uploadId)
    {
        var session = await _uploads.GetSessionAsync(repository, uploadId, context.RequestAborted);
        var length = await _uploads.GetLengthAsync(session, context.RequestAborted);
        WriteUploadStatus(context, session, length, StatusCodes.Status204NoContent);
    }

    /// <summary>Appends a chunk (with <c>Content-Range</c>) or a streamed body (without) to the upload.</summary>
    public async Task PatchAsync(HttpContext context, RepositoryName repository, string uploadId)
    {
        var session = await _uploads.GetSessionAsync(repository, uploadId, context.RequestAborted);
        var start = RequestParsing.ParseUploadContentRange(context.Request);
        AllowUnlimitedBody(context);

        long length;
        try
        {
            length = await _uploads.AppendAsync(session, context.Request.BodyReader, start, context.RequestAborted);
        }
        catch (RegistryException error) when (error.Error.Status == StatusCodes.Status416RangeNotSatisfiable)
        {
            // The error writer clears the response before writing, so the upload's Location must travel with the
            // error's own headers to reach the client.
            var headers = new Dictionary<string, string>(error.Headers ?? new Dictionary<string, string>())
            {
                ["Location"] = _urls.Upload(context.Request, repository, session.Id),
            };
            throw new RegistryException(error.Error, error.Message, error) { Headers = headers };
        }

        WriteUploadStatus(context, session, length, StatusCodes.Status202Accepted);
    }

    /// <summary>Closes the upload with <c>?digest=</c>, appending the request body first when it has one.</summary>
    public async Task PutAsync(HttpContext context, RepositoryName repository, string uploadId)
    {
        var session = await _uploads.GetSessionAsync(repository, uploadId, context.RequestAborted);
        var digest = RequestParsing.ParseDigest(context.Request.Query["digest"], "digest parameter");
        var start = RequestParsing.ParseUploadContentRange(context.Request);
        AllowUnlimitedBody(context);

        await _uploads.CompleteAsync(session, digest, context.Request.BodyReader, start, RegistryOperations.UploadPut, context.RequestAborted);
        WriteBlobCreated(context, repository, digest);
    }

    /// <summary>Cancels the upload: 204, and its data is deleted.</summary>
    public async Task DeleteAsync(HttpContext context, RepositoryName repository, string uploadId)
    {
        var session = await _uploads.GetSessionAsync(repository, uploadId, context.RequestAborted);
        await _uploads.CancelAsync(session, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    private async Task<bool> TryMountAsync(RepositoryName repository, Digest digest, string? from, RequestAccess access, CancellationToken cancellationToken)
    {
        // Without a valid source repository there is nothing to check visibility against, so the client gets a
        // plain upload session, as the distribution specification allows.
        if (!RepositoryName.TryParse(from, out var source))
        {
            return false;
        }

        if (!await access.CanPullAsync(source, cancellationToken))
        {
            SecurityLog.MountSourceDenied(_logger, repository.Value, source.Value, access.Caller.UserName ?? "anonymous");
            return false;
        }

        var size = await _metadata.GetBlobLinkAsync(source, digest, cancellationToken);
        if (size is null || await _blobs.StatAsync(digest, cancellationToken) is null)
        {
            return false;
        }

        // A garbage collection run may mark the blob for deletion after the checks above, because the source's link
        // can go at any moment. Then the link fails while the run deletes the bytes, or succeeds once they are gone.
        // In both cases the client gets a plain upload session and sends the bytes.
        try
        {
            await _metadata.LinkBlobAsync(repository, digest, size.Value, cancellationToken);
        }
        catch (BlobDeletionPendingException)
        {
            GarbageCollectionHttpLog.MountSkippedForDeletion(_logger, repository.Value, digest.Value, source.Value);
            return false;
        }

        if (await _blobs.StatAsync(digest, cancellationToken) is null)
        {
            await _metadata.UnlinkBlobAsync(repository, digest, CancellationToken.None);
            GarbageCollectionHttpLog.MountSkippedForDeletion(_logger, repository.Value, digest.Value, source.Value);
            return false;
        }

        RegistryLog.BlobMounted(_logger, repository.Value, digest.Value, source.Value);
        return true;
    }

    private async Task DiscardQuietlyAsync(UploadSession session)
    {
        try
        {
            await _uploads.CancelAsync(session, CancellationToken.None);
        }
        catch (RegistryException error) when (error.Error == OciErrorCode.BlobUploadUnknown)
        {
            // The failed request removed the session itself, as it does after a digest mismatch.
        }
        catch (Exception error) when (error is IOException or InvalidOperationException or UploadNotFoundException)
        {
            RegistryLog.RequestFailed(_logger, "POST", $"/v2/{session.Repository}/blobs/uploads/ (cleanup of {session.Id})", error);
        }
    }

    private void WriteBlobCreated(HttpContext context, RepositoryName repository, Digest digest)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = _urls.Blob(context.Request, repository, digest);
        response.Headers[RegistryHeaders.ContentDigest] = digest.Value;
        response.ContentLength = 0;
    }

    private void WriteUploadStatus(HttpContext context, UploadSession session, long length, int status)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.Headers.Location = _urls.Upload(context.Request, session.Repository, session.Id);
        response.Headers.Range = RegistryHeaders.FormatUploadRange(length);
        response.Headers[RegistryHeaders.UploadUuid] = session.Id;
        response.ContentLength = 0;
    }

    /// <summary>
    /// Lifts Kestrel's default 30 MB request body cap for blob data; the registry's own
    /// <c>Registry:MaxBlobBytes</c> limit applies instead.
    /// </summary>
    private static void AllowUnlimitedBody(HttpContext context)
    {
        var feature = context.Features.Get<IHttpMaxRequestBodySizeFeature>();
        if (feature is { IsReadOnly: false })
        {
            feature.MaxRequestBodySize = null;
        }
    }
}

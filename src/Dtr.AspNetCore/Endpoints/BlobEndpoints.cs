using System.Buffers;
using System.Globalization;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.GarbageCollection;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Logging;
using Dtr.AspNetCore.Telemetry;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// <c>GET</c>, <c>HEAD</c> and <c>DELETE /v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>.
/// </summary>
internal sealed class BlobEndpoints
{
    // Large enough that a 1 GiB download takes a few thousand writes, small enough to rent per request.
    private const int CopyBufferBytes = 256 * 1024;

    private readonly IBlobStore _blobs;
    private readonly IMetadataStore _metadata;
    private readonly IIdentityStore? _identity;
    private readonly RegistryOptions _options;
    private readonly BlobUseRecorder _uses;
    private readonly RegistryMetrics _metrics;
    private readonly ILogger<BlobEndpoints> _logger;

    /// <param name="services">
    /// Supplies the <see cref="IIdentityStore"/> that stores repository settings, when one is registered. A host
    /// that runs without authentication may have none, and then no repository has immutable tags.
    /// </param>
    public BlobEndpoints(IBlobStore blobs, IMetadataStore metadata, IServiceProvider services, BlobUseRecorder uses, RegistryMetrics metrics, IOptions<RegistryOptions> options, ILogger<BlobEndpoints> logger)
    {
        _metrics = metrics;
        _uses = uses;
        _blobs = blobs;
        _metadata = metadata;
        _identity = services.GetService<IIdentityStore>();
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>Sends a blob, or the byte range the <c>Range</c> header requests (206, or 416 when unsatisfiable).</summary>
    public async Task GetAsync(HttpContext context, RepositoryName repository, string digestText, bool headOnly)
    {
        var digest = RequestParsing.ParseDigest(digestText, "blob digest");
        var cancellationToken = context.RequestAborted;

        var info = await FindAsync(repository, digest, cancellationToken);
        await _uses.RecordAsync(digest, cancellationToken);
        var response = context.Response;
        response.Headers[RegistryHeaders.ContentDigest] = digest.Value;
        response.Headers.AcceptRanges = "bytes";
        response.Headers.ETag = "\"" + digest.Value + "\"";
        response.Headers.CacheControl = "max-age=31536000";
        response.ContentType = "application/octet-stream";

        if (!headOnly && _options.RedirectBlobDownloads && !IsSuffixRange(context.Request) && ITracingDecorator.Unwrap(_blobs) is IBlobRedirectSource redirects
            && await redirects.GetDownloadUriAsync(digest, _options.RedirectLifetime, cancellationToken) is { } location)
        {
            // The storage service honours the client's Range header itself, and the URL expires, so nothing is cached.
            response.Headers.CacheControl = "no-store";
            response.ContentType = null;
            response.Headers.Location = location.AbsoluteUri;
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            return;
        }

        var (offset, length) = ResolveRange(context, info.Size);
        response.ContentLength = length;
        if (headOnly)
        {
            return;
        }

        var stream = await _blobs.OpenReadAsync(digest, offset, cancellationToken)
            ?? throw BlobUnknown(repository, digest);
        await using (stream)
        {
            var sent = await CopyAsync(stream, response, length, cancellationToken);
            _metrics.BytesSent(RegistryOperations.BlobGet, sent);
        }
    }

    /// <summary>
    /// Returns whether the request is for the last bytes of the blob (<c>Range: bytes=-N</c>). The registry serves
    /// those itself instead of redirecting, because s3rver 3.7.1 and Azurite 3.37.0 return the wrong bytes for them.
    /// </summary>
    private static bool IsSuffixRange(HttpRequest request) =>
        request.Headers.Range.ToString().TrimStart().StartsWith("bytes=-", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Removes the blob from the repository; its bytes stay in the blob store. A repository with
    /// immutable tags rejects every blob delete with DENIED, because removing a layer or config would break the
    /// images its tags point to.
    /// </summary>
    public async Task DeleteAsync(HttpContext context, RepositoryName repository, string digestText)
    {
        if (!_options.DeleteEnabled)
        {
            throw new RegistryException(OciErrorCode.Unsupported, "Deletes are disabled on this registry (Registry:DeleteEnabled is false).");
        }

        var digest = RequestParsing.ParseDigest(digestText, "blob digest");
        var cancellationToken = context.RequestAborted;
        if (await _metadata.GetBlobLinkAsync(repository, digest, cancellationToken) is null)
        {
            throw BlobUnknown(repository, digest);
        }

        // NOTE: this also rejects deletes of blobs that no manifest references, because the metadata store offers no
        // query for a blob's referencing manifests. Their links stay until immutable tags are turned off.
        if (_identity is not null && await _identity.GetRepositoryAsync(repository, cancellationToken) is { ImmutableTags: true })
        {
            throw new RegistryException(
                OciErrorCode.Denied,
                $"The repository '{repository}' has immutable tags, so its blobs cannot be deleted: a deleted layer or config would break the images that its tags point to. "
                + "To delete blobs, turn off immutable tags in the repository settings first.",
                new { digest = digest.Value });
        }

        if (!await _metadata.UnlinkBlobAsync(repository, digest, cancellationToken))
        {
            throw BlobUnknown(repository, digest);
        }

        RegistryLog.BlobUnlinked(_logger, repository.Value, digest.Value);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    /// <summary>Returns a blob linked into the repository and present in the blob store, or throws BLOB_UNKNOWN.</summary>
    public async Task<BlobInfo> FindAsync(RepositoryName repository, Digest digest, CancellationToken cancellationToken)
    {
        if (await _metadata.GetBlobLinkAsync(repository, digest, cancellationToken) is null)
        {
            throw BlobUnknown(repository, digest);
        }

        return await _blobs.StatAsync(digest, cancellationToken) ?? throw BlobUnknown(repository, digest);
    }

    private static RegistryException BlobUnknown(RepositoryName repository, Digest digest) =>
        new(OciErrorCode.BlobUnknown, $"The blob {digest} is not in repository '{repository}'.", new { digest = digest.Value });

    /// <summary>
    /// Applies a single-range <c>Range: bytes=…</c> header. Multi-range requests and other units are ignored, which
    /// RFC 9110 allows, and the whole blob is sent.
    /// </summary>
    private static (long Offset, long Length) ResolveRange(HttpContext context, long size)
    {
        var header = context.Request.Headers.Range;
        if (header.Count == 0 || !RangeHeaderValue.TryParse(header.ToString(), out var range)
            || !string.Equals(range.Unit.Value, "bytes", StringComparison.OrdinalIgnoreCase) || range.Ranges.Count != 1)
        {
            return (0, size);
        }

        var item = range.Ranges.First();
        long start;
        long end;
        if (item.From is null)
        {
            // A suffix range, bytes=-N: the last N bytes.
            var suffix = item.To ?? 0;
            if (suffix <= 0 || size == 0)
            {
                throw RangeNotSatisfiable(size, header.ToString());
            }

            start = Math.Max(0, size - suffix);
            end = size - 1;
        }
        else
        {
            start = item.From.Value;
            end = Math.Min(item.To ?? size - 1, size - 1);
            if (start >= size || (item.To is { } to && to < start))
            {
                throw RangeNotSatisfiable(size, header.ToString());
            }
        }

        context.Response.StatusCode = StatusCodes.Status206PartialContent;
        context.Response.Headers.ContentRange = string.Create(CultureInfo.InvariantCulture, $"bytes {start}-{end}/{size}");
        return (start, end - start + 1);
    }

    private static RegistryException RangeNotSatisfiable(long size, string header) =>
        new(OciErrorCode.RangeInvalid, $"The range '{header}' cannot be satisfied; the blob has {size} bytes.")
        {
            Headers = new Dictionary<string, string> { ["Content-Range"] = $"bytes */{size}" },
        };

    /// <summary>Copies <paramref name="length"/> bytes to the response and returns how many were written.</summary>
    private static async Task<long> CopyAsync(Stream source, HttpResponse response, long length, CancellationToken cancellationToken)
    {
        // Reading straight into the response's buffers saves copying every byte through a buffer of our own.
        var writer = response.BodyWriter;
        var remaining = length;
        while (remaining > 0)
        {
            var memory = writer.GetMemory((int)Math.Min(CopyBufferBytes, remaining));
            if (memory.Length > remaining)
            {
                memory = memory[..(int)remaining];
            }

            var read = await source.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                // The stored blob is shorter than its recorded size: abort rather than send a short body
                // that the client would take for a complete one.
                throw new IOException($"The stored blob ended {remaining} bytes before its recorded size.");
            }

            writer.Advance(read);
            remaining -= read;
            var flushed = await writer.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                // The client went away; the server aborts the response.
                return length - remaining;
            }
        }

        return length;
    }
}

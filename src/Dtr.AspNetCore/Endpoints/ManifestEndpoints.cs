using System.Buffers;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Logging;
using Dtr.AspNetCore.Scanning;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Telemetry;
using Dtr.AspNetCore.Webhooks;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// <c>GET</c>, <c>HEAD</c>, <c>PUT</c> and <c>DELETE /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.
/// </summary>
internal sealed class ManifestEndpoints
{
    private readonly IMetadataStore _metadata;
    private readonly RegistryUrls _urls;
    private readonly PullPolicy _pullPolicy;
    private readonly ScanOnPush _scanOnPush;
    private readonly RegistryMetrics _metrics;
    private readonly WebhookEvents _webhooks;
    private readonly RegistryOptions _options;
    private readonly ILogger<ManifestEndpoints> _logger;

    public ManifestEndpoints(
        IMetadataStore metadata,
        RegistryUrls urls,
        PullPolicy pullPolicy,
        ScanOnPush scanOnPush,
        RegistryMetrics metrics,
        WebhookEvents webhooks,
        IOptions<RegistryOptions> options,
        ILogger<ManifestEndpoints> logger)
    {
        _webhooks = webhooks;
        _metadata = metadata;
        _urls = urls;
        _pullPolicy = pullPolicy;
        _scanOnPush = scanOnPush;
        _metrics = metrics;
        _options = options.Value;
        _logger = logger;
    }

    /// <summary>
    /// Sends the stored manifest bytes with their media type; <c>HEAD</c> sends the same headers only. A <c>GET</c> of
    /// an image manifest is checked against the repository's pull policy first; indexes and <c>HEAD</c> are not.
    /// </summary>
    public async Task GetAsync(HttpContext context, RepositoryName repository, string referenceText, bool headOnly)
    {
        var reference = ParseReference(repository, referenceText);
        var manifest = await _metadata.GetManifestAsync(repository, reference, context.RequestAborted)
            ?? throw ManifestUnknown(repository, reference);
        if (!headOnly && !MediaTypes.IsIndex(manifest.MediaType))
        {
            await _pullPolicy.CheckAsync(repository, manifest, context.RequestAborted);
        }

        var response = context.Response;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[RegistryHeaders.ContentDigest] = manifest.Digest.Value;
        response.Headers.ETag = "\"" + manifest.Digest.Value + "\"";
        if (!headOnly)
        {
            await response.Body.WriteAsync(manifest.Content, context.RequestAborted);
            _metrics.BytesSent(RegistryOperations.ManifestGet, manifest.Content.Length);
            _metrics.ManifestPulled();
            _webhooks.Record(
                WebhookEventTypes.ImagePulled,
                repository.Value,
                reference.IsDigest ? null : reference.TagName,
                manifest.Digest.Value,
                manifest.MediaType,
                RegistryAccessGate.GetActor(context),
                _urls.Registry(context.Request));
        }
    }

    /// <summary>
    /// Validates and stores a manifest, tagging it with the reference (when a tag) and every <c>?tag=</c> parameter.
    /// </summary>
    public async Task PutAsync(HttpContext context, RepositoryName repository, string referenceText)
    {
        var cancellationToken = context.RequestAborted;
        if (!ManifestReference.TryParse(referenceText, out var reference, out var referenceError))
        {
            var code = referenceText.Contains(':', StringComparison.Ordinal) ? OciErrorCode.DigestInvalid : OciErrorCode.ManifestInvalid;
            throw new RegistryException(code, referenceError);
        }

        // 1. Read the body, within the size limit.
        var content = await ReadBodyAsync(context.Request, _options.MaxManifestBytes, cancellationToken);
        _metrics.BytesReceived(RegistryOperations.ManifestPut, content.Length);

        // 2. Parse and validate it, and compute its digest (with the algorithm of a digest reference).
        var manifest = ManifestParser.Parse(content, RequestParsing.GetMediaType(context.Request));
        var digest = Digest.Compute(content, reference.IsDigest ? reference.Digest.Algorithm : DigestAlgorithm.Sha256);
        if (reference.IsDigest && digest != reference.Digest)
        {
            throw new RegistryException(
                OciErrorCode.DigestInvalid,
                $"The manifest's digest is {digest}, not the {reference.Digest} in the URL; push it by its own digest or by a tag.",
                new { expected = reference.Digest.Value, actual = digest.Value });
        }

        // 3. Collect the tags: the reference itself, or the ?tag= parameters of a push by digest.
        var tags = CollectTags(context.Request, reference);

        // 4. Store it; the metadata store checks, in the same transaction, that everything it references is present.
        var result = await _metadata.PutManifestAsync(
            new ManifestWrite { Repository = repository, Digest = digest, Content = content, Manifest = manifest, Tags = tags },
            cancellationToken);
        if (result.ImmutableTags.Count > 0)
        {
            throw await ImmutableTagAsync(repository, result.ImmutableTags[0], cancellationToken);
        }

        if (!result.Stored)
        {
            throw MissingReferences(repository, result);
        }

        RegistryLog.ManifestStored(_logger, repository.Value, digest.Value, string.Join(',', tags));
        _metrics.ManifestPushed();
        RecordPush(context, repository, digest, manifest.MediaType, tags);

        // 5. Queue a scan when the repository scans on push; a failure is logged and does not fail the push.
        await _scanOnPush.OnManifestStoredAsync(repository, digest);

        // 6. Return where it lives, and with the subject and tags that were recorded.
        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = _urls.Manifest(context.Request, repository, digest.Value);
        response.Headers[RegistryHeaders.ContentDigest] = digest.Value;
        if (manifest.Subject is not null)
        {
            response.Headers[RegistryHeaders.OciSubject] = manifest.Subject.Digest.Value;
        }

        if (reference.IsDigest && tags.Count > 0)
        {
            response.Headers[RegistryHeaders.OciTag] = tags.ToArray();
        }

        response.ContentLength = 0;
    }

    /// <summary>Whether tags and manifests may be deleted (<c>Registry:DeleteEnabled</c>).</summary>
    public bool DeleteEnabled => _options.DeleteEnabled;

    /// <summary>Deletes a tag (only that tag) or a manifest by digest (with every tag pointing to it).</summary>
    public async Task DeleteAsync(HttpContext context, RepositoryName repository, string referenceText)
    {
        if (!DeleteEnabled)
        {
            throw new RegistryException(OciErrorCode.Unsupported, "Deletes are disabled on this registry (Registry:DeleteEnabled is false).");
        }

        var reference = ParseReference(repository, referenceText);
        try
        {
            if (!await DeleteReferenceAsync(repository, reference, RegistryAccessGate.GetActor(context), _urls.Registry(context.Request), context.RequestAborted))
            {
                throw ManifestUnknown(repository, reference);
            }
        }
        catch (ImmutableTagException exception)
        {
            throw new RegistryException(OciErrorCode.Denied, exception.Message, exception);
        }

        context.Response.StatusCode = StatusCodes.Status202Accepted;
        context.Response.ContentLength = 0;
    }

    /// <summary>
    /// Deletes a tag (only that tag) or a manifest by digest (with every tag pointing to it), logs the delete and
    /// records its webhook event. Returns false when the repository has no such tag or manifest. Callers check
    /// <see cref="DeleteEnabled"/> and the client's access first. <c>/v2</c> and the management API both delete
    /// through this method.
    /// </summary>
    /// <param name="repository">The repository.</param>
    /// <param name="reference">The tag or digest.</param>
    /// <param name="actor">The user name for the webhook event, or null for an anonymous caller.</param>
    /// <param name="registry">The registry's base URL for the webhook event.</param>
    /// <param name="cancellationToken">Cancels the delete.</param>
    /// <exception cref="ImmutableTagException">The repository's tags are immutable and the delete would remove a tag.</exception>
    public async Task<bool> DeleteReferenceAsync(RepositoryName repository, ManifestReference reference, string? actor, string? registry, CancellationToken cancellationToken)
    {
        if (reference.IsDigest)
        {
            if (!await _metadata.DeleteManifestAsync(repository, reference.Digest, cancellationToken))
            {
                return false;
            }

            RegistryLog.ManifestDeleted(_logger, repository.Value, reference.Digest.Value);
            _webhooks.Record(WebhookEventTypes.ManifestDeleted, repository.Value, tag: null, reference.Digest.Value, mediaType: null, actor, registry);
            return true;
        }

        if (!await _metadata.DeleteTagAsync(repository, reference.TagName, cancellationToken))
        {
            return false;
        }

        RegistryLog.TagDeleted(_logger, repository.Value, reference.TagName);
        _webhooks.Record(WebhookEventTypes.TagDeleted, repository.Value, reference.TagName, digest: null, mediaType: null, actor, registry);
        return true;
    }

    /// <summary>Records an image.pushed event per tag, or one without a tag for a push by digest alone.</summary>
    private void RecordPush(HttpContext context, RepositoryName repository, Digest digest, string mediaType, List<string> tags)
    {
        var actor = RegistryAccessGate.GetActor(context);
        var registry = _urls.Registry(context.Request);
        if (tags.Count == 0)
        {
            _webhooks.Record(WebhookEventTypes.ImagePushed, repository.Value, tag: null, digest.Value, mediaType, actor, registry);
            return;
        }

        foreach (var tag in tags)
        {
            _webhooks.Record(WebhookEventTypes.ImagePushed, repository.Value, tag, digest.Value, mediaType, actor, registry);
        }
    }

    private static ManifestReference ParseReference(RepositoryName repository, string referenceText)
    {
        if (!ManifestReference.TryParse(referenceText, out var reference, out var error))
        {
            // A reference that cannot be valid cannot name a stored manifest either.
            throw new RegistryException(OciErrorCode.ManifestUnknown, $"No manifest '{Truncate(referenceText)}' in repository '{repository}': {error}");
        }

        return reference;
    }

    private static List<string> CollectTags(HttpRequest request, ManifestReference reference)
    {
        var tags = new List<string>();
        if (!reference.IsDigest)
        {
            tags.Add(reference.TagName);
            return tags;
        }

        foreach (var tag in request.Query["tag"])
        {
            if (!Tag.IsValid(tag))
            {
                throw new RegistryException(
                    OciErrorCode.ManifestInvalid,
                    $"The tag parameter '{Truncate(tag ?? "")}' is invalid: a tag is 1 to 128 characters from [A-Za-z0-9_.-] and must not start with '.' or '-'.");
            }

            if (!tags.Contains(tag, StringComparer.Ordinal))
            {
                tags.Add(tag);
            }
        }

        return tags;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request, int maxBytes, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            throw ManifestTooLarge(maxBytes);
        }

        var reader = request.BodyReader;
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken);
            if (result.Buffer.Length > maxBytes)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                throw ManifestTooLarge(maxBytes);
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                var content = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return content;
            }

            // Keep everything buffered until the body ends; a manifest is small and bounded by maxBytes.
            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static RegistryException ManifestTooLarge(int maxBytes) => new(
        OciErrorCode.ContentTooLarge,
        $"The manifest exceeds the registry's limit of {maxBytes} bytes (Registry:MaxManifestBytes).");

    private static RegistryException ManifestUnknown(RepositoryName repository, ManifestReference reference) => new(
        OciErrorCode.ManifestUnknown,
        $"No manifest '{reference}' in repository '{repository}'.");

    /// <summary>Builds the DENIED error for a push that would move an immutable tag, naming where the tag points now.</summary>
    private async Task<RegistryException> ImmutableTagAsync(RepositoryName repository, string tag, CancellationToken cancellationToken)
    {
        // The store reports only the tag, so read where it points. This runs only for rejected pushes, and when the
        // tag changed in between, the message may name a newer target or none.
        var current = await _metadata.GetManifestAsync(repository, ManifestReference.ForTag(tag), cancellationToken);
        var target = current is null ? "another manifest" : current.Digest.Value;
        return new RegistryException(
            OciErrorCode.Denied,
            $"The tag '{tag}' in repository '{repository}' is immutable and already points to {target}; push under a new tag.",
            new { tag, digest = current?.Digest.Value });
    }

    private static RegistryException MissingReferences(RepositoryName repository, ManifestWriteResult result)
    {
        if (result.MissingBlobs.Count > 0)
        {
            return new RegistryException(
                OciErrorCode.ManifestBlobUnknown,
                $"The manifest references {result.MissingBlobs.Count} blob(s) that repository '{repository}' does not have, first {result.MissingBlobs[0]}; push the blobs before the manifest.",
                new { digest = result.MissingBlobs[0].Value, missing = result.MissingBlobs.Select(d => d.Value).ToArray() });
        }

        if (result.MissingManifests.Count == 0 && result.BlobSizeMismatches.Count > 0)
        {
            return new RegistryException(
                OciErrorCode.ManifestInvalid,
                $"The manifest gives a size for blob {result.BlobSizeMismatches[0]} that differs from the size stored in repository '{repository}'; fix the descriptor's size.",
                new { digest = result.BlobSizeMismatches[0].Value });
        }

        return new RegistryException(
            OciErrorCode.ManifestUnknown,
            $"The index references {result.MissingManifests.Count} manifest(s) that repository '{repository}' does not have, first {result.MissingManifests[0]}; push the child manifests before the index.",
            new { digest = result.MissingManifests[0].Value, missing = result.MissingManifests.Select(d => d.Value).ToArray() });
    }

    private static string Truncate(string value) => value.Length <= 150 ? value : value[..150] + "…";
}

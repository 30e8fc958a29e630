using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Management;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Dtr.Scanning.Inventory;
using Dtr.Scanning.Reports;
using Dtr.Scanning.Service;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Scanning;

/// <summary>
/// The scanning part of the management API: the vulnerability database (<c>/scanning/database</c>), scans and SBOMs
/// of manifests (<c>/repositories/{namespace}/{repo}/manifests/{digest}/scan|sbom</c>) and pull policies
/// (<c>/repositories/{namespace}/{repo}/scanning/policy</c>).
/// </summary>
/// <remarks>
/// Repository routes with a one-component <c>repo</c> are mapped here; for longer names the catch-all routes of
/// <see cref="RepositoryEndpoints"/> recognise the same suffixes through <see cref="TryParseRepositoryRoute"/>. A
/// digest contains ':', which no repository name does, so the manifest suffixes are unambiguous. The policy suffix is
/// not: a repository whose name ends in <c>scanning/policy</c> is read through the listing routes only.
/// </remarks>
internal sealed class ScanningEndpoints
{
    /// <summary>The request header that carries an upload's detached signature, in base64.</summary>
    public const string SignatureHeader = "X-Dtr-Signature";

    /// <summary>The content type of an SBOM.</summary>
    public const string CycloneDxContentType = "application/vnd.cyclonedx+json";

    private const string DefaultSource = "upload";

    private const int MaxSourceNameLength = 100;

    private readonly IScanStore _store;
    private readonly IMetadataStore _metadata;
    private readonly ManagementAccess _access;
    private readonly ScanQueue _queue;
    private readonly ScanReports _reports;
    private readonly ScanPolicyCache _policies;
    private readonly DatabaseArchiveImporter _importer;
    private readonly DatabaseUpdater _updater;
    private readonly IOptionsMonitor<ScanningOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<ScanningEndpoints> _logger;

    public ScanningEndpoints(
        IScanStore store,
        IMetadataStore metadata,
        ManagementAccess access,
        ScanQueue queue,
        ScanReports reports,
        ScanPolicyCache policies,
        DatabaseArchiveImporter importer,
        DatabaseUpdater updater,
        IOptionsMonitor<ScanningOptions> options,
        TimeProvider time,
        ILogger<ScanningEndpoints> logger)
    {
        _store = store;
        _metadata = metadata;
        _access = access;
        _queue = queue;
        _reports = reports;
        _policies = policies;
        _importer = importer;
        _updater = updater;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>What a repository route of this class addresses.</summary>
    public enum RouteKind
    {
        /// <summary><c>manifests/{digest}/scan</c>.</summary>
        Scan,

        /// <summary><c>manifests/{digest}/sbom</c>.</summary>
        Sbom,

        /// <summary><c>scanning/policy</c>.</summary>
        Policy,
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var scanning = group.MapGroup("/scanning").WithTags("Scanning");

        scanning.MapGet("/database", ([FromServices] ScanningEndpoints e, HttpContext c) => e.GetDatabaseAsync(c))
            .WithName("GetVulnerabilityDatabase").WithSummary("Get the vulnerability database's version, sources, online update state and scan queue length")
            .Produces<DatabaseResponse>();

        scanning.MapPut("/database", ([FromServices] ScanningEndpoints e, HttpContext c) => e.PutDatabaseAsync(c))
            .WithName("UploadVulnerabilityDatabase")
            .WithSummary("Import an OSV archive (zip or tar.gz) as source ?source= (default upload); signature in X-Dtr-Signature or a multipart 'signature' part (system administrators)")
            .Accepts<byte[]>("application/octet-stream", "multipart/form-data", ManagementEndpoints.AnyContentType)
            .Produces<DatabaseImportResponse>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict).ProducesProblem(StatusCodes.Status413PayloadTooLarge);

        scanning.MapDelete("/database", ([FromServices] ScanningEndpoints e, HttpContext c) => e.DeleteSourceAsync(c))
            .WithName("RemoveVulnerabilitySource").WithSummary("Remove the source ?source= from the vulnerability database and re-match stored scans (system administrators)")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);

        scanning.MapPost("/database/update", ([FromServices] ScanningEndpoints e, HttpContext c) => e.StartUpdateAsync(c))
            .WithName("StartVulnerabilityDatabaseUpdate").WithSummary("Start the online update now (system administrators)")
            .Produces<UpdateStartedResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status409Conflict);

        var repositories = group.MapGroup("/repositories").WithTags("Scanning");

        repositories.MapPost("/{namespace}/{repo}/manifests/{digest}/scan", ([FromServices] ScanningEndpoints e, HttpContext c, string @namespace, string repo, string digest) => e.QueueScanAsync(c, @namespace, repo, digest))
            .WithName("QueueScan").WithSummary("Queue a scan of a manifest (read-write access); an index queues a scan of each image")
            .Produces<ScanQueuedResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        repositories.MapGet("/{namespace}/{repo}/manifests/{digest}/scan", ([FromServices] ScanningEndpoints e, HttpContext c, string @namespace, string repo, string digest) => e.GetScanAsync(c, @namespace, repo, digest))
            .WithName("GetScan").WithSummary("Get the scan result of a manifest; ?severity= keeps vulnerabilities at or above it")
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), "application/json").ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapGet("/{namespace}/{repo}/manifests/{digest}/sbom", ([FromServices] ScanningEndpoints e, HttpContext c, string @namespace, string repo, string digest) => e.GetSbomAsync(c, @namespace, repo, digest))
            .WithName("GetSbom").WithSummary("Get a CycloneDX 1.6 SBOM of an image manifest's latest scan")
            .Produces(StatusCodes.Status200OK, typeof(JsonElement), CycloneDxContentType).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        repositories.MapGet("/{namespace}/{repo}/scanning/policy", ([FromServices] ScanningEndpoints e, HttpContext c, string @namespace, string repo) => e.GetPolicyAsync(c, @namespace, repo))
            .WithName("GetPullPolicy").WithSummary("Get the repository's pull policy")
            .Produces<ScanPolicyResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        repositories.MapPut("/{namespace}/{repo}/scanning/policy", ([FromServices] ScanningEndpoints e, HttpContext c, string @namespace, string repo) => e.SetPolicyAsync(c, @namespace, repo))
            .WithName("SetPullPolicy").WithSummary("Set the repository's pull policy (repository administrators)")
            .Accepts<ScanPolicyRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<ScanPolicyResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// Recognises the scanning suffixes of a catch-all repository path: <c>repo/manifests/{digest}/scan</c>,
    /// <c>repo/manifests/{digest}/sbom</c> and <c>repo/scanning/policy</c>.
    /// </summary>
    public static bool TryParseRepositoryRoute(string path, out string repo, out string digest, out RouteKind kind)
    {
        repo = "";
        digest = "";
        kind = RouteKind.Scan;
        var segments = path.Split('/');
        if (segments.Length >= 4 && segments[^3] == "manifests" && segments[^2].Contains(':', StringComparison.Ordinal)
            && segments[^1] is "scan" or "sbom")
        {
            repo = string.Join('/', segments[..^3]);
            digest = segments[^2];
            kind = segments[^1] == "scan" ? RouteKind.Scan : RouteKind.Sbom;
            return true;
        }

        if (segments.Length >= 3 && segments[^2] == "scanning" && segments[^1] == "policy")
        {
            repo = string.Join('/', segments[..^2]);
            kind = RouteKind.Policy;
            return true;
        }

        return false;
    }

    // ----- Vulnerability database -----

    private async Task<IResult> GetDatabaseAsync(HttpContext context) =>
        TypedResults.Ok(await ReadDatabaseAsync(context.RequestAborted));

    private async Task<DatabaseResponse> ReadDatabaseAsync(CancellationToken cancellationToken)
    {
        var database = await _store.GetVulnerabilityDatabaseAsync(cancellationToken);
        var queueLength = await _store.CountScanJobsAsync(cancellationToken);
        var status = _updater.Status;
        var options = _options.CurrentValue;
        var online = new OnlineUpdateResponse(
            options.DatabaseUrls.Select(DatabaseUrl.Redact).ToList(),
            options.UpdateInterval.ToString("c", System.Globalization.CultureInfo.InvariantCulture),
            status.LastAttemptAt,
            status.LastSuccessAt,
            status.LastError,
            _updater.IsConfigured ? status.NextAttemptAt : null);
        return new DatabaseResponse(
            database.Version,
            database.UpdatedAt,
            database.RecordCount,
            database.Sources.Select(DatabaseSourceResponse.From).ToList(),
            online,
            _importer.SignatureRequired,
            queueLength);
    }

    private async Task<IResult> PutDatabaseAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "upload a vulnerability database");
        var source = ReadSource(context.Request);
        var cancellationToken = context.RequestAborted;

        // The archive may be far larger than the server's default body limit; SpoolAsync enforces MaxArchiveBytes.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }

        try
        {
            var (archive, signature) = await ReadUploadAsync(context.Request, cancellationToken);
            await using (archive)
            {
                if (archive.Length == 0)
                {
                    throw new DatabaseArchiveException(
                        ArchiveRejection.Invalid,
                        "The request body is empty. Send the OSV archive (zip or gzip-compressed tar) as the body, or as a multipart part named archive.");
                }

                var result = await _importer.ImportAsync(source, archive, signature, null, cancellationToken);
                ScanningHttpLog.Uploaded(_logger, source, Describe(caller), result.RecordCount);
                var database = await ReadDatabaseAsync(cancellationToken);
                return TypedResults.Ok(new DatabaseImportResponse(result.Source, result.RecordCount, result.SkippedCount, result.Unchanged, database));
            }
        }
        catch (DatabaseArchiveException rejected)
        {
            ScanningHttpLog.UploadRejected(_logger, source, Describe(caller), rejected.Message);
            throw rejected.Rejection switch
            {
                ArchiveRejection.TooLarge => ManagementProblem.ContentTooLarge(rejected.Message),
                ArchiveRejection.Conflict => ManagementProblem.Conflict(rejected.Message),
                _ => ManagementProblem.BadRequest(rejected.Message),
            };
        }
    }

    /// <summary>Reads the upload's source name; names taken from a URL are left to the online update.</summary>
    private static string ReadSource(HttpRequest request)
    {
        if (!request.Query.TryGetValue("source", out var values))
        {
            return DefaultSource;
        }

        // A present but empty ?source= is rejected rather than read as the default, so a script whose variable is
        // empty does not replace the "upload" source by mistake.
        var source = values.ToString();
        if (!IsValidSourceName(source))
        {
            throw ManagementProblem.Invalid(
                "source",
                "The source name is invalid: use 1 to 100 characters from letters, digits, '.', '_' and '-', not starting with '.'.");
        }

        return source;
    }

    private static bool IsValidSourceName(string source) =>
        source.Length is >= 1 and <= MaxSourceNameLength
        && source[0] != '.'
        && source.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    private async Task<IResult> DeleteSourceAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "remove a vulnerability database source");
        var source = context.Request.Query["source"].ToString();
        if (string.IsNullOrEmpty(source))
        {
            throw ManagementProblem.Invalid("source", "The source parameter is missing; name the source to remove, as listed by GET .../scanning/database.");
        }

        if (!await _importer.RemoveSourceAsync(source, context.RequestAborted))
        {
            throw ManagementProblem.NotFound($"The vulnerability database has no source '{source}'.");
        }

        ScanningHttpLog.SourceRemoved(_logger, source, Describe(caller));
        return TypedResults.NoContent();
    }

    /// <summary>Reads an upload: the body itself with the signature header, or the multipart parts archive and signature.</summary>
    private async Task<(SpooledArchive Archive, byte[]? Signature)> ReadUploadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!request.HasFormContentType || !MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase))
        {
            var header = request.Headers[SignatureHeader].ToString().Trim();
            if (header.Length > 0 && !IsBase64(header))
            {
                throw ManagementProblem.BadRequest(
                    $"signature invalid: the {SignatureHeader} header is not valid base64. Send the detached signature encoded as base64, for example with 'openssl base64 -A'.");
            }

            var signature = header.Length == 0 ? null : Encoding.ASCII.GetBytes(header);
            return (await _importer.SpoolAsync(request.Body, request.ContentLength, cancellationToken), signature);
        }

        var boundary = HeaderUtilities.RemoveQuotes(contentType.Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw ManagementProblem.BadRequest("The multipart/form-data Content-Type has no boundary.");
        }

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = null };
        SpooledArchive? archive = null;
        byte[]? partSignature = null;
        try
        {
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                var name = ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition)
                    ? HeaderUtilities.RemoveQuotes(disposition.Name).Value
                    : null;
                if (name == "archive" && archive is null)
                {
                    archive = await _importer.SpoolAsync(section.Body, null, cancellationToken);
                }
                else if (name == "signature")
                {
                    partSignature = await ReadSignaturePartAsync(section.Body, cancellationToken);
                }
                else
                {
                    await section.Body.CopyToAsync(Stream.Null, cancellationToken);
                }
            }
        }
        catch (Exception exception)
        {
            // The archive part was spooled before a later part failed, so its temporary file is removed here.
            if (archive is not null)
            {
                await archive.DisposeAsync();
            }

            // MultipartReader throws IOException for a truncated body and InvalidDataException for a malformed one.
            if (exception is IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
            {
                throw ManagementProblem.BadRequest($"The multipart/form-data body is malformed: {exception.Message} Send parts separated by the boundary in the Content-Type.");
            }

            throw;
        }

        return archive is null
            ? throw ManagementProblem.Invalid("archive", "The multipart body has no part named 'archive'; send the OSV archive in a file part named archive.")
            : (archive, partSignature);
    }

    private static bool IsBase64(string text)
    {
        var bytes = new byte[(text.Length / 4 * 3) + 3];
        return Convert.TryFromBase64String(text, bytes, out _);
    }

    private static async Task<byte[]> ReadSignaturePartAsync(Stream body, CancellationToken cancellationToken)
    {
        using var copy = new MemoryStream();
        var buffer = new byte[4096];
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            copy.Write(buffer, 0, read);
            if (copy.Length > ArchiveSignatureVerifier.MaxSignatureLength)
            {
                throw ManagementProblem.BadRequest($"signature invalid: the signature part is larger than {ArchiveSignatureVerifier.MaxSignatureLength} bytes.");
            }
        }

        return copy.ToArray();
    }

    private Task<IResult> StartUpdateAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "start a vulnerability database update");
        if (!_updater.IsConfigured)
        {
            throw ManagementProblem.Conflict("No database URL is set; set scanning.databaseUrls with PATCH /settings or Registry:Scanning:DatabaseUrls, or upload an archive with PUT /scanning/database.");
        }

        ScanningHttpLog.UpdateRequested(_logger, Describe(caller));
        _updater.TriggerNow();
        return Task.FromResult<IResult>(TypedResults.Accepted((string?)null, new UpdateStartedResponse(true)));
    }

    // ----- Scans -----

    /// <summary>Serves POST on the catch-all repository route, where only a scan request exists.</summary>
    public Task<IResult> PostAnyAsync(HttpContext context, string namespaceName, string path) =>
        TryParseRepositoryRoute(path, out var repo, out var digest, out var kind) && kind == RouteKind.Scan
            ? QueueScanAsync(context, namespaceName, repo, digest)
            : throw ManagementProblem.NotFound($"No management endpoint serves {context.Request.Method} {context.Request.Path}.");

    /// <summary>Serves a GET of a scanning suffix on the catch-all repository route.</summary>
    public Task<IResult> GetRouteAsync(HttpContext context, string namespaceName, string repo, string digest, RouteKind kind) => kind switch
    {
        RouteKind.Scan => GetScanAsync(context, namespaceName, repo, digest),
        RouteKind.Sbom => GetSbomAsync(context, namespaceName, repo, digest),
        _ => GetPolicyAsync(context, namespaceName, repo),
    };

    private async Task<IResult> QueueScanAsync(HttpContext context, string namespaceName, string repo, string digestText)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await RequireRepositoryAsync(caller, name, AccessLevel.ReadWrite, "queueing a scan", context.RequestAborted);
        var manifest = await RequireManifestAsync(name, digestText, context.RequestAborted);
        if (!_options.CurrentValue.Enabled)
        {
            throw ManagementProblem.Conflict("Scanning is disabled on this registry; an administrator can enable it with PATCH /settings (scanning.enabled) or Registry:Scanning:Enabled.");
        }

        await _queue.EnqueueAsync(name, manifest.Digest, ScanReason.Request, context.RequestAborted);
        return TypedResults.Accepted((string?)null, new ScanQueuedResponse(ScanReports.Queued, manifest.Digest.Value));
    }

    private async Task<IResult> GetScanAsync(HttpContext context, string namespaceName, string repo, string digestText)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "reading its scans", context.RequestAborted);
        Severity? minimum = null;
        var severityText = context.Request.Query["severity"].ToString();
        if (!string.IsNullOrEmpty(severityText))
        {
            minimum = SeverityNames.TryParse(severityText, out var severity)
                ? severity
                : throw ManagementProblem.Invalid("severity", $"The severity '{severityText}' is invalid; use critical, high, medium, low or unknown.");
        }

        var manifest = await RequireManifestAsync(name, digestText, context.RequestAborted);
        var document = await _reports.WriteAsync(name, manifest, minimum, context.RequestAborted);
        return TypedResults.Text(document, "application/json", Encoding.UTF8);
    }

    private async Task<IResult> GetSbomAsync(HttpContext context, string namespaceName, string repo, string digestText)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "reading its SBOMs", context.RequestAborted);
        var manifest = await RequireManifestAsync(name, digestText, context.RequestAborted);
        if (MediaTypes.IsIndex(manifest.MediaType))
        {
            var children = await _reports.ListImagesAsync(name, manifest, context.RequestAborted);
            var digests = string.Join(", ", children.Select(child => child.Descriptor.Digest.Value));
            throw ManagementProblem.BadRequest(
                $"The manifest {manifest.Digest} is an image index; request the SBOM of one of its image manifests: {digests}.");
        }

        var scan = await _store.GetImageScanAsync(manifest.Digest, context.RequestAborted);
        if (scan?.InventoryJson is null)
        {
            var reason = scan is null ? "has not been scanned yet" : "has no inventory because its last scan failed";
            throw ManagementProblem.Conflict($"The manifest {manifest.Digest} {reason}; queue a scan with POST .../manifests/{manifest.Digest}/scan and try again when it is complete.");
        }

        var inventory = InventoryJson.Deserialize(scan.InventoryJson);
        var findings = StoredFindings.Read(scan.ResultJson, inventory);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            CycloneDxSbom.Write(writer, name.Value, manifest.Digest, inventory, findings, _time.GetUtcNow());
        }

        return TypedResults.Bytes(buffer.ToArray(), CycloneDxContentType);
    }

    // ----- Pull policy -----

    private async Task<IResult> GetPolicyAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await RequireRepositoryAsync(caller, name, AccessLevel.ReadOnly, "reading its pull policy", context.RequestAborted);
        var policy = await _store.GetScanPolicyAsync(name, context.RequestAborted) ?? ScanPolicy.None;
        return TypedResults.Ok(ScanPolicyResponse.From(policy));
    }

    /// <summary>Serves PUT on the catch-all repository route for a policy of a multi-component repository.</summary>
    public Task<IResult> PutPolicyAsync(HttpContext context, string namespaceName, string repo) => SetPolicyAsync(context, namespaceName, repo);

    private async Task<IResult> SetPolicyAsync(HttpContext context, string namespaceName, string repo)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var name = ManagementInput.RequireRepositoryName(namespaceName, repo, "repo");
        await RequireRepositoryAsync(caller, name, AccessLevel.Admin, "changing its pull policy", context.RequestAborted);
        var request = await ManagementInput.ReadBodyAsync<ScanPolicyRequest>(context);
        var policy = ParsePolicy(request);

        await _store.SetScanPolicyAsync(name, policy, context.RequestAborted);
        _policies.Set(name, policy);
        ScanningHttpLog.PolicySet(
            _logger,
            name.Value,
            Describe(caller),
            policy.BlockSeverity is { } severity ? SeverityNames.Format(severity) : "nothing",
            policy.AllowUnscanned,
            policy.Allowlist.Count);
        return TypedResults.Ok(ScanPolicyResponse.From(policy));
    }

    private static ScanPolicy ParsePolicy(ScanPolicyRequest request)
    {
        Severity? block = null;
        if (request.BlockSeverity is { } text)
        {
            block = SeverityNames.TryParse(text, out var severity)
                ? severity
                : throw ManagementProblem.Invalid("blockSeverity", $"The severity '{text}' is invalid; use critical, high, medium, low, unknown or null.");
        }

        var entries = request.Allowlist ?? [];
        if (entries.Count > 1000)
        {
            throw ManagementProblem.Invalid("allowlist", $"The allowlist has {entries.Count} entries; at most 1000 are allowed.");
        }

        var allowlist = new List<AllowlistEntry>(entries.Count);
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i] ?? throw ManagementProblem.Invalid($"allowlist[{i}]", "An allowlist entry is null; send an object with an id.");
            if (string.IsNullOrWhiteSpace(entry.Id) || entry.Id.Length > 200)
            {
                throw ManagementProblem.Invalid($"allowlist[{i}].id", "Each allowlist entry needs an id of 1 to 200 characters, such as CVE-2023-4911.");
            }

            allowlist.Add(new AllowlistEntry(entry.Id.Trim(), entry.ExpiresAt, ManagementInput.CheckText(entry.Reason, $"allowlist[{i}].reason")));
        }

        return new ScanPolicy(block, request.AllowUnscanned ?? true, allowlist);
    }

    // ----- Helpers -----

    private ValueTask RequireRepositoryAsync(Security.RegistryCaller caller, RepositoryName name, AccessLevel required, string action, CancellationToken cancellationToken) =>
        _access.RequireRepositoryContentAsync(caller, name, required, action, cancellationToken);

    private async Task<StoredManifest> RequireManifestAsync(RepositoryName repository, string digestText, CancellationToken cancellationToken)
    {
        if (!Digest.TryParse(digestText, out var digest, out var error))
        {
            throw ManagementProblem.Invalid("digest", error);
        }

        return await _metadata.GetManifestAsync(repository, ManifestReference.ForDigest(digest), cancellationToken)
            ?? throw ManagementProblem.NotFound($"The repository '{repository}' has no manifest {digest}.");
    }

    private static string Describe(Security.RegistryCaller caller) => UserEndpoints.Describe(caller);
}

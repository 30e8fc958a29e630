using Dtr.Gc;
using Dtr.Scanning.Service;

namespace Dtr.AspNetCore.Configuration;

/// <summary>
/// Settings of the registry endpoints. Bind them from the <c>Registry</c> configuration section or set them in
/// <c>AddDockerRegistry(options => …)</c>; they are validated when the host starts.
/// </summary>
public sealed class RegistryOptions
{
    /// <summary>The configuration section the sample host binds: <c>Registry</c>.</summary>
    public const string SectionName = "Registry";

    /// <summary>
    /// The folder of the embedded storage: blobs under <c>blobs/</c> and the SQLite database
    /// <c>registry.db</c>. A relative path is resolved against the process's current directory. Required.
    /// </summary>
    public string? DataDirectory { get; set; }

    /// <summary>
    /// The externally visible base URL, such as <c>https://registry.example.com</c>, used to build
    /// <c>Location</c> headers when the registry runs behind a load balancer or reverse proxy. When null, the
    /// request's own scheme and host are used.
    /// </summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>
    /// The largest manifest accepted by <c>PUT /v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>, in bytes;
    /// larger manifests get 413. Default 4 MiB, the minimum the OCI distribution specification
    /// requires registries to accept.
    /// </summary>
    public int MaxManifestBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// The largest blob accepted in one upload, in bytes, or null for no limit (the default).
    /// </summary>
    public long? MaxBlobBytes { get; set; }

    /// <summary>Whether clients may delete manifests, tags and blobs. Default true.</summary>
    public bool DeleteEnabled { get; set; } = true;

    /// <summary>
    /// The page size of tag and catalog listings when the request gives no <c>n</c>, and the cap on <c>n</c>
    /// (a larger <c>n</c> returns this many results and a <c>Link</c> header). Default 1000.
    /// </summary>
    public int MaxPageSize { get; set; } = 1000;

    /// <summary>
    /// The size of the buffer each upload request uses to batch writes to storage, in bytes. Default 1 MiB.
    /// Larger buffers mean fewer storage calls per blob; each concurrent upload uses one buffer.
    /// </summary>
    public int UploadBufferBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a request's lease on an upload lasts before it must be renewed. A request renews its lease while the
    /// body arrives. Another request for the same upload, on this host or on another one that shares the metadata
    /// store, waits for the lease for at most this long and then fails with BLOB_UPLOAD_INVALID. It is also how
    /// long an upload stays blocked after the host that held its lease crashed. Default 2 minutes; from 5 seconds
    /// to 1 hour. The hosts' clocks must agree to well within half of it.
    /// </summary>
    public TimeSpan UploadLeaseDuration { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Whether a push to a repository that does not exist creates it (private, in the pusher's own namespace or an
    /// organization they own). Default false: a push to a missing repository gets <c>NAME_UNKNOWN</c>, and
    /// repositories are created through the management API.
    /// </summary>
    public bool CreateRepositoryOnPush { get; set; }

    /// <summary>The path prefix of the management REST API. Default <c>/api/v0</c>.</summary>
    public string ManagementApiPrefix { get; set; } = "/api/v0";

    /// <summary>
    /// Whether a blob <c>GET</c> is answered with a 307 redirect to a short-lived URL of the storage service (a
    /// presigned S3 URL or an Azure SAS URL) instead of the bytes, so downloads bypass the registry hosts. Takes effect
    /// only with a blob store that implements <see cref="Dtr.Storage.IBlobRedirectSource"/>; clients must be able to
    /// reach the storage endpoint. <c>HEAD</c> is always answered by the registry. Default false.
    /// </summary>
    public bool RedirectBlobDownloads { get; set; }

    /// <summary>How long a redirect URL stays valid. Default 10 minutes; at most 7 days, the S3 limit for presigned URLs.</summary>
    public TimeSpan RedirectLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How often each host reads the runtime settings that administrators change through <c>PATCH /settings</c> from
    /// the metadata store, so a change made through another host applies here within this interval. The host that
    /// saves a change applies it at once. Default 30 seconds; from 1 second to 1 hour.
    /// </summary>
    public TimeSpan SettingsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Authentication and authorization settings (<c>Registry:Auth</c>).</summary>
    public RegistryAuthOptions Auth { get; set; } = new();

    /// <summary>The HTTPS certificate (<c>Registry:Tls</c>).</summary>
    public RegistryTlsOptions Tls { get; set; } = new();

    /// <summary>Sign-in with TLS client certificates and the client bundles the registry issues (<c>Registry:ClientCertificates</c>).</summary>
    public RegistryClientCertificateOptions ClientCertificates { get; set; } = new();

    /// <summary>The first system administrator (<c>Registry:Admin</c>).</summary>
    public RegistryAdminOptions Admin { get; set; } = new();

    /// <summary>Image scanning and the vulnerability database (<c>Registry:Scanning</c>).</summary>
    public ScanningOptions Scanning { get; set; } = new();

    /// <summary>Garbage collection: grace period, schedule and run limits (<c>Registry:GarbageCollection</c>).</summary>
    public GarbageCollectionOptions GarbageCollection { get; set; } = new();

    /// <summary>The audit log (<c>Registry:Audit</c>).</summary>
    public RegistryAuditOptions Audit { get; set; } = new();
}

/// <summary>The audit log settings (<c>Registry:Audit</c>).</summary>
public sealed class RegistryAuditOptions
{
    /// <summary>
    /// How long audit entries are kept. The host deletes older entries at start and then every hour. Default 90 days;
    /// from 1 day to 3650 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(90);
}

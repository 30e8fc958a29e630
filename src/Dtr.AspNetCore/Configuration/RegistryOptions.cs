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

    /// <summary>Webhook delivery (<c>Registry:Webhooks</c>).</summary>
    public RegistryWebhookOptions Webhooks { get; set; } = new();
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

/// <summary>Webhook delivery settings (<c>Registry:Webhooks</c>).</summary>
/// <remarks>
/// A host sends a claimed delivery up to <see cref="AttemptsPerRound"/> times in a row, waiting
/// <see cref="RetryDelay"/> and then twice as long before each retry, with jitter. When every attempt of the round
/// fails, the delivery waits <see cref="RescheduleDelay"/>, doubled for each earlier round up to
/// <see cref="MaxRescheduleDelay"/>, and any host may claim it again. It fails for good after
/// <see cref="MaxAttempts"/> attempts, or when it is older than <see cref="MaxAge"/>.
/// </remarks>
public sealed class RegistryWebhookOptions
{
    /// <summary>Whether events are queued and sent. When false, no event is recorded and queued deliveries wait. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The time an attempt may take until the response headers arrive. Default 10 seconds; from 1 second to 5 minutes.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The number of attempts a host makes in a row after it claims a delivery. Default 3; from 1 to 10.</summary>
    public int AttemptsPerRound { get; set; } = 3;

    /// <summary>The delay before the first retry within a round, doubled for each later one. Default 2 seconds; from 0 to 1 minute.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The delay after the first failed round, doubled for each later round. Default 1 minute; from 1 second to 1 day.</summary>
    public TimeSpan RescheduleDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest delay between two rounds. Default 1 hour; from 1 second to 1 day, and not below <see cref="RescheduleDelay"/>.</summary>
    public TimeSpan MaxRescheduleDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The number of attempts after which a delivery fails. Default 15; from 1 to 100.</summary>
    public int MaxAttempts { get; set; } = 15;

    /// <summary>The age after which a delivery that still fails is given up. Default 1 day; from 1 minute to 30 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// How long a claimed delivery stays with its host before another host may claim it. It must cover a whole round:
    /// <see cref="AttemptsPerRound"/> times <see cref="AttemptTimeout"/> plus the retry delays. Default 5 minutes.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The number of deliveries a host sends at once. Default 4; from 1 to 64.</summary>
    public int Concurrency { get; set; } = 4;

    /// <summary>How often a host looks for deliveries queued by other hosts or due for a retry. Default 5 seconds; from 100 ms to 5 minutes.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the delivery log and finished deliveries are kept. Default 14 days; from 1 hour to 365 days.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(14);

    /// <summary>
    /// Whether a webhook URL may point at a loopback, private (RFC 1918, unique local), link-local or unspecified
    /// address. Default true, because administrators configure webhooks, often for receivers inside their network.
    /// When false, such URLs are rejected when a webhook is saved, and every connection is checked again after DNS
    /// resolution, so a host name that resolves to such an address fails too.
    /// </summary>
    public bool AllowPrivateAddresses { get; set; } = true;
}

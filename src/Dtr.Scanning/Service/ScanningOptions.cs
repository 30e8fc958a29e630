namespace Dtr.Scanning.Service;

/// <summary>
/// Settings of image scanning, bound from <c>Registry:Scanning</c>. They are validated when the host starts, and a
/// wrong value stops it with a message that names the setting.
/// </summary>
public sealed class ScanningOptions
{
    /// <summary>The configuration section, relative to <c>Registry</c>: <c>Scanning</c>.</summary>
    public const string SectionName = "Scanning";

    /// <summary>Whether scans run on this host. When false, no worker starts and scan requests get 409. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>How many scans this host runs at once. Default 2; from 1 to 64.</summary>
    public int Concurrency { get; set; } = 2;

    /// <summary>
    /// The largest decompressed layer that is read to its end, in bytes. Reading stops at this size and the scan is
    /// partial. Default 4 GiB.
    /// </summary>
    public long MaxLayerBytes { get; set; } = 4L * 1024 * 1024 * 1024;

    /// <summary>The largest number of tar entries read from one layer. Default 1,000,000.</summary>
    public int MaxLayerEntries { get; set; } = 1_000_000;

    /// <summary>The largest package database file (such as <c>var/lib/dpkg/status</c>) that is parsed, in bytes. Default 64 MiB.</summary>
    public long MaxPackageDatabaseBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// The URLs of OSV archives (zip or gzip-compressed tar) that the online update downloads. Empty by default, and
    /// then the registry sends no outbound request.
    /// </summary>
    public IList<Uri> DatabaseUrls { get; } = new List<Uri>();

    /// <summary>How often the online update runs. Default 1 day; from 1 minute to 30 days.</summary>
    public TimeSpan UpdateInterval { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The PEM text of an ECDSA or RSA public key. When it or <see cref="PublicKeyFile"/> is set, every archive needs a
    /// detached signature made with the matching private key: an upload in its request, an online archive at
    /// <c>&lt;url&gt;.sig</c> or at the URL that <see cref="SignatureUrls"/> maps it to.
    /// </summary>
    public string? PublicKeyPem { get; set; }

    /// <summary>The path of a PEM file with the public key; an alternative to <see cref="PublicKeyPem"/>.</summary>
    public string? PublicKeyFile { get; set; }

    /// <summary>
    /// The signature URL of each database URL whose signature is not at <c>&lt;url&gt;.sig</c>. The key is the database
    /// URL's position in <see cref="DatabaseUrls"/> (<c>0</c>, <c>1</c>, …), which configuration keys can hold, or the
    /// URL itself when set in code.
    /// </summary>
    public IDictionary<string, Uri> SignatureUrls { get; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>The largest archive that is downloaded or accepted as an upload, in bytes. Default 2 GiB.</summary>
    public long MaxArchiveBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>
    /// How many times a scan job is claimed before it is given up and recorded as failed. A claim is repeated when the
    /// host that held it stopped before finishing. Default 3; from 1 to 100.
    /// </summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>
    /// How long a host's claim on a scan job lasts unless it is renewed. A running scan renews it at a third of this
    /// period, and a job whose host died is retried once it expires. Default 5 minutes; from 10 seconds to 1 hour.
    /// </summary>
    public TimeSpan JobLeaseDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The folder where archives are copied before they are imported; the registry sets it to a folder in its data
    /// directory. Null means the system's temporary folder.
    /// </summary>
    internal string? SpoolDirectory { get; set; }
}

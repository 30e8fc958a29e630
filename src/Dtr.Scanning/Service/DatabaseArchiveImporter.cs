using System.Security.Cryptography;
using Dtr.Scanning.Vulnerabilities;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.Scanning.Service;

/// <summary>Why an archive was rejected.</summary>
internal enum ArchiveRejection
{
    /// <summary>The archive is not a zip or gzip-compressed tar of OSV records.</summary>
    Invalid,

    /// <summary>A public key is configured and the archive came without a signature.</summary>
    SignatureRequired,

    /// <summary>The signature does not verify against the configured public key.</summary>
    SignatureInvalid,

    /// <summary>The archive is larger than <see cref="ScanningOptions.MaxArchiveBytes"/>.</summary>
    TooLarge,

    /// <summary>Another import of the same source began while this one ran and replaced it.</summary>
    Conflict,
}

/// <summary>A vulnerability database archive that was rejected; the previous database stays in use.</summary>
internal sealed class DatabaseArchiveException(ArchiveRejection rejection, string message, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>Why the archive was rejected.</summary>
    public ArchiveRejection Rejection { get; } = rejection;
}

/// <summary>An archive copied to a temporary file, with its SHA-256 hash. Disposing it deletes the file.</summary>
internal sealed class SpooledArchive : IAsyncDisposable
{
    public SpooledArchive(string path, byte[] sha256, long length)
    {
        Path = path;
        Sha256 = sha256;
        Length = length;
    }

    /// <summary>The temporary file.</summary>
    public string Path { get; }

    /// <summary>The SHA-256 hash of the bytes, computed while they were written.</summary>
    public byte[] Sha256 { get; }

    /// <summary>The size in bytes.</summary>
    public long Length { get; }

    /// <summary>The digest in OCI form, <c>sha256:&lt;hex&gt;</c>.</summary>
    public string Digest => "sha256:" + Convert.ToHexStringLower(Sha256);

    public ValueTask DisposeAsync()
    {
        try
        {
            File.Delete(Path);
        }
        catch (IOException)
        {
            // A file that cannot be deleted now is left in the temporary folder.
        }

        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// Imports vulnerability database archives, uploaded or downloaded: copies each to a temporary file within the size
/// limit, checks its signature when a public key is configured, imports it, and starts the re-match of stored scans.
/// </summary>
internal sealed class DatabaseArchiveImporter
{
    private const int CopyBufferBytes = 81920;

    private readonly IVulnerabilityDatabase _database;
    private readonly IScanStore _store;
    private readonly VulnerabilityRematcher _rematcher;
    private readonly ScanningOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<DatabaseArchiveImporter> _logger;

    public DatabaseArchiveImporter(
        IVulnerabilityDatabase database,
        IScanStore store,
        VulnerabilityRematcher rematcher,
        IOptions<ScanningOptions> options,
        TimeProvider time,
        ILogger<DatabaseArchiveImporter> logger)
    {
        _database = database;
        _store = store;
        _rematcher = rematcher;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    /// <summary>Whether a public key is configured, so every archive needs a signature.</summary>
    public bool SignatureRequired =>
        !string.IsNullOrWhiteSpace(_options.PublicKeyPem) || !string.IsNullOrWhiteSpace(_options.PublicKeyFile);

    /// <summary>The folder for temporary archive files: <see cref="ScanningOptions.SpoolDirectory"/> or the system's temporary folder.</summary>
    public string SpoolDirectory => _options.SpoolDirectory ?? System.IO.Path.GetTempPath();

    /// <summary>Copies an archive to a temporary file, hashing it on the way.</summary>
    /// <param name="declaredLength">The length the sender declared, checked before any byte is read; null when unknown.</param>
    /// <exception cref="DatabaseArchiveException">The archive is larger than <see cref="ScanningOptions.MaxArchiveBytes"/>.</exception>
    public async Task<SpooledArchive> SpoolAsync(Stream content, long? declaredLength, CancellationToken cancellationToken)
    {
        if (declaredLength > _options.MaxArchiveBytes)
        {
            throw TooLarge();
        }

        Directory.CreateDirectory(SpoolDirectory);
        var path = System.IO.Path.Combine(SpoolDirectory, $"vulnerability-archive-{Guid.NewGuid():N}.tmp");
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long length = 0;
        try
        {
            await using (var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, CopyBufferBytes, useAsync: true))
            {
                var buffer = new byte[CopyBufferBytes];
                int read;
                while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
                {
                    length += read;
                    if (length > _options.MaxArchiveBytes)
                    {
                        throw TooLarge();
                    }

                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                }
            }

            return new SpooledArchive(path, hash.GetHashAndReset(), length);
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    /// <summary>
    /// Checks the signature when a key is configured, imports the archive as <paramref name="source"/> and starts the
    /// re-match. An archive with the digest of the source's current copy changes nothing and returns a result with
    /// <see cref="ImportResult.Unchanged"/> set.
    /// </summary>
    /// <param name="signature">The detached signature, raw or base64; null when none came with the archive.</param>
    /// <param name="update">The ETag and Last-Modified of a downloaded archive; the digest and signature fields are set here.</param>
    /// <exception cref="DatabaseArchiveException">
    /// The signature is missing or invalid, the archive is not valid, or another import of the source replaced this one.
    /// </exception>
    public async Task<ImportResult> ImportAsync(
        string source,
        SpooledArchive archive,
        byte[]? signature,
        VulnerabilitySourceUpdate? update,
        CancellationToken cancellationToken)
    {
        var verified = VerifySignature(archive, signature);

        // An identical archive would only raise the version and re-match every stored scan for nothing.
        var current = await _store.GetVulnerabilityDatabaseAsync(cancellationToken);
        var existing = current.Sources.FirstOrDefault(candidate => string.Equals(candidate.Name, source, StringComparison.Ordinal));
        if (existing is not null && string.Equals(existing.ArchiveDigest, archive.Digest, StringComparison.Ordinal))
        {
            ScanningLog.SourceUnchanged(_logger, source, archive.Digest);
            return new ImportResult(source, existing.RecordCount, 0, current) { Unchanged = true };
        }

        update = (update ?? new VulnerabilitySourceUpdate(0, _time.GetUtcNow())) with
        {
            ArchiveDigest = archive.Digest,
            SignatureVerified = verified,
        };

        ImportResult result;
        await using (var stream = new FileStream(archive.Path, FileMode.Open, FileAccess.Read, FileShare.Read, CopyBufferBytes, useAsync: true))
        {
            try
            {
                result = await _database.ImportAsync(source, stream, update, cancellationToken);
            }
            catch (InvalidDataException invalid)
            {
                // The messages of the reader and the database name the problem: not an archive, corrupt, or without records.
                throw new DatabaseArchiveException(ArchiveRejection.Invalid, invalid.Message, invalid);
            }
            catch (InvalidOperationException replaced) when (!cancellationToken.IsCancellationRequested)
            {
                // Both stores throw this when completing an import that a newer import of the same source replaced.
                throw new DatabaseArchiveException(
                    ArchiveRejection.Conflict,
                    $"Another import of source '{source}' ran at the same time and replaced this one; retry the upload.",
                    replaced);
            }
        }

        ScanningLog.SourceImported(_logger, source, result.RecordCount, result.SkippedCount, result.Database.Version);
        _rematcher.Signal.Set();
        return result;
    }

    /// <summary>Removes a source and starts the re-match; returns false when there is no such source.</summary>
    public async Task<bool> RemoveSourceAsync(string source, CancellationToken cancellationToken)
    {
        if (!await _store.RemoveVulnerabilitySourceAsync(source, cancellationToken))
        {
            return false;
        }

        _rematcher.Signal.Set();
        return true;
    }

    /// <summary>Returns whether the signature was verified; throws when a key is configured and it is missing or wrong.</summary>
    private bool VerifySignature(SpooledArchive archive, byte[]? signature)
    {
        using var verifier = ArchiveSignatureVerifier.FromOptions(_options);
        if (verifier is null)
        {
            return false;
        }

        var setting = string.IsNullOrWhiteSpace(_options.PublicKeyPem) ? "Registry:Scanning:PublicKeyFile" : "Registry:Scanning:PublicKeyPem";
        if (signature is null || signature.Length == 0)
        {
            throw new DatabaseArchiveException(
                ArchiveRejection.SignatureRequired,
                $"signature required: {setting} is set, so the archive needs a detached SHA-256 signature made with the matching private key.");
        }

        if (!verifier.Verify(archive.Sha256, signature))
        {
            throw new DatabaseArchiveException(
                ArchiveRejection.SignatureInvalid,
                $"signature invalid: the signature does not verify against the public key in {setting}; sign the archive with 'openssl dgst -sha256 -sign key.pem'.");
        }

        return true;
    }

    private DatabaseArchiveException TooLarge() => new(
        ArchiveRejection.TooLarge,
        $"The archive is larger than Registry:Scanning:MaxArchiveBytes ({_options.MaxArchiveBytes} bytes).");
}

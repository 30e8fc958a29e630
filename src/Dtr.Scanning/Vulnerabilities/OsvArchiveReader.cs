using System.Formats.Tar;
using System.IO.Compression;

namespace Dtr.Scanning.Vulnerabilities;

/// <summary>One <c>*.json</c> file of an archive.</summary>
/// <param name="Name">The entry's path in the archive.</param>
/// <param name="Content">The file's bytes, or null when the file is larger than <see cref="OsvArchiveReader.MaxRecordBytes"/>.</param>
internal sealed record OsvArchiveFile(string Name, byte[]? Content);

/// <summary>
/// Reads the <c>*.json</c> files of an OSV archive one at a time: a zip, such as osv.dev's per-ecosystem
/// <c>all.zip</c>, or a gzip-compressed tar, detected by their first bytes. Only one file is in memory at once.
/// </summary>
internal sealed class OsvArchiveReader : IAsyncDisposable
{
    /// <summary>
    /// The maximum size of one record, so that a hostile archive cannot make one entry fill memory. Larger files are
    /// skipped and counted.
    /// </summary>
    /// <remarks>NOTE: 32 MiB is a guess with a wide margin, not a measured maximum of osv.dev's records.</remarks>
    public const int MaxRecordBytes = 32 * 1024 * 1024;

    private readonly Stream _content;
    private readonly bool _ownsContent;
    private readonly ZipArchive? _zip;
    private readonly TarReader? _tar;
    private readonly GZipStream? _gzip;
    private int _zipIndex;

    private OsvArchiveReader(Stream content, bool ownsContent, ZipArchive? zip, GZipStream? gzip, TarReader? tar)
    {
        _content = content;
        _ownsContent = ownsContent;
        _zip = zip;
        _gzip = gzip;
        _tar = tar;
    }

    /// <summary>
    /// Detects the archive format and prepares to read. A zip needs random access, so a stream that cannot seek is
    /// first copied to a temporary file, which is deleted when the reader is disposed.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is neither a zip nor a gzip file, or its zip directory is corrupt.</exception>
    public static async ValueTask<OsvArchiveReader> OpenAsync(Stream archive, CancellationToken cancellationToken)
    {
        var header = new byte[4];
        var headerLength = await archive.ReadAtLeastAsync(header, header.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);

        if (headerLength == 0)
        {
            throw new InvalidDataException("The vulnerability archive is empty (0 bytes). Send an OSV archive such as osv.dev's all.zip.");
        }

        if (headerLength >= 2 && header[0] == 0x1F && header[1] == 0x8B)
        {
            var content = new PrefixedReadStream(header.AsMemory(0, headerLength), archive);
            var gzip = new GZipStream(content, CompressionMode.Decompress, leaveOpen: true);
            return new OsvArchiveReader(content, ownsContent: true, zip: null, gzip, new TarReader(gzip, leaveOpen: true));
        }

        // "PK\x03\x04" starts a zip with entries, "PK\x05\x06" an empty one.
        if (headerLength == 4 && header[0] == 'P' && header[1] == 'K' && ((header[2] == 3 && header[3] == 4) || (header[2] == 5 && header[3] == 6)))
        {
            var (content, owns) = await SeekableAsync(archive, header, cancellationToken).ConfigureAwait(false);
            try
            {
                var zip = new ZipArchive(content, ZipArchiveMode.Read, leaveOpen: true);
                return new OsvArchiveReader(content, owns, zip, gzip: null, tar: null);
            }
            catch (InvalidDataException exception)
            {
                if (owns)
                {
                    await content.DisposeAsync().ConfigureAwait(false);
                }

                throw new InvalidDataException($"The vulnerability archive is a corrupt zip file: {exception.Message}", exception);
            }
        }

        throw new InvalidDataException(
            $"The vulnerability archive is neither a zip file nor a gzip-compressed tar file (it starts with bytes " +
            $"{Convert.ToHexString(header, 0, headerLength)}). An OSV archive, such as osv.dev's per-ecosystem all.zip, is expected.");
    }

    /// <summary>Returns the next <c>*.json</c> file, or null at the end of the archive.</summary>
    /// <exception cref="InvalidDataException">The archive is corrupt or truncated.</exception>
    public async ValueTask<OsvArchiveFile?> ReadNextAsync(CancellationToken cancellationToken)
    {
        try
        {
            return _zip is not null
                ? await ReadNextZipEntryAsync(cancellationToken).ConfigureAwait(false)
                : await ReadNextTarEntryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new InvalidDataException($"The vulnerability archive is corrupt or truncated: {exception.Message}", exception);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _zip?.Dispose();
        if (_tar is not null)
        {
            await _tar.DisposeAsync().ConfigureAwait(false);
        }

        if (_gzip is not null)
        {
            await _gzip.DisposeAsync().ConfigureAwait(false);
        }

        if (_ownsContent)
        {
            await _content.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<OsvArchiveFile?> ReadNextZipEntryAsync(CancellationToken cancellationToken)
    {
        var entries = _zip!.Entries;
        while (_zipIndex < entries.Count)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var entry = entries[_zipIndex++];
            if (!IsJsonFile(entry.FullName) || entry.FullName.EndsWith('/'))
            {
                continue;
            }

            if (entry.Length > MaxRecordBytes)
            {
                return new OsvArchiveFile(entry.FullName, null);
            }

            var stream = entry.Open();
            await using (stream.ConfigureAwait(false))
            {
                return new OsvArchiveFile(entry.FullName, await ReadCappedAsync(stream, cancellationToken).ConfigureAwait(false));
            }
        }

        return null;
    }

    private async ValueTask<OsvArchiveFile?> ReadNextTarEntryAsync(CancellationToken cancellationToken)
    {
        while (await _tar!.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
        {
            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile) || !IsJsonFile(entry.Name))
            {
                continue;
            }

            if (entry.DataStream is null)
            {
                return new OsvArchiveFile(entry.Name, []);
            }

            if (entry.Length > MaxRecordBytes)
            {
                return new OsvArchiveFile(entry.Name, null);
            }

            return new OsvArchiveFile(entry.Name, await ReadCappedAsync(entry.DataStream, cancellationToken).ConfigureAwait(false));
        }

        return null;
    }

    private static bool IsJsonFile(string name) => name.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>Reads a whole entry, or returns null when it turns out longer than <see cref="MaxRecordBytes"/>.</summary>
    private static async ValueTask<byte[]?> ReadCappedAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxRecordBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private static async ValueTask<(Stream Content, bool Owns)> SeekableAsync(Stream archive, byte[] header, CancellationToken cancellationToken)
    {
        if (archive.CanSeek)
        {
            archive.Seek(-header.Length, SeekOrigin.Current);
            return (archive, false);
        }

        var path = Path.Combine(Path.GetTempPath(), $"dtr-osv-{Guid.NewGuid():N}.zip");
        var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        try
        {
            await spool.WriteAsync(header, cancellationToken).ConfigureAwait(false);
            await archive.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
            spool.Position = 0;
            return (spool, true);
        }
        catch
        {
            await spool.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Dtr.Digests;
using Microsoft.Data.Sqlite;
using ZstdSharp;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Reads layer blobs as streams, without unpacking them to disk, and records their whiteouts, release files and
/// package databases (dpkg, apk, rpm's <c>rpmdb.sqlite</c> and .NET <c>*.deps.json</c>); then merges the analyses of
/// an image's layers into its inventory.
/// </summary>
/// <remarks>
/// Compression is detected from the first bytes (gzip <c>1f 8b</c>, zstd <c>28 b5 2f fd</c>, otherwise plain tar),
/// not from the media type, which only decides whether the blob is a filesystem layer at all. Entries that are not
/// recognised are skipped without being buffered. The rules for each database are on its parser:
/// <see cref="DpkgStatusParser"/>, <see cref="ApkDatabaseParser"/>, <see cref="RpmDatabaseReader"/> and
/// <see cref="DepsJsonParser"/>.
/// </remarks>
public sealed class LayerAnalyzer : ILayerAnalyzer
{
    /// <summary>The analysis format version that <see cref="Version"/> returns.</summary>
    internal const int FormatVersion = 3;

    private const int ReadBufferBytes = 1024 * 1024;
    private const int PooledFileBytes = 1024 * 1024;

    private static readonly HashSet<string> FilesystemLayerMediaTypes = new(StringComparer.Ordinal)
    {
        "application/vnd.oci.image.layer.v1.tar",
        "application/vnd.oci.image.layer.v1.tar+gzip",
        "application/vnd.oci.image.layer.v1.tar+zstd",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
        "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
        "application/vnd.docker.image.rootfs.diff.tar",
        "application/vnd.docker.image.rootfs.diff.tar.gzip",
        "application/vnd.docker.image.rootfs.diff.tar.zstd",
        "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
    };

    private static readonly byte[] GzipMagic = [0x1f, 0x8b];
    private static readonly byte[] ZstdMagic = [0x28, 0xb5, 0x2f, 0xfd];

    private readonly LayerAnalyzerLimits _limits;

    /// <summary>Creates an analyzer with the given limits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A limit is not positive.</exception>
    public LayerAnalyzer(LayerAnalyzerLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxDecompressedBytes, nameof(limits));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxEntries, nameof(limits));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limits.MaxPackageDatabaseBytes, nameof(limits));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(limits.MaxPackageDatabaseBytes, Array.MaxLength, nameof(limits));
        _limits = limits;
    }

    /// <inheritdoc />
    public int Version => FormatVersion;

    /// <inheritdoc />
    /// <remarks>
    /// An exception thrown by <paramref name="content"/> itself propagates, because the layer may read fine on the next
    /// attempt. Errors in the decompressed data or the tar format give <see cref="LayerReadStatus.Unreadable"/>.
    /// </remarks>
    public async ValueTask<string> AnalyzeAsync(Digest layer, string mediaType, Stream content, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mediaType);
        ArgumentNullException.ThrowIfNull(content);

        var document = new LayerAnalysisDocument { Version = FormatVersion };
        if (!FilesystemLayerMediaTypes.Contains(mediaType))
        {
            document.Status = LayerReadStatus.Skipped;
            document.Message = $"The media type '{mediaType}' is not a filesystem layer type that the analyzer reads, so the layer was skipped.";
        }
        else
        {
            await ReadLayerAsync(content, document, cancellationToken).ConfigureAwait(false);
        }

        return JsonSerializer.Serialize(document, LayerAnalysisJsonContext.Default.LayerAnalysisDocument);
    }

    /// <inheritdoc />
    public ImageInventory BuildInventory(IReadOnlyList<(Digest Layer, string AnalysisJson)> layers)
    {
        ArgumentNullException.ThrowIfNull(layers);
        return InventoryBuilder.Build(layers, FormatVersion);
    }

    private async Task ReadLayerAsync(Stream content, LayerAnalysisDocument document, CancellationToken cancellationToken)
    {
        var magic = new byte[4];
        var magicLength = await content.ReadAtLeastAsync(magic, magic.Length, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        var source = new LayerSourceStream(content, magic, magicLength);
        var magicBytes = magic.AsSpan(0, magicLength);
        var compression = magicBytes.StartsWith(GzipMagic) ? LayerCompression.Gzip
            : magicBytes.StartsWith(ZstdMagic) ? LayerCompression.Zstd
            : LayerCompression.None;

        var buffered = new BufferedStream(source, ReadBufferBytes);
        Stream decompressed = compression switch
        {
            LayerCompression.Gzip => new GZipStream(buffered, CompressionMode.Decompress, leaveOpen: true),
            LayerCompression.Zstd => new DecompressionStream(buffered, ReadBufferBytes, checkEndOfStream: true, leaveOpen: true),
            _ => buffered,
        };

        var drainBuffer = ArrayPool<byte>.Shared.Rent(ReadBufferBytes);
        var files = new Dictionary<string, RecordedFile>(StringComparer.Ordinal);
        var whiteouts = new HashSet<string>(StringComparer.Ordinal);
        var opaqueDirectories = new HashSet<string>(StringComparer.Ordinal);
        var pendingLinkTargets = new Dictionary<string, RecordedFileKind>(StringComparer.Ordinal);
        try
        {
            // The decompressed bytes are counted as the tar reader consumes them, through a large buffer because the
            // reader reads each header as a 512-byte block.
            var counting = new CountingStream(decompressed == buffered ? buffered : new BufferedStream(decompressed, ReadBufferBytes), _limits.MaxDecompressedBytes);
            var reader = new TarReader(counting, leaveOpen: true);
            await using (reader.ConfigureAwait(false))
            {
                var entryCount = 0;
                document.Status = LayerReadStatus.Complete;
                while (await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false) is { } entry)
                {
                    if (++entryCount > _limits.MaxEntries)
                    {
                        document.Status = LayerReadStatus.LimitExceeded;
                        document.Message = $"The layer has more than {_limits.MaxEntries} entries, the limit set by {_limits.MaxEntriesSetting}; later entries were not read.";
                        break;
                    }

                    await RecordEntryAsync(entry, files, whiteouts, opaqueDirectories, pendingLinkTargets, cancellationToken).ConfigureAwait(false);

                    // Unread entry data is drained here in 1 MiB reads rather than left for TarReader to skip.
                    if (entry.DataStream is { } data)
                    {
                        while (await data.ReadAsync(drainBuffer, cancellationToken).ConfigureAwait(false) > 0)
                        {
                        }
                    }
                }
            }
        }
        catch (LayerLimitExceededException)
        {
            document.Status = LayerReadStatus.LimitExceeded;
            document.Message = $"The layer decompresses to more than {_limits.MaxDecompressedBytes} bytes, the limit set by {_limits.MaxDecompressedBytesSetting}; later entries were not read.";
        }
        catch (Exception exception) when (!source.SourceFailed && IsContentError(exception))
        {
            document.Status = LayerReadStatus.Unreadable;
            var format = compression switch
            {
                LayerCompression.Gzip => "gzip-compressed tar",
                LayerCompression.Zstd => "zstd-compressed tar",
                _ => "tar",
            };
            document.Message = $"The layer is not a readable {format} archive: {exception.Message}";
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(drainBuffer);
            if (decompressed != buffered)
            {
                await decompressed.DisposeAsync().ConfigureAwait(false);
            }
        }

        // Entries read before a limit or an error are kept: they are what the layer certainly contains.
        document.Whiteouts = [.. whiteouts.Order(StringComparer.Ordinal)];
        document.OpaqueDirectories = [.. opaqueDirectories.Order(StringComparer.Ordinal)];
        document.Files = [.. files.Values.OrderBy(file => file.Path, StringComparer.Ordinal)];
    }

    // Decompressors and TarReader report bad data with these types. LayerSourceStream.SourceFailed separates a read
    // error of the caller's stream, which also surfaces as an IOException.
    private static bool IsContentError(Exception exception) =>
        exception is InvalidDataException or IOException or FormatException or ZstdException or ArgumentException or OverflowException or NotSupportedException;

    private async Task RecordEntryAsync(
        TarEntry entry,
        Dictionary<string, RecordedFile> files,
        HashSet<string> whiteouts,
        HashSet<string> opaqueDirectories,
        Dictionary<string, RecordedFileKind> pendingLinkTargets,
        CancellationToken cancellationToken)
    {
        var path = LayerPaths.Normalize(entry.Name);
        if (path.Length == 0)
        {
            return;
        }

        var slash = path.LastIndexOf('/');
        var fileName = path.AsSpan(slash + 1);
        if (fileName.StartsWith(LayerPaths.WhiteoutPrefix, StringComparison.Ordinal))
        {
            var directory = slash < 0 ? "" : path[..slash];
            if (fileName.SequenceEqual(LayerPaths.OpaqueMarker))
            {
                opaqueDirectories.Add(directory);
            }
            else
            {
                var hidden = fileName[LayerPaths.WhiteoutPrefix.Length..];
                whiteouts.Add(slash < 0 ? hidden.ToString() : string.Concat(directory, "/", hidden));
            }

            return;
        }

        if (entry.EntryType == TarEntryType.SymbolicLink && LayerPaths.IsPackageDatabaseFolder(path))
        {
            files[path] = new RecordedFile
            {
                Path = path,
                Kind = RecordedFileKind.SymbolicLink,
                LinkTarget = entry.LinkName,
                Message = $"The folder is a symbolic link to '{entry.LinkName}', and package databases under a linked folder are not read.",
            };
            return;
        }

        if (LayerPaths.Recognize(path) is not { } kind)
        {
            // A regular file that an earlier symbolic link at a recognised path points to is read as that path's kind.
            // Targets that come before their link, and every hard link's target, have already been passed by then.
            if (IsRegularFile(entry.EntryType) && pendingLinkTargets.TryGetValue(path, out var linkedKind))
            {
                files[path] = await ReadRecognizedFileAsync(entry, path, linkedKind, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        switch (entry.EntryType)
        {
            case TarEntryType.RegularFile:
            case TarEntryType.V7RegularFile:
            case TarEntryType.ContiguousFile:
                files[path] = await ReadRecognizedFileAsync(entry, path, kind, cancellationToken).ConfigureAwait(false);
                break;
            case TarEntryType.SymbolicLink:
                files[path] = new RecordedFile { Path = path, Kind = RecordedFileKind.SymbolicLink, LinkTarget = entry.LinkName };
                var target = LayerPaths.ResolveSymbolicLink(path, entry.LinkName);
                if (target.Length > 0 && LayerPaths.Recognize(target) is null)
                {
                    pendingLinkTargets.TryAdd(target, kind);
                }

                break;
            case TarEntryType.HardLink:
                files[path] = new RecordedFile { Path = path, Kind = RecordedFileKind.HardLink, LinkTarget = LayerPaths.Normalize(entry.LinkName) };
                break;
        }
    }

    private static bool IsRegularFile(TarEntryType type) =>
        type is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile;

    private async Task<RecordedFile> ReadRecognizedFileAsync(TarEntry entry, string path, RecordedFileKind kind, CancellationToken cancellationToken)
    {
        var file = new RecordedFile { Path = path, Kind = kind };
        if (entry.Length > _limits.MaxPackageDatabaseBytes)
        {
            file.LimitExceeded = true;
            file.Message = $"The file has {entry.Length} bytes, more than the {_limits.MaxPackageDatabaseBytes} bytes set by {_limits.MaxPackageDatabaseBytesSetting}, so it was not read.";
            return file;
        }

        // Small files come from the shared pool. Large ones, up to the limit, are allocated, so the pool does not keep
        // buffers of many megabytes alive after the layer is read.
        var length = (int)entry.Length;
        var pooled = length <= PooledFileBytes;
        var buffer = pooled ? ArrayPool<byte>.Shared.Rent(Math.Max(length, 1)) : new byte[length];
        try
        {
            if (length > 0 && entry.DataStream is { } data)
            {
                await data.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            }

            ParseRecognizedFile(file, buffer, length);
        }
        finally
        {
            if (pooled)
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }

        return file;
    }

    private static void ParseRecognizedFile(RecordedFile file, byte[] buffer, int length)
    {
        try
        {
            switch (file.Kind)
            {
                case RecordedFileKind.OsRelease:
                    file.OperatingSystem = ReleaseFileParser.ParseOsRelease(Encoding.UTF8.GetString(buffer, 0, length));
                    break;
                case RecordedFileKind.AlpineRelease:
                    file.OperatingSystem = ReleaseFileParser.ParseAlpineRelease(Encoding.UTF8.GetString(buffer, 0, length));
                    break;
                case RecordedFileKind.DebianVersion:
                    file.OperatingSystem = ReleaseFileParser.ParseDebianVersion(Encoding.UTF8.GetString(buffer, 0, length));
                    break;
                case RecordedFileKind.ApkDatabase:
                    file.Packages = ApkDatabaseParser.Parse(Encoding.UTF8.GetString(buffer, 0, length), out var blocks, out var invalidBlocks);
                    file.Message = DescribeInvalidEntries("apk database", "blocks", blocks, invalidBlocks, "P (name) and V (version)");
                    break;
                case RecordedFileKind.DpkgStatus:
                    file.Packages = DpkgStatusParser.Parse(Encoding.UTF8.GetString(buffer, 0, length), out var paragraphs, out var invalidParagraphs);
                    file.Message = DescribeInvalidEntries("dpkg status file", "paragraphs", paragraphs, invalidParagraphs, "Package and Version");
                    break;
                case RecordedFileKind.RpmDatabase:
                    file.Packages = RpmDatabaseReader.Read(buffer, length);
                    break;
                case RecordedFileKind.DepsJson:
                    file.Packages = DepsJsonParser.Parse(buffer.AsMemory(0, length), file.Path);
                    break;
            }
        }
        catch (Exception exception) when (exception is JsonException or SqliteException or FormatException)
        {
            file.Message = $"The file could not be parsed: {exception.Message}";
        }
    }

    /// <summary>
    /// Returns a message when at least half of a package database's entries describe no package, or null otherwise.
    /// Random bytes or a file of another format at a database path give such entries.
    /// </summary>
    /// <remarks>
    /// A few invalid entries among many valid ones are ignored, so one damaged entry does not make the scan partial.
    /// An empty file, or one of blank lines, has no entries and gives no message.
    /// </remarks>
    private static string? DescribeInvalidEntries(string database, string entryName, int entries, int invalidEntries, string requiredFields)
    {
        if (invalidEntries == 0 || invalidEntries * 2 < entries)
        {
            return null;
        }

        return $"The file is not a valid {database}: {invalidEntries} of its {entries} {entryName} lack the {requiredFields} fields of a package, so its packages may be missing from the inventory.";
    }

    private enum LayerCompression
    {
        None,
        Gzip,
        Zstd,
    }
}

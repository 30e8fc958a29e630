using System.Runtime.CompilerServices;
using Dtr.Digests;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Stores blobs as files in a content-addressed tree under one root folder; see <see cref="BlobStoreLayout"/> for
/// the paths.
/// </summary>
/// <remarks>
/// An upload is written to its own file under <c>uploads</c>. Committing it flushes that file to disk and then
/// renames it into <c>blobs</c>, so a blob path either does not exist or names a complete, durable file, whatever
/// point a crash interrupts. When two uploads of the same digest commit at once, both calls succeed and the blob path
/// names one complete copy. Correctness rests on rename and fsync only, which NFS also provides, so hosts that share
/// the root need no lock manager. The store never requests an exclusive file lock or waits for one. The
/// <see cref="FileShare"/> values below matter on Windows, and on Unix .NET turns them into non-blocking advisory
/// shared locks (<c>flock</c> with <c>LOCK_SH</c>), which never conflict with each other.
/// </remarks>
internal sealed class FileSystemBlobStore : IBlobStore, IStorageDescription, IBlobStoreHealthProbe
{
    private static int s_directoryFlushWarningLogged;

    private readonly BlobStoreLayout _layout;
    private readonly ILogger<FileSystemBlobStore> _logger;

    public FileSystemBlobStore(IOptions<FileSystemStorageOptions> options, ILogger<FileSystemBlobStore> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var rootDirectory = options.Value.RootDirectory;
        if (string.IsNullOrWhiteSpace(rootDirectory))
        {
            throw new InvalidOperationException(FileSystemStorageOptionsValidator.MissingRootDirectoryMessage);
        }

        _layout = new BlobStoreLayout(rootDirectory);
        _logger = logger;
    }

    /// <inheritdoc />
    public string StorageKind => "filesystem";

    /// <inheritdoc />
    public string StorageLocation => _layout.RootDirectory;

    /// <summary>The layout of the store's folder.</summary>
    public BlobStoreLayout Layout => _layout;

    /// <inheritdoc />
    /// <remarks>
    /// Writes and deletes a probe file in the root folder and in its <c>blobs</c> and <c>uploads</c> subfolders. A
    /// missing root folder is created, as at start-up. A missing subfolder passes, because the first upload creates
    /// it, but a file in its place fails.
    /// </remarks>
    public ValueTask ProbeAsync(CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var rootError = FileSystemStorageOptionsValidator.ProbeWritable(_layout.RootDirectory);
        if (rootError is not null)
        {
            throw new IOException(rootError);
        }

        foreach (var directory in new[] { _layout.BlobsDirectory, _layout.UploadsDirectory })
        {
            if (File.Exists(directory))
            {
                throw new IOException($"The blob store folder '{directory}' is a file. Move the file away, so the store can keep its folder there.");
            }

            if (Directory.Exists(directory))
            {
                using (File.Create(Path.Combine(directory, $".write-probe-{Guid.NewGuid():N}"), bufferSize: 1, FileOptions.DeleteOnClose))
                {
                }
            }
        }

        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileInfo(_layout.GetBlobPath(digest));
        return ValueTask.FromResult(file.Exists ? new BlobInfo(digest, file.Length) : null);
    }

    /// <inheritdoc />
    public ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        cancellationToken.ThrowIfCancellationRequested();

        FileStream stream;
        try
        {
            // FileShare.Delete lets a blob be deleted (or garbage collected) while a client is still downloading it.
            stream = new FileStream(_layout.GetBlobPath(digest), new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.Read | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult<Stream?>(null);
        }

        var length = stream.Length;
        if (offset > length)
        {
            stream.Dispose();
            throw new ArgumentOutOfRangeException(nameof(offset), offset, $"The offset is past the end of blob {digest}, which is {length} bytes long.");
        }

        stream.Position = offset;
        return ValueTask.FromResult<Stream?>(stream);
    }

    /// <inheritdoc />
    /// <remarks>
    /// NOTE: two concurrent deletes of the same blob may both return true, because the existence check and the
    /// delete are two steps.
    /// </remarks>
    public ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var path = _layout.GetBlobPath(digest);
        if (!File.Exists(path))
        {
            return ValueTask.FromResult(false);
        }

        File.Delete(path);
        FileSystemLog.BlobDeleted(_logger, digest);
        return ValueTask.FromResult(true);
    }

    /// <inheritdoc />
    /// <remarks>Files under <c>blobs</c> whose path does not spell a valid digest are skipped.</remarks>
    public async IAsyncEnumerable<BlobInfo> ListAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        foreach (var algorithmDirectory in ListDirectories(new DirectoryInfo(_layout.BlobsDirectory)))
        {
            foreach (var shardDirectory in ListDirectories(algorithmDirectory))
            {
                cancellationToken.ThrowIfCancellationRequested();
                foreach (var file in ListFiles(shardDirectory))
                {
                    if (!BlobStoreLayout.TryParseBlobPath(algorithmDirectory.Name, shardDirectory.Name, file.Name, out var digest))
                    {
                        continue;
                    }

                    yield return new BlobInfo(digest, file.Length) { LastModified = file.LastWriteTimeUtc };
                }
            }
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    /// <exception cref="IOException">An upload with this id already exists.</exception>
    public ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var directory = _layout.GetUploadDirectory(uploadId);
        cancellationToken.ThrowIfCancellationRequested();

        Directory.CreateDirectory(directory);
        using var handle = File.OpenHandle(_layout.GetUploadDataPath(uploadId), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var file = new FileInfo(_layout.GetUploadDataPath(uploadId));
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(file.Exists ? file.Length : (long?)null);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var path = _layout.GetUploadDataPath(uploadId);
        cancellationToken.ThrowIfCancellationRequested();

        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException(uploadId);
        }

        return ValueTask.FromResult<IBlobUploadWriter>(new FileSystemUploadWriter(handle));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var path = _layout.GetUploadDataPath(uploadId);
        cancellationToken.ThrowIfCancellationRequested();

        try
        {
            Stream stream = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.Open,
                Access = FileAccess.Read,
                Share = FileShare.ReadWrite | FileShare.Delete,
                Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
            });
            return ValueTask.FromResult(stream);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException(uploadId);
        }
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default)
    {
        var uploadPath = _layout.GetUploadDataPath(uploadId);
        var blobPath = _layout.GetBlobPath(digest);
        cancellationToken.ThrowIfCancellationRequested();

        // Step 1: make the upload's bytes durable before any name points at them.
        FlushFileToDisk(uploadPath, uploadId);

        // Step 2: move the file into place. File.Move without overwrite fails when the blob already exists, so a
        // stored blob is normally kept. On Unix, .NET 10 checks the target with lstat and then calls rename(2), so
        // two commits that pass the check at once both rename, and the later one replaces the file. Both files hold
        // the verified bytes of one digest and rename swaps the name atomically, so a reader sees one complete copy.
        // Garbage collection may delete the stored copy between the failed move and reading its size. The upload
        // file is still in place then, so the move is tried again.
        var blobDirectory = _layout.GetBlobDirectory(digest);
        var uploadSize = new FileInfo(uploadPath).Length;
        bool moved;
        long size;
        var attempt = 0;
        while (true)
        {
            attempt++;
            var createdDirectory = !Directory.Exists(blobDirectory);
            Directory.CreateDirectory(blobDirectory);
            try
            {
                File.Move(uploadPath, blobPath, overwrite: false);
                moved = true;
            }
            catch (IOException) when (File.Exists(blobPath))
            {
                moved = false;
            }
            catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
            {
                // The upload was deleted between the flush and the move.
                throw new UploadNotFoundException(uploadId);
            }
            catch (IOException) when (attempt < 3)
            {
                // The move found the stored copy, which was deleted before File.Exists looked.
                continue;
            }

            // Step 3: make the new name durable. Only then is the upload folder removed. The size is the upload's,
            // because the new blob may be deleted at once.
            if (moved)
            {
                FlushDirectories(blobDirectory, createdDirectory);
                size = uploadSize;
                break;
            }

            try
            {
                size = new FileInfo(blobPath).Length;
                break;
            }
            catch (Exception ex) when (attempt < 3 && ex is FileNotFoundException or DirectoryNotFoundException)
            {
                cancellationToken.ThrowIfCancellationRequested();
            }
        }

        if (moved)
        {
            FileSystemLog.BlobCommitted(_logger, digest, size, uploadId);
        }
        else
        {
            FileSystemLog.BlobAlreadyStored(_logger, digest, uploadId);
        }

        RemoveCommittedUpload(uploadId);
        return ValueTask.FromResult(new BlobInfo(digest, size));
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default)
    {
        var directory = _layout.GetUploadDirectory(uploadId);
        cancellationToken.ThrowIfCancellationRequested();

        try
        {
            Directory.Delete(directory, recursive: true);
            FileSystemLog.UploadDeleted(_logger, uploadId);
        }
        catch (DirectoryNotFoundException)
        {
            // Deleting an upload that does not exist does nothing.
        }

        return ValueTask.CompletedTask;
    }

    private static void FlushFileToDisk(string path, string uploadId)
    {
        try
        {
            using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new UploadNotFoundException(uploadId);
        }
    }

    /// <summary>
    /// Flushes the shard folder that received a new blob and, when that folder was just created, every folder
    /// above it up to the root, so each new entry on the path is durable.
    /// </summary>
    private void FlushDirectories(string blobDirectory, bool createdDirectory)
    {
        var directory = blobDirectory;
        while (true)
        {
            if (!DirectorySync.TryFlush(directory))
            {
                if (Interlocked.Exchange(ref s_directoryFlushWarningLogged, 1) == 0)
                {
                    FileSystemLog.DirectoryFlushUnsupported(_logger);
                }

                return;
            }

            if (!createdDirectory || string.Equals(directory, _layout.RootDirectory, StringComparison.Ordinal))
            {
                return;
            }

            directory = Path.GetDirectoryName(directory);
            if (directory is null)
            {
                return;
            }
        }
    }

    private void RemoveCommittedUpload(string uploadId)
    {
        try
        {
            Directory.Delete(_layout.GetUploadDirectory(uploadId), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // Already gone, which is the goal.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The blob is committed, so the commit succeeds; the leftover folder contains no data a reader can see.
            FileSystemLog.UploadCleanupFailed(_logger, ex, uploadId);
        }
    }

    private static DirectoryInfo[] ListDirectories(DirectoryInfo directory)
    {
        try
        {
            return directory.GetDirectories();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }

    private static FileInfo[] ListFiles(DirectoryInfo directory)
    {
        try
        {
            return directory.GetFiles();
        }
        catch (DirectoryNotFoundException)
        {
            return [];
        }
    }
}

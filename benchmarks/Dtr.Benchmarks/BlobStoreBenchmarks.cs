using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Dtr.Digests;
using Dtr.Storage;
using Dtr.Storage.FileSystem;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Benchmarks;

/// <summary>
/// Writes, commits and reads blobs through the filesystem blob store, the path every pushed layer takes.
/// </summary>
/// <remarks>
/// Each write benchmark creates an upload, appends <see cref="BlobBytes"/> in 1 MiB writes (the registry's default
/// upload buffer), optionally hashes them as the upload endpoint does, commits, and deletes the blob again so the
/// next invocation writes a fresh file. Results depend on the disk and file system under the temp folder.
/// </remarks>
[MemoryDiagnoser]
public class BlobStoreBenchmarks
{
    private const int ChunkBytes = 1024 * 1024;

    private string _root = "";
    private FileSystemBlobStore _store = null!;
    private byte[] _chunk = [];
    private Digest _digest;
    private int _uploadCounter;

    /// <summary>The blob size, in bytes.</summary>
    [Params(1024 * 1024, 64 * 1024 * 1024)]
    public int BlobBytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _root = Path.Combine(Path.GetTempPath(), "dtr-bench-" + Guid.NewGuid().ToString("N"));
        _store = new FileSystemBlobStore(
            Options.Create(new FileSystemStorageOptions { RootDirectory = _root }),
            NullLogger<FileSystemBlobStore>.Instance);

        _chunk = new byte[ChunkBytes];
        new Random(42).NextBytes(_chunk);

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (var written = 0; written < BlobBytes; written += ChunkBytes)
        {
            hash.AppendData(_chunk, 0, Math.Min(ChunkBytes, BlobBytes - written));
        }

        _digest = Digest.FromIncrementalHash(DigestAlgorithm.Sha256, hash);

        // A stored copy for the read benchmark; the write benchmarks delete theirs again.
        WriteAndCommitAsync(hashContent: false).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_root, recursive: true);

    [Benchmark(Description = "write + commit")]
    public async Task WriteAndCommit()
    {
        await _store.DeleteAsync(_digest);
        await WriteAndCommitAsync(hashContent: false);
    }

    [Benchmark(Description = "hash (sha256) + write + commit")]
    public async Task HashWriteAndCommit()
    {
        await _store.DeleteAsync(_digest);
        await WriteAndCommitAsync(hashContent: true);
    }

    [Benchmark(Description = "read whole blob")]
    public async Task<long> Read()
    {
        var buffer = _chunk;
        long total = 0;
        await using var stream = await _store.OpenReadAsync(_digest) ?? throw new InvalidOperationException("The benchmark blob is missing.");
        int read;
        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            total += read;
        }

        return total;
    }

    private async ValueTask WriteAndCommitAsync(bool hashContent)
    {
        var uploadId = "bench-" + Interlocked.Increment(ref _uploadCounter);
        await _store.CreateUploadAsync(uploadId);

        using var hash = hashContent ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        await using (var writer = await _store.OpenUploadWriterAsync(uploadId))
        {
            for (var written = 0; written < BlobBytes; written += ChunkBytes)
            {
                var chunk = _chunk.AsMemory(0, Math.Min(ChunkBytes, BlobBytes - written));
                hash?.AppendData(chunk.Span);
                await writer.WriteAsync(chunk);
            }

            await writer.FlushAsync();
        }

        await _store.CommitUploadAsync(uploadId, _digest);
    }
}

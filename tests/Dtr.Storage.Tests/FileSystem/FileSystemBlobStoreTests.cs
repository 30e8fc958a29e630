using System.Text;
using Dtr.Digests;
using Dtr.Storage.FileSystem;
using Dtr.Storage.Tests.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Tests.FileSystem;

public sealed class FileSystemBlobStoreTests : BlobStoreContractTests
{
    private readonly TempDirectory _root = new();

    private string RootPath => _root.Path;

    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(CreateFileSystemStore(RootPath));

    protected override Task DisposeStoreAsync()
    {
        _root.Dispose();
        return Task.CompletedTask;
    }

    protected override Task AssertNoUploadDataLeftAsync()
    {
        var uploads = Path.Combine(RootPath, "uploads");
        var leftovers = Directory.Exists(uploads) ? Directory.GetFileSystemEntries(uploads) : [];
        Assert.Empty(leftovers);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Layout_ShardsBlobsByDigestPrefix()
    {
        var content = Encoding.UTF8.GetBytes("layout check");
        var digest = Digest.Compute(content);

        await UploadAsync("layout", digest, content);

        var expected = Path.Combine(RootPath, "blobs", "sha256", digest.Encoded[..2], digest.Encoded);
        Assert.True(File.Exists(expected), $"Expected the blob at {expected}.");
        Assert.Equal(content, await File.ReadAllBytesAsync(expected));
    }

    [Fact]
    public async Task Layout_UploadDataFile()
    {
        await StageUploadAsync("staged", "abc"u8.ToArray());

        var path = Path.Combine(RootPath, "uploads", "staged", "data");
        Assert.Equal("abc"u8.ToArray(), await File.ReadAllBytesAsync(path));
    }

    [Fact]
    public async Task List_SkipsJunkFiles()
    {
        var content = Encoding.UTF8.GetBytes("the only real blob");
        var digest = Digest.Compute(content);
        await UploadAsync("real", digest, content);

        var shard = Path.Combine(RootPath, "blobs", "sha256", digest.Encoded[..2]);
        await File.WriteAllTextAsync(Path.Combine(shard, "not-a-digest"), "junk");
        await File.WriteAllTextAsync(Path.Combine(shard, digest.Encoded + ".tmp"), "junk");
        var wrongShard = Directory.CreateDirectory(Path.Combine(RootPath, "blobs", "sha256", "zz")).FullName;
        await File.WriteAllTextAsync(Path.Combine(wrongShard, digest.Encoded), "junk in the wrong shard");
        var unknownAlgorithm = Directory.CreateDirectory(Path.Combine(RootPath, "blobs", "md5", "ab")).FullName;
        await File.WriteAllTextAsync(Path.Combine(unknownAlgorithm, "ab" + new string('0', 30)), "junk");
        await File.WriteAllTextAsync(Path.Combine(RootPath, "blobs", "stray-file"), "junk");

        var listed = await ListAsync();

        var blob = Assert.Single(listed);
        Assert.Equal(new BlobInfo(digest, content.Length), blob with { LastModified = null });
        Assert.NotNull(blob.LastModified);
    }

    [Fact]
    public async Task Upload_UncommittedIsNotVisible()
    {
        // An upload whose commit never happened (for example after a crash) is invisible as a blob.
        var content = Encoding.UTF8.GetBytes("interrupted upload");
        var digest = Digest.Compute(content);
        await StageUploadAsync("interrupted", content);

        var reopened = CreateFileSystemStore(RootPath);

        Assert.Null(await reopened.StatAsync(digest));
        Assert.Empty(await ListAsync());
        Assert.Equal(content.Length, await reopened.GetUploadLengthAsync("interrupted"));
    }

    [Fact]
    public async Task CreateUpload_DuplicateIdThrows()
    {
        await Store.CreateUploadAsync("twice");

        await Assert.ThrowsAsync<IOException>(async () => await Store.CreateUploadAsync("twice"));
    }

    [Fact]
    public async Task TraversalIds_CreateNothingOutsideRoot()
    {
        var outside = Path.Combine(Path.GetDirectoryName(RootPath)!, "escaped-" + Guid.NewGuid().ToString("N"));

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.CreateUploadAsync("../" + Path.GetFileName(outside)));

        Assert.False(Directory.Exists(outside));
    }

    [Fact]
    public async Task Writer_DisposedRejectsWrites()
    {
        await Store.CreateUploadAsync("closed");
        var writer = await Store.OpenUploadWriterAsync("closed");
        await writer.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await writer.WriteAsync(new byte[1]));
    }

    [Fact]
    public async Task OpenRead_BlobDeletedWhileReading()
    {
        var content = new byte[100_000];
        new Random(7).NextBytes(content);
        var digest = Digest.Compute(content);
        await UploadAsync("read-then-delete", digest, content);

        await using var stream = await Store.OpenReadAsync(digest);
        Assert.NotNull(stream);
        Assert.True(await Store.DeleteAsync(digest));
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);

        Assert.Equal(content, copy.ToArray());
        Assert.Null(await Store.StatAsync(digest));
    }

    [Fact]
    public void DirectorySync_FlushesOnLinux()
    {
        var flushed = DirectorySync.TryFlush(RootPath);

        Assert.Equal(OperatingSystem.IsLinux(), flushed);
    }

    [Fact]
    public void DirectorySync_MissingFolderThrows()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        Assert.Throws<IOException>(() => DirectorySync.TryFlush(Path.Combine(RootPath, "does-not-exist")));
    }

    [Fact]
    public void Constructor_MissingRootDirectoryThrows()
    {
        var options = Options.Create(new FileSystemStorageOptions());

        var exception = Assert.Throws<InvalidOperationException>(() => new FileSystemBlobStore(options, NullLogger<FileSystemBlobStore>.Instance));

        Assert.Contains("RootDirectory", exception.Message, StringComparison.Ordinal);
    }

    internal static FileSystemBlobStore CreateFileSystemStore(string root) =>
        new(Options.Create(new FileSystemStorageOptions { RootDirectory = root }), NullLogger<FileSystemBlobStore>.Instance);
}

using System.Text;
using Dtr.Digests;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IBlobStore"/> driver must have. A driver's test class derives from this one and
/// supplies a fresh, empty store per test.
/// </summary>
public abstract class BlobStoreContractTests : IAsyncLifetime
{
    private IBlobStore? _store;

    /// <summary>The store under test, fresh for each test.</summary>
    protected IBlobStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    /// <summary>Creates an empty store for one test.</summary>
    protected abstract Task<IBlobStore> CreateStoreAsync();

    /// <summary>Releases what <see cref="CreateStoreAsync"/> created.</summary>
    protected abstract Task DisposeStoreAsync();

    /// <summary>
    /// Checks that no upload data remains in the driver's backing storage. The default checks nothing, because
    /// only the driver can look beneath the API.
    /// </summary>
    protected virtual Task AssertNoUploadDataLeftAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public Task DisposeAsync() => DisposeStoreAsync();

    public static TheoryData<string> InvalidUploadIds => new()
    {
        "",
        "..",
        ".",
        "../escape",
        "a/b",
        "a\\b",
        "/absolute",
        "has space",
        "dot.inside",
        "under_score",
        "caf\u00e9",
        "nul\0byte",
        new string('a', 65),
    };

    [Fact]
    public async Task Commit_MakesBlobReadable()
    {
        var content = Encoding.UTF8.GetBytes("hello, content-addressed world");
        var digest = Digest.Compute(content);

        var info = await UploadAsync("upload-1", digest, content[..5], content[5..]);

        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(new BlobInfo(digest, content.Length), await Store.StatAsync(digest));
        Assert.Equal(content, await ReadAllAsync(digest));
    }

    [Fact]
    public async Task Commit_RemovesUpload()
    {
        var content = Encoding.UTF8.GetBytes("upload then commit");
        var digest = Digest.Compute(content);

        await UploadAsync("upload-1", digest, content);

        Assert.Null(await Store.GetUploadLengthAsync("upload-1"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.OpenUploadWriterAsync("upload-1"));
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task Commit_EmptyBlob()
    {
        var digest = Digest.Compute([]);

        var info = await UploadAsync("empty", digest);

        Assert.Equal(0, info.Size);
        Assert.Equal(new BlobInfo(digest, 0), await Store.StatAsync(digest));
        Assert.Empty(await ReadAllAsync(digest));
    }

    [Fact]
    public async Task Commit_Sha512Digest()
    {
        var content = Encoding.UTF8.GetBytes("sha512 content");
        var digest = Digest.Compute(content, DigestAlgorithm.Sha512);

        await UploadAsync("upload-512", digest, content);

        Assert.Equal(content, await ReadAllAsync(digest));
        var listed = Assert.Single(await ListAsync(), blob => blob.Digest == digest);
        Assert.Equal(content.Length, listed.Size);
        Assert.NotNull(listed.LastModified);
        Assert.InRange(listed.LastModified.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task Commit_LargeBlobInChunks()
    {
        var content = new byte[3 * 1024 * 1024 + 123];
        new Random(42).NextBytes(content);
        var digest = Digest.Compute(content);
        var chunks = content.Chunk(64 * 1024).ToArray();

        await UploadAsync("large", digest, chunks);

        Assert.Equal(new BlobInfo(digest, content.Length), await Store.StatAsync(digest));
        Assert.Equal(content[(1024 * 1024)..], await ReadAllAsync(digest, 1024 * 1024));
    }

    [Fact]
    public async Task Commit_ExistingBlobKeepsStoredCopy()
    {
        var original = Encoding.UTF8.GetBytes("the stored copy");
        var digest = Digest.Compute(original);
        await UploadAsync("first", digest, original);

        // A second upload under the same digest (which a caller would only commit after checking the hash) must
        // not replace the stored bytes.
        var info = await UploadAsync("second", digest, Encoding.UTF8.GetBytes("different bytes, same digest claimed"));

        Assert.Equal(new BlobInfo(digest, original.Length), info);
        Assert.Equal(original, await ReadAllAsync(digest));
        Assert.Null(await Store.GetUploadLengthAsync("second"));
    }

    [Fact]
    public async Task Commit_TwoWritersSameDigestAtOnce()
    {
        for (var round = 0; round < 10; round++)
        {
            var content = Encoding.UTF8.GetBytes($"raced content, round {round}, " + new string('x', 10_000));
            var digest = Digest.Compute(content);
            await StageUploadAsync($"racer-a-{round}", content);
            await StageUploadAsync($"racer-b-{round}", content);

            using var start = new Barrier(2);
            var first = Task.Run(async () =>
            {
                start.SignalAndWait();
                return await Store.CommitUploadAsync($"racer-a-{round}", digest);
            });
            var second = Task.Run(async () =>
            {
                start.SignalAndWait();
                return await Store.CommitUploadAsync($"racer-b-{round}", digest);
            });
            var results = await Task.WhenAll(first, second);

            Assert.All(results, result => Assert.Equal(new BlobInfo(digest, content.Length), result));
            Assert.Equal(content, await ReadAllAsync(digest));
            Assert.Single(await ListAsync(), blob => blob.Digest == digest);
            Assert.Null(await Store.GetUploadLengthAsync($"racer-a-{round}"));
            Assert.Null(await Store.GetUploadLengthAsync($"racer-b-{round}"));
        }

        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task Commit_MissingUploadThrows()
    {
        var digest = Digest.Compute("nothing"u8);

        var exception = await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.CommitUploadAsync("no-such-upload", digest));

        Assert.Equal("no-such-upload", exception.UploadId);
        Assert.Null(await Store.StatAsync(digest));
    }

    [Fact]
    public async Task Commit_CancelledTokenThrows()
    {
        var content = Encoding.UTF8.GetBytes("never committed");
        var digest = Digest.Compute(content);
        await StageUploadAsync("cancelled-commit", content);
        using var cancellation = new CancellationTokenSource();
        await cancellation.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await Store.CommitUploadAsync("cancelled-commit", digest, cancellation.Token));

        Assert.Null(await Store.StatAsync(digest));
        Assert.Equal(content.Length, await Store.GetUploadLengthAsync("cancelled-commit"));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(25)]
    public async Task OpenRead_FromOffset(int offset)
    {
        var content = Encoding.UTF8.GetBytes("0123456789abcdefghijklmnop");
        var digest = Digest.Compute(content);
        await UploadAsync("offsets", digest, content);

        Assert.Equal(content[offset..], await ReadAllAsync(digest, offset));
    }

    [Fact]
    public async Task OpenRead_OffsetAtEndIsEmpty()
    {
        var content = Encoding.UTF8.GetBytes("0123456789");
        var digest = Digest.Compute(content);
        await UploadAsync("at-end", digest, content);

        Assert.Empty(await ReadAllAsync(digest, content.Length));
    }

    [Fact]
    public async Task OpenRead_OffsetPastEndThrows()
    {
        var content = Encoding.UTF8.GetBytes("0123456789");
        var digest = Digest.Compute(content);
        await UploadAsync("past-end", digest, content);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.OpenReadAsync(digest, content.Length + 1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await Store.OpenReadAsync(digest, -1));
    }

    [Fact]
    public async Task MissingBlob_ReturnsNullAndFalse()
    {
        var digest = Digest.Compute("never stored"u8);

        Assert.Null(await Store.StatAsync(digest));
        Assert.Null(await Store.OpenReadAsync(digest));
        Assert.False(await Store.DeleteAsync(digest));
        Assert.Empty(await ListAsync());
    }

    [Fact]
    public async Task Delete_RemovesBlob()
    {
        var content = Encoding.UTF8.GetBytes("to be deleted");
        var digest = Digest.Compute(content);
        await UploadAsync("deleted", digest, content);

        Assert.True(await Store.DeleteAsync(digest));

        Assert.Null(await Store.StatAsync(digest));
        Assert.Null(await Store.OpenReadAsync(digest));
        Assert.Empty(await ListAsync());
        Assert.False(await Store.DeleteAsync(digest));
    }

    [Fact]
    public async Task List_ReturnsEveryBlob()
    {
        var expected = new List<BlobInfo>();
        for (var i = 0; i < 12; i++)
        {
            var content = Encoding.UTF8.GetBytes($"blob number {i} " + new string('z', i));
            var digest = Digest.Compute(content);
            expected.Add(await UploadAsync($"list-{i}", digest, content));
        }

        var listed = await ListAsync();

        // CommitUploadAsync leaves LastModified null, so the listed times are checked apart from digests and sizes.
        Assert.Equal(
            expected.OrderBy(b => b.Digest.Value, StringComparer.Ordinal),
            listed.Select(b => b with { LastModified = null }).OrderBy(b => b.Digest.Value, StringComparer.Ordinal));
        Assert.All(listed, b => Assert.NotNull(b.LastModified));
    }

    [Fact]
    public async Task Upload_LengthGrowsWithWrites()
    {
        await Store.CreateUploadAsync("growing");
        Assert.Equal(0, await Store.GetUploadLengthAsync("growing"));

        await using (var writer = await Store.OpenUploadWriterAsync("growing"))
        {
            Assert.Equal(0, writer.Length);
            await writer.WriteAsync(new byte[100]);
            Assert.Equal(100, writer.Length);
            await writer.FlushAsync();
        }

        Assert.Equal(100, await Store.GetUploadLengthAsync("growing"));
    }

    [Fact]
    public async Task Upload_NewWriterAppendsAtEnd()
    {
        await Store.CreateUploadAsync("resumed");
        await using (var writer = await Store.OpenUploadWriterAsync("resumed"))
        {
            await writer.WriteAsync("first-"u8.ToArray());
            await writer.FlushAsync();
        }

        await using (var writer = await Store.OpenUploadWriterAsync("resumed"))
        {
            Assert.Equal(6, writer.Length);
            await writer.WriteAsync("second"u8.ToArray());
            await writer.FlushAsync();
        }

        await using var reader = await Store.OpenUploadReaderAsync("resumed");
        using var copy = new MemoryStream();
        await reader.CopyToAsync(copy);
        Assert.Equal("first-second", Encoding.UTF8.GetString(copy.ToArray()));
    }

    [Fact]
    public async Task Upload_MissingIdReportsNotFound()
    {
        Assert.Null(await Store.GetUploadLengthAsync("missing"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.OpenUploadWriterAsync("missing"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.OpenUploadReaderAsync("missing"));
    }

    [Fact]
    public async Task DeleteUpload_LeavesNothingBehind()
    {
        await Store.CreateUploadAsync("abandoned");
        await using (var writer = await Store.OpenUploadWriterAsync("abandoned"))
        {
            await writer.WriteAsync(new byte[4096]);
            await writer.FlushAsync();
        }

        await Store.DeleteUploadAsync("abandoned");

        Assert.Null(await Store.GetUploadLengthAsync("abandoned"));
        Assert.Empty(await ListAsync());
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task DeleteUpload_WhileWriterOpen()
    {
        await Store.CreateUploadAsync("cancelled");
        var writer = await Store.OpenUploadWriterAsync("cancelled");
        await writer.WriteAsync(new byte[1000]);

        await Store.DeleteUploadAsync("cancelled");
        await writer.DisposeAsync();

        Assert.Null(await Store.GetUploadLengthAsync("cancelled"));
        Assert.Empty(await ListAsync());
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task DeleteUpload_MissingDoesNothing()
    {
        await Store.DeleteUploadAsync("never-created");

        Assert.Null(await Store.GetUploadLengthAsync("never-created"));
    }

    [Theory]
    [MemberData(nameof(InvalidUploadIds))]
    public async Task UploadId_InvalidRejected(string uploadId)
    {
        var digest = Digest.Compute("x"u8);

        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.CreateUploadAsync(uploadId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.GetUploadLengthAsync(uploadId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.OpenUploadWriterAsync(uploadId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.OpenUploadReaderAsync(uploadId));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.CommitUploadAsync(uploadId, digest));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Store.DeleteUploadAsync(uploadId));
    }

    [Theory]
    [InlineData("a")]
    [InlineData("-")]
    [InlineData("0f3e9c1a-7b2d-4c5e-9f10-aa55bb66cc77")]
    [InlineData("ABCdef123")]
    public async Task UploadId_ValidAccepted(string uploadId)
    {
        await Store.CreateUploadAsync(uploadId);

        Assert.Equal(0, await Store.GetUploadLengthAsync(uploadId));
    }

    [Fact]
    public async Task UploadId_MaxLengthAccepted()
    {
        var uploadId = new string('7', 64);

        await Store.CreateUploadAsync(uploadId);

        Assert.Equal(0, await Store.GetUploadLengthAsync(uploadId));
    }

    /// <summary>Creates an upload, writes the chunks, and commits it as <paramref name="digest"/>.</summary>
    protected async Task<BlobInfo> UploadAsync(string uploadId, Digest digest, params byte[][] chunks)
    {
        await StageUploadAsync(uploadId, chunks);
        return await Store.CommitUploadAsync(uploadId, digest);
    }

    /// <summary>Creates an upload and writes the chunks, without committing it.</summary>
    protected async Task StageUploadAsync(string uploadId, params byte[][] chunks)
    {
        await Store.CreateUploadAsync(uploadId);
        await using var writer = await Store.OpenUploadWriterAsync(uploadId);
        foreach (var chunk in chunks)
        {
            await writer.WriteAsync(chunk);
        }

        await writer.FlushAsync();
    }

    /// <summary>Reads a stored blob from <paramref name="offset"/> to its end.</summary>
    protected async Task<byte[]> ReadAllAsync(Digest digest, long offset = 0)
    {
        await using var stream = await Store.OpenReadAsync(digest, offset);
        Assert.NotNull(stream);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    /// <summary>Collects <see cref="IBlobStore.ListAsync"/> into a list.</summary>
    protected async Task<List<BlobInfo>> ListAsync()
    {
        var blobs = new List<BlobInfo>();
        await foreach (var blob in Store.ListAsync())
        {
            blobs.Add(blob);
        }

        return blobs;
    }
}

using System.Text;
using Amazon.S3.Model;
using Amazon.S3;
using Dtr.Digests;
using Dtr.Storage.Tests.Contracts;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Runs the blob store contract against s3rver. Each test gets its own key prefix in the shared bucket, so each
/// starts with an empty store.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3BlobStoreTests : BlobStoreContractTests
{
    private readonly S3rverFixture _server;
    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N");
    private S3BlobStore? _s3Store;

    public S3BlobStoreTests(S3rverFixture server)
    {
        _server = server;
    }

    private S3BlobStore S3Store => _s3Store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    protected override Task<IBlobStore> CreateStoreAsync()
    {
        _s3Store = CreateS3Store(S3StorageOptions.MinPartSizeBytes);
        return Task.FromResult<IBlobStore>(_s3Store);
    }

    protected override Task DisposeStoreAsync()
    {
        _s3Store?.Dispose();
        return Task.CompletedTask;
    }

    protected override async Task AssertNoUploadDataLeftAsync()
    {
        var listing = await S3Store.Client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = S3Store.Bucket, Prefix = S3Store.Layout.UploadsPrefix });
        Assert.Empty(listing.S3Objects ?? []);
    }

    [Fact]
    public async Task Layout_ShardsBlobsByDigestPrefix()
    {
        var content = Encoding.UTF8.GetBytes("layout check");
        var digest = Digest.Compute(content);

        await UploadAsync("layout", digest, content);

        var key = $"{_prefix}/blobs/sha256/{digest.Encoded[..2]}/{digest.Encoded}";
        using var response = await S3Store.Client.GetObjectAsync(S3rverFixture.BucketName, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        Assert.Equal(content, copy.ToArray());
    }

    [Fact]
    public async Task Upload_FlushWritesPartObject()
    {
        await StageUploadAsync("staged", "abc"u8.ToArray());

        var key = $"{_prefix}/uploads/staged/parts/0000000000";
        using var response = await S3Store.Client.GetObjectAsync(S3rverFixture.BucketName, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        Assert.Equal("abc"u8.ToArray(), copy.ToArray());
    }

    [Fact]
    public async Task Upload_FlushedBytesVisibleToOtherStore()
    {
        await Store.CreateUploadAsync("shared");
        await using var writer = await Store.OpenUploadWriterAsync("shared");
        await writer.WriteAsync(new byte[1234]);
        await writer.FlushAsync();

        // A second store instance plays the part of another host that shares the bucket.
        using var other = CreateS3Store(S3StorageOptions.MinPartSizeBytes);
        Assert.Equal(1234, await other.GetUploadLengthAsync("shared"));
    }

    [Fact]
    public async Task Commit_MultipartAcrossSmallAndFullParts()
    {
        // Full parts, a flushed tail, then more full parts: the commit must re-cut them into multipart parts of
        // at least 5 MiB, and the blob must come back byte for byte.
        var content = new byte[2 * S3StorageOptions.MinPartSizeBytes + 3 * 1024 * 1024 + 17];
        new Random(7).NextBytes(content);
        var digest = Digest.Compute(content);
        await Store.CreateUploadAsync("multi");
        await using (var writer = await Store.OpenUploadWriterAsync("multi"))
        {
            await writer.WriteAsync(content.AsMemory(0, 1000));
            await writer.FlushAsync();
        }

        await using (var writer = await Store.OpenUploadWriterAsync("multi"))
        {
            Assert.Equal(1000, writer.Length);
            foreach (var chunk in content[1000..].Chunk(1024 * 1024))
            {
                await writer.WriteAsync(chunk);
            }

            await writer.FlushAsync();
        }

        Assert.Equal(content.Length, await Store.GetUploadLengthAsync("multi"));
        await using (var reader = await Store.OpenUploadReaderAsync("multi"))
        {
            using var staged = new MemoryStream();
            await reader.CopyToAsync(staged);
            Assert.Equal(content, staged.ToArray());
        }

        var info = await Store.CommitUploadAsync("multi", digest);

        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(content, await ReadAllAsync(digest));
        Assert.Equal(content[(6 * 1024 * 1024)..], await ReadAllAsync(digest, 6 * 1024 * 1024));
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task List_PagesPastOneThousandKeys()
    {
        // ListObjectsV2 returns at most 1000 keys per page by default, so 1001 part objects need a second page.
        await Store.CreateUploadAsync("many");
        await using (var writer = await Store.OpenUploadWriterAsync("many"))
        {
            for (var i = 0; i < 1001; i++)
            {
                await writer.WriteAsync(new byte[] { (byte)i });
                await writer.FlushAsync();
            }
        }

        Assert.Equal(1001, await Store.GetUploadLengthAsync("many"));
        await Store.DeleteUploadAsync("many");
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task List_SkipsStrayObjects()
    {
        var content = Encoding.UTF8.GetBytes("the only real blob");
        var digest = Digest.Compute(content);
        await UploadAsync("real", digest, content);
        foreach (var key in new[] { "blobs/sha256/zz/abc", "blobs/readme.txt", $"blobs/sha256/00/{digest.Encoded}" })
        {
            await S3Store.Client.PutObjectAsync(new PutObjectRequest
            {
                BucketName = S3rverFixture.BucketName,
                Key = $"{_prefix}/{key}",
                ContentBody = "junk",
                UseChunkEncoding = false,
            });
        }

        var blob = Assert.Single(await ListAsync());
        Assert.Equal(new BlobInfo(digest, content.Length), blob with { LastModified = null });
        Assert.NotNull(blob.LastModified);
    }

    [Fact]
    public async Task Registration_ResolvesWorkingStore()
    {
        var services = new ServiceCollection();
        new TestRegistryBuilder(services).AddS3Storage(o =>
        {
            o.ServiceUrl = _server.ServiceUrl;
            o.Region = "us-east-1";
            o.Bucket = S3rverFixture.BucketName;
            o.Prefix = _prefix + "/registered";
            o.ForcePathStyle = true;
            o.AccessKey = S3rverFixture.AccessKey;
            o.SecretKey = S3rverFixture.SecretKey;
            o.UseChunkEncoding = false;
        });
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IBlobStore>();
        await store.CreateUploadAsync("via-di");

        Assert.IsType<S3BlobStore>(ITracingDecorator.Unwrap(store));
        Assert.Equal(0, await store.GetUploadLengthAsync("via-di"));
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    private S3BlobStore CreateS3Store(int partSizeBytes)
    {
        var options = new S3StorageOptions
        {
            ServiceUrl = _server.ServiceUrl,
            Region = "us-east-1",
            Bucket = S3rverFixture.BucketName,
            Prefix = _prefix,
            ForcePathStyle = true,
            AccessKey = S3rverFixture.AccessKey,
            SecretKey = S3rverFixture.SecretKey,
            UseChunkEncoding = false,
            PartSizeBytes = partSizeBytes,
        };
        return new S3BlobStore(S3StorageBuilderExtensions.CreateClient(options), options, NullLogger.Instance, ownsClient: true);
    }
}

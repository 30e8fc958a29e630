using System.Text;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;
using Azure;
using Dtr.Digests;
using Dtr.Storage.Tests.Contracts;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// Runs the blob store contract against Azurite, and the behaviour that only the Azure driver has. Each test gets its
/// own name prefix in the shared container, so each starts with an empty store.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStoreTests : BlobStoreContractTests
{
    private readonly AzuriteFixture _server;
    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N");
    private AzureBlobStore? _azureStore;

    public AzureBlobStoreTests(AzuriteFixture server)
    {
        _server = server;
    }

    private AzureBlobStore AzureStore => _azureStore ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    protected override Task<IBlobStore> CreateStoreAsync()
    {
        _azureStore = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        return Task.FromResult<IBlobStore>(_azureStore);
    }

    protected override Task DisposeStoreAsync() => Task.CompletedTask;

    protected override async Task AssertNoUploadDataLeftAsync()
    {
        // Committed blobs only: blocks staged but never committed are invisible, and the Blob service removes them.
        var names = new List<string>();
        await foreach (var item in AzureStore.Container.GetBlobsAsync(new GetBlobsOptions { Prefix = AzureStore.Layout.UploadsPrefix }))
        {
            names.Add(item.Name);
        }

        Assert.Empty(names);
    }

    [Fact]
    public async Task Layout_ShardsBlobsByDigestPrefix()
    {
        var content = Encoding.UTF8.GetBytes("layout check");
        var digest = Digest.Compute(content);

        await UploadAsync("layout", digest, content);

        var name = $"{_prefix}/blobs/sha256/{digest.Encoded[..2]}/{digest.Encoded}";
        var downloaded = await AzureStore.Container.GetBlobClient(name).DownloadContentAsync();
        Assert.Equal(content, downloaded.Value.Content.ToArray());
        Assert.Equal("application/octet-stream", downloaded.Value.Details.ContentType);
    }

    [Fact]
    public async Task Upload_FlushCommitsUploadBlob()
    {
        await StageUploadAsync("staged", "abc"u8.ToArray());

        var name = $"{_prefix}/uploads/staged/data";
        var downloaded = await AzureStore.Container.GetBlobClient(name).DownloadContentAsync();
        Assert.Equal("abc"u8.ToArray(), downloaded.Value.Content.ToArray());
    }

    [Fact]
    public async Task Prefix_IsolatesStores()
    {
        var content = Encoding.UTF8.GetBytes("only under the first prefix");
        var digest = Digest.Compute(content);
        await UploadAsync("isolated", digest, content);
        await StageUploadAsync("pending", content);

        var other = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix + "-other"));

        Assert.Null(await other.StatAsync(digest));
        Assert.Null(await other.OpenReadAsync(digest));
        Assert.Null(await other.GetUploadLengthAsync("pending"));
        Assert.False(await other.DeleteAsync(digest));
        await using (var listing = other.ListAsync().GetAsyncEnumerator())
        {
            Assert.False(await listing.MoveNextAsync());
        }

        Assert.Equal(content, await ReadAllAsync(digest));
    }

    [Fact]
    public async Task Upload_ContinuedByOtherStore()
    {
        // A second store instance with its own client plays the part of another registry host.
        var first = new byte[1_500_000];
        var second = new byte[700_000];
        new Random(3).NextBytes(first);
        new Random(4).NextBytes(second);
        var content = first.Concat(second).ToArray();
        var digest = Digest.Compute(content);
        await StageUploadAsync("handover", first);

        var otherHost = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix));
        Assert.Equal(first.Length, await otherHost.GetUploadLengthAsync("handover"));
        await using (var writer = await otherHost.OpenUploadWriterAsync("handover"))
        {
            Assert.Equal(first.Length, writer.Length);
            await writer.WriteAsync(second);
            await writer.FlushAsync();
            Assert.Equal(content.Length, writer.Length);
        }

        Assert.Equal(content.Length, await Store.GetUploadLengthAsync("handover"));
        await using (var reader = await Store.OpenUploadReaderAsync("handover"))
        {
            using var staged = new MemoryStream();
            await reader.CopyToAsync(staged);
            Assert.Equal(content, staged.ToArray());
        }

        var info = await otherHost.CommitUploadAsync("handover", digest);

        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(content, await ReadAllAsync(digest));
        await AssertNoUploadDataLeftAsync();
    }

    [Fact]
    public async Task Commit_CopiesInRangesServerSide()
    {
        // 3.5 MiB with 1 MiB copy ranges: the stored blob must consist of four blocks and read back byte for byte.
        var content = new byte[(7 * AzureBlobStorageOptions.MinBlockSizeBytes / 2) + 11];
        new Random(9).NextBytes(content);
        var digest = Digest.Compute(content);

        await UploadAsync("ranges", digest, content.Chunk(300_000).ToArray());

        var target = AzureStore.Container.GetBlockBlobClient(AzureStore.Layout.GetBlobKey(digest));
        var blocks = (await target.GetBlockListAsync(BlockListTypes.Committed)).Value.CommittedBlocks.ToList();
        Assert.Equal(4, blocks.Count);
        Assert.Equal(content.Length, blocks.Sum(block => block.SizeLong));
        Assert.Equal(content, await ReadAllAsync(digest));
        Assert.Equal(content[3_000_000..], await ReadAllAsync(digest, 3_000_000));
    }

    [Fact]
    public async Task Upload_SecondWriterConflictRejected()
    {
        await Store.CreateUploadAsync("contended");
        await using var first = await Store.OpenUploadWriterAsync("contended");
        await using var second = await Store.OpenUploadWriterAsync("contended");
        await first.WriteAsync("first"u8.ToArray());
        await first.FlushAsync();

        await second.WriteAsync("second"u8.ToArray());
        var exception = await Assert.ThrowsAsync<IOException>(async () => await second.FlushAsync());

        Assert.Contains("'contended' was changed by another writer", exception.Message, StringComparison.Ordinal);
        Assert.Equal(5, await Store.GetUploadLengthAsync("contended"));
    }

    [Fact]
    public async Task Upload_FlushAfterDeleteDoesNotRecreate()
    {
        await Store.CreateUploadAsync("deleted-under-writer");
        await using var writer = await Store.OpenUploadWriterAsync("deleted-under-writer");
        await Store.DeleteUploadAsync("deleted-under-writer");

        await writer.WriteAsync(new byte[100]);
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await writer.FlushAsync());

        // The flush staged a block, which leaves a blob with only uncommitted blocks; it must not count as the upload.
        Assert.Null(await Store.GetUploadLengthAsync("deleted-under-writer"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.OpenUploadWriterAsync("deleted-under-writer"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.OpenUploadReaderAsync("deleted-under-writer"));
        await Assert.ThrowsAsync<UploadNotFoundException>(async () => await Store.CommitUploadAsync("deleted-under-writer", Digest.Compute(new byte[100])));
    }

    [Fact]
    public async Task List_PagesThroughSmallPages()
    {
        var paged = new AzureBlobStore(AzureStore.Container, AzuriteStores.CreateOptions(_server, _prefix), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance)
        {
            ListPageSize = 2,
        };
        var expected = new List<BlobInfo>();
        for (var i = 0; i < 5; i++)
        {
            var content = Encoding.UTF8.GetBytes($"paged blob {i}");
            expected.Add(await UploadAsync($"paged-{i}", Digest.Compute(content), content));
        }

        var listed = new List<BlobInfo>();
        await foreach (var blob in paged.ListAsync())
        {
            listed.Add(blob);
        }

        // CommitUploadAsync leaves LastModified null, so the listed times are checked apart from digests and sizes.
        Assert.Equal(
            expected.OrderBy(b => b.Digest.Value, StringComparer.Ordinal),
            listed.Select(b => b with { LastModified = null }).OrderBy(b => b.Digest.Value, StringComparer.Ordinal));
        Assert.All(listed, b => Assert.NotNull(b.LastModified));
    }

    [Fact]
    public async Task List_SkipsStrayBlobs()
    {
        var content = Encoding.UTF8.GetBytes("the only real blob");
        var digest = Digest.Compute(content);
        await UploadAsync("real", digest, content);
        foreach (var name in new[] { "blobs/sha256/zz/abc", "blobs/readme.txt", $"blobs/sha256/00/{digest.Encoded}" })
        {
            await AzureStore.Container.GetBlobClient($"{_prefix}/{name}").UploadAsync(BinaryData.FromString("junk"));
        }

        var blob = Assert.Single(await ListAsync());
        Assert.Equal(new BlobInfo(digest, content.Length), blob with { LastModified = null });
        Assert.NotNull(blob.LastModified);
    }

    [Fact]
    public async Task MissingContainer_ThrowsInsteadOfNotFound()
    {
        var options = AzuriteStores.CreateOptions(_server, _prefix, "missing-" + Guid.NewGuid().ToString("N")[..12]);
        options.CreateContainerIfMissing = false;
        var store = AzuriteStores.CreateStore(options);

        var exception = await Assert.ThrowsAsync<RequestFailedException>(async () => await store.StatAsync(Digest.Compute("x"u8)));

        Assert.Equal(404, exception.Status);
        await Assert.ThrowsAsync<RequestFailedException>(async () => await store.CreateUploadAsync("upload"));
    }

    [Fact]
    public async Task CreateContainerIfMissing_CreatesOnFirstUse()
    {
        var containerName = "created-" + Guid.NewGuid().ToString("N")[..12];
        var store = AzuriteStores.CreateStore(AzuriteStores.CreateOptions(_server, _prefix, containerName));
        var container = AzuriteStores.CreateServiceClient(_server).GetBlobContainerClient(containerName);
        Assert.False((await container.ExistsAsync()).Value);

        await store.CreateUploadAsync("first");

        Assert.True((await container.ExistsAsync()).Value);
        Assert.Equal(0, await store.GetUploadLengthAsync("first"));
        await container.DeleteAsync();
    }

    [Fact]
    public async Task SasToken_FullUploadWorks()
    {
        var content = new byte[(3 * AzureBlobStorageOptions.MinBlockSizeBytes / 2) + 5];
        new Random(5).NextBytes(content);
        var digest = Digest.Compute(content);
        var sas = CreateContainerSas();
        var options = AzuriteStores.CreateOptions(_server, _prefix);
        options.ConnectionString = null;
        options.CreateContainerIfMissing = false;
        options.ServiceUri = _server.ServiceUri;
        options.SasToken = "?" + sas;
        var store = AzuriteStores.CreateStore(options);

        await store.CreateUploadAsync("with-sas");
        await using (var writer = await store.OpenUploadWriterAsync("with-sas"))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        var info = await store.CommitUploadAsync("with-sas", digest);

        Assert.Equal(new BlobInfo(digest, content.Length), info);
        Assert.Equal(content, await ReadAllAsync(digest));
        Assert.Null(await store.GetDownloadUriAsync(digest, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public async Task SasConnectionString_FullUploadWorks()
    {
        var content = Encoding.UTF8.GetBytes("committed through a SAS connection string");
        var digest = Digest.Compute(content);
        var options = AzuriteStores.CreateOptions(_server, _prefix);
        options.ConnectionString = $"BlobEndpoint={_server.ServiceUri};SharedAccessSignature={CreateContainerSas()}";
        options.CreateContainerIfMissing = false;
        var store = AzuriteStores.CreateStore(options);

        await store.CreateUploadAsync("sas-connection");
        await using (var writer = await store.OpenUploadWriterAsync("sas-connection"))
        {
            await writer.WriteAsync(content);
            await writer.FlushAsync();
        }

        Assert.Equal(new BlobInfo(digest, content.Length), await store.CommitUploadAsync("sas-connection", digest));
        Assert.Equal(content, await ReadAllAsync(digest));
    }

    [Fact]
    public async Task Registration_ResolvesWorkingStore()
    {
        var services = new ServiceCollection();
        new TestRegistryBuilder(services).AddAzureBlobStorage(o =>
        {
            o.ConnectionString = _server.ConnectionString;
            o.ContainerName = AzuriteStores.ContainerName;
            o.Prefix = _prefix + "/registered";
            o.CreateContainerIfMissing = true;
        });
        await using var provider = services.BuildServiceProvider();

        var store = provider.GetRequiredService<IBlobStore>();
        await store.CreateUploadAsync("via-di");

        Assert.IsType<AzureBlobStore>(ITracingDecorator.Unwrap(store));
        Assert.IsAssignableFrom<IBlobRedirectSource>(ITracingDecorator.Unwrap(store));
        Assert.Equal(0, await store.GetUploadLengthAsync("via-di"));
    }

    /// <summary>Returns a container SAS with every permission the store needs, signed with the emulator's key.</summary>
    private string CreateContainerSas()
    {
        var container = AzuriteStores.CreateServiceClient(_server).GetBlobContainerClient(AzuriteStores.ContainerName);
        var permissions = BlobContainerSasPermissions.Read | BlobContainerSasPermissions.Add | BlobContainerSasPermissions.Create
            | BlobContainerSasPermissions.Write | BlobContainerSasPermissions.Delete | BlobContainerSasPermissions.List;
        return container.GenerateSasUri(permissions, DateTimeOffset.UtcNow.AddHours(1)).Query.TrimStart('?');
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

using System.Net;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests.GarbageCollection;

/// <summary>
/// Uploads that complete while a garbage collection run has their digest marked for deletion. The tests mark blobs
/// through the metadata store, as a run does between choosing a blob and deleting its bytes.
/// </summary>
public sealed class UploadGuardTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryFactory _factory;
    private readonly RegistryClient _client;

    public UploadGuardTests(RegistryFactory factory)
    {
        _factory = factory;
        _client = factory.CreateRegistryClient();
    }

    public void Dispose() => _client.Dispose();

    private IGarbageCollectionStore Collection => _factory.Services.GetRequiredService<IGarbageCollectionStore>();

    [Fact]
    public async Task Completion_WaitsWhileBlobIsMarked()
    {
        var content = TestContent.RandomBytes(300, 801);
        var digest = await MarkUnlinkedBlobAsync(content);
        var target = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(target);

        var completion = _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), Binary(content));
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var completedWhileMarked = completion.IsCompleted;
        await Collection.EndBlobDeletionAsync([Digest.Parse(digest)], deleted: false);
        using var response = await completion;

        Assert.False(completedWhileMarked, "The completion did not wait while the blob was marked for deletion.");
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"The completion returned {await DescribeAsync(response)}.");
        using var get = await _client.GetAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Completion_StoresBytesDeletedMeanwhile()
    {
        var content = TestContent.RandomBytes(300, 802);
        var digest = await MarkUnlinkedBlobAsync(content);
        var target = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(target);

        var completion = _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest), Binary(content));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        await _factory.Services.GetRequiredService<IBlobStore>().DeleteAsync(Digest.Parse(digest));
        await Collection.EndBlobDeletionAsync([Digest.Parse(digest)], deleted: true);
        using var response = await completion;

        Assert.True(response.StatusCode == HttpStatusCode.Created, $"The completion returned {await DescribeAsync(response)}.");
        using var get = await _client.GetAsync($"/v2/{target}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(content, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MonolithicUpload_WaitsWhileBlobIsMarked()
    {
        var content = TestContent.RandomBytes(300, 803);
        var digest = await MarkUnlinkedBlobAsync(content);
        var target = TestContent.UniqueRepository();

        var upload = _client.SendAsync(HttpMethod.Post, $"/v2/{target}/blobs/uploads/?digest={digest}", Binary(content));
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        var completedWhileMarked = upload.IsCompleted;
        await Collection.EndBlobDeletionAsync([Digest.Parse(digest)], deleted: false);
        using var response = await upload;

        Assert.False(completedWhileMarked, "The upload did not wait while the blob was marked for deletion.");
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"The upload returned {await DescribeAsync(response)}.");
    }

    /// <summary>
    /// Stores a blob, removes its only link and marks it for deletion the way a collection run does, and returns its
    /// digest.
    /// </summary>
    private async Task<string> MarkUnlinkedBlobAsync(byte[] content)
    {
        var source = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(source, content);
        using (var delete = await _client.DeleteAsync($"/v2/{source}/blobs/{digest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        // A cutoff in the future makes the blob's recent upload count as old enough to delete.
        var marked = await Collection.BeginBlobDeletionAsync("test-run-" + Guid.NewGuid().ToString("N"), [Digest.Parse(digest)], DateTimeOffset.UtcNow.AddMinutes(1));
        Assert.Equal(new[] { Digest.Parse(digest) }, marked);
        return digest;
    }
}

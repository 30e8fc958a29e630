using System.Net;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.AspNetCore.Tests.GarbageCollection;

/// <summary>
/// Reads of a blob record a use, so a client that finds a layer with HEAD and skips its upload can push the
/// manifest before a collection run removes the layer's link.
/// </summary>
public sealed class BlobUseTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryFactory _factory;
    private readonly RegistryClient _client;

    public BlobUseTests(RegistryFactory factory)
    {
        _factory = factory;
        _client = factory.CreateRegistryClient();
    }

    public void Dispose() => _client.Dispose();

    [Theory]
    [InlineData("HEAD")]
    [InlineData("GET")]
    public async Task BlobRead_RecordsUse(string method)
    {
        var repository = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(repository, TestContent.RandomBytes(200, method.Length));
        var uploadedUse = await LastUseAsync(repository, digest);
        await Task.Delay(TimeSpan.FromMilliseconds(20));

        using var response = await _client.SendAsync(new HttpMethod(method), $"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(uploadedUse);
        var readUse = await LastUseAsync(repository, digest);
        Assert.NotNull(readUse);
        Assert.True(readUse > uploadedUse, $"The read at {readUse:O} did not move the last use from {uploadedUse:O}.");
    }

    private async Task<DateTimeOffset?> LastUseAsync(string repository, string digest)
    {
        var store = _factory.Services.GetRequiredService<IGarbageCollectionStore>();
        var contents = await store.GetRepositoryContentsAsync(RepositoryName.Parse(repository));
        Assert.NotNull(contents);
        return Assert.Single(contents.BlobLinks, link => link.Digest == Digest.Parse(digest)).LastUsedAt;
    }
}

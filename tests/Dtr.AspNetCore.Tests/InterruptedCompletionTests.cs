using System.Net;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

/// <summary>
/// A completion whose blob reached the blob store but whose database writes failed (for example when the database
/// went down between the two) leaves a session with a verified digest and no upload data. These tests build that
/// state through the stores, as the failed completion leaves it, and retry the completion over HTTP.
/// </summary>
public sealed class InterruptedCompletionTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryFactory _factory;
    private readonly RegistryClient _client;

    public InterruptedCompletionTests(RegistryFactory factory)
    {
        _factory = factory;
        _client = factory.CreateRegistryClient();
    }

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task RetriedPut_FinishesStoredBlob()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(5000, 60);
        var (location, digest) = await InterruptCompletionAsync(repository, blob);

        using var retry = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest));

        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(digest.Value, Header(retry, ContentDigestHeader));
        using var download = await _client.GetAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(blob, await download.Content.ReadAsByteArrayAsync());
        using var status = await _client.GetAsync(location);
        await AssertErrorAsync(status, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    [Fact]
    public async Task RetriedPut_OtherDigestRejected()
    {
        var repository = TestContent.UniqueRepository();
        var (location, digest) = await InterruptCompletionAsync(repository, TestContent.RandomBytes(700, 61));
        var other = Digest.Compute(TestContent.RandomBytes(700, 62));

        using var retry = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + other));

        await AssertErrorAsync(retry, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using var foreign = await _client.HeadAsync($"/v2/{repository}/blobs/{other}");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        using var stored = await _client.HeadAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
    }

    [Fact]
    public async Task RetriedPut_LostBlobIsUnknownUpload()
    {
        var repository = TestContent.UniqueRepository();
        var (location, digest) = await InterruptCompletionAsync(repository, TestContent.RandomBytes(900, 63));
        await _factory.Services.GetRequiredService<IBlobStore>().DeleteAsync(digest);

        using var retry = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + digest));

        await AssertErrorAsync(retry, HttpStatusCode.NotFound, "BLOB_UPLOAD_UNKNOWN");
    }

    /// <summary>
    /// Uploads <paramref name="blob"/> in one PATCH, then marks the session verified and moves the upload into the
    /// blob store without linking it, which is what a completion leaves when the database fails after the move.
    /// </summary>
    private async Task<(string Location, Digest Digest)> InterruptCompletionAsync(string repository, byte[] blob)
    {
        var location = await _client.StartUploadAsync(repository);
        using var patch = await _client.SendAsync(HttpMethod.Patch, location, Binary(blob));
        Assert.Equal(HttpStatusCode.Accepted, patch.StatusCode);
        var uploadId = Header(patch, "Docker-Upload-UUID");
        Assert.NotNull(uploadId);

        var digest = Digest.Compute(blob);
        await _factory.Services.GetRequiredService<IMetadataStore>().MarkUploadVerifiedAsync(uploadId, digest);
        await _factory.Services.GetRequiredService<IBlobStore>().CommitUploadAsync(uploadId, digest);
        return (patch.Headers.Location!.ToString(), digest);
    }
}

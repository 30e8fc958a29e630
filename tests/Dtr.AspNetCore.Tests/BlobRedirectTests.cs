using System.Net;
using Dtr.Digests;
using Dtr.Storage;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

/// <summary>
/// Checks the registry's side of blob redirects with a blob store that can make download URLs. The URLs point at a
/// reserved <c>.invalid</c> host and are never fetched here; the S3 and Azure driver tests fetch real ones.
/// </summary>
public sealed class BlobRedirectTests
{
    [Fact]
    public async Task Get_RedirectsWhenEnabled()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: true);
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        var digest = await client.PushBlobAsync(repository, TestContent.RandomBytes(300, 40));

        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}", ("Range", "bytes=0-9"));

        Assert.Equal(HttpStatusCode.TemporaryRedirect, response.StatusCode);
        Assert.Equal(new Uri($"https://storage.invalid/{digest}?lifetime=120"), response.Headers.Location);
        Assert.Equal(digest, Header(response, ContentDigestHeader));
        Assert.Equal("no-store", Header(response, "Cache-Control"));
        Assert.Null(response.Content.Headers.ContentType);
    }

    [Fact]
    public async Task SuffixRange_IsAnsweredByRegistry()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: true);
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(300, 46);
        var digest = await client.PushBlobAsync(repository, blob);

        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}", ("Range", "bytes=-50"));

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Null(response.Headers.Location);
        Assert.Equal(blob[^50..], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_IsAnsweredByRegistry()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: true);
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        var digest = await client.PushBlobAsync(repository, TestContent.RandomBytes(300, 41));

        using var response = await client.HeadAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(300, response.Content.Headers.ContentLength);
        Assert.Null(response.Headers.Location);
    }

    [Fact]
    public async Task Get_SendsBytesWhenDisabled()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: false);
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(300, 42);
        var digest = await client.PushBlobAsync(repository, blob);

        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_SendsBytesWhenStoreDeclines()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: true) { Decline = true };
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(300, 43);
        var digest = await client.PushBlobAsync(repository, blob);

        using var response = await client.GetAsync($"/v2/{repository}/blobs/{digest}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(blob, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Get_UnknownBlobIsNotRedirected()
    {
        await using var factory = new RedirectingRegistryFactory(redirectsEnabled: true);
        using var client = factory.CreateRegistryClient();
        var repository = TestContent.UniqueRepository();
        await client.PushBlobAsync(repository, TestContent.RandomBytes(10, 44));
        var missing = Digest.Compute(TestContent.RandomBytes(10, 45));

        using var response = await client.GetAsync($"/v2/{repository}/blobs/{missing}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(response.Headers.Location);
    }

    private sealed class RedirectingRegistryFactory : RegistryFactory
    {
        public RedirectingRegistryFactory(bool redirectsEnabled)
        {
            Settings = new Dictionary<string, string?>
            {
                ["Registry:RedirectBlobDownloads"] = redirectsEnabled ? "true" : "false",
                ["Registry:RedirectLifetime"] = "00:02:00",
            };
        }

        /// <summary>Makes the store return no URL, as a driver does when it cannot sign one.</summary>
        public bool Decline { get; init; }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(services =>
            {
                var inner = services.Last(descriptor => descriptor.ServiceType == typeof(IBlobStore));
                services.RemoveAll<IBlobStore>();
                services.AddSingleton<IBlobStore>(provider =>
                {
                    var store = (IBlobStore)inner.ImplementationFactory!(provider);
                    return new RedirectingBlobStore(store, Decline);
                });
            });
        }
    }

    /// <summary>Delegates every call to the real store and makes download URLs on a reserved host.</summary>
    private sealed class RedirectingBlobStore(IBlobStore inner, bool decline) : IBlobStore, IBlobRedirectSource
    {
        public ValueTask<Uri?> GetDownloadUriAsync(Digest digest, TimeSpan lifetime, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult(decline ? null : new Uri($"https://storage.invalid/{digest}?lifetime={lifetime.TotalSeconds:F0}"));

        public ValueTask<BlobInfo?> StatAsync(Digest digest, CancellationToken cancellationToken = default) => inner.StatAsync(digest, cancellationToken);

        public ValueTask<Stream?> OpenReadAsync(Digest digest, long offset = 0, CancellationToken cancellationToken = default) => inner.OpenReadAsync(digest, offset, cancellationToken);

        public ValueTask<bool> DeleteAsync(Digest digest, CancellationToken cancellationToken = default) => inner.DeleteAsync(digest, cancellationToken);

        public IAsyncEnumerable<BlobInfo> ListAsync(CancellationToken cancellationToken = default) => inner.ListAsync(cancellationToken);

        public ValueTask CreateUploadAsync(string uploadId, CancellationToken cancellationToken = default) => inner.CreateUploadAsync(uploadId, cancellationToken);

        public ValueTask<long?> GetUploadLengthAsync(string uploadId, CancellationToken cancellationToken = default) => inner.GetUploadLengthAsync(uploadId, cancellationToken);

        public ValueTask<IBlobUploadWriter> OpenUploadWriterAsync(string uploadId, CancellationToken cancellationToken = default) => inner.OpenUploadWriterAsync(uploadId, cancellationToken);

        public ValueTask<Stream> OpenUploadReaderAsync(string uploadId, CancellationToken cancellationToken = default) => inner.OpenUploadReaderAsync(uploadId, cancellationToken);

        public ValueTask<BlobInfo> CommitUploadAsync(string uploadId, Digest digest, CancellationToken cancellationToken = default) => inner.CommitUploadAsync(uploadId, digest, cancellationToken);

        public ValueTask DeleteUploadAsync(string uploadId, CancellationToken cancellationToken = default) => inner.DeleteUploadAsync(uploadId, cancellationToken);
    }
}

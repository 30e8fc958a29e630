using System.Net;
using Dtr.AspNetCore.Tests.Security;
using Dtr.Digests;
using Dtr.Identity;
using Dtr.Names;

namespace Dtr.AspNetCore.Tests;

/// <summary>Blob deletes in repositories whose tags are immutable.</summary>
public sealed class ImmutableBlobDeleteTests : IAsyncLifetime
{
    private const string AdminName = "blob-admin";
    private const string AdminPassword = "blob-admin-password";

    private readonly AuthRegistryFactory _factory = new();

    public async Task InitializeAsync() => await _factory.CreateUserAsync(AdminName, AdminPassword, isAdmin: true);

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task DeleteBlob_ImmutableTagsIsDenied()
    {
        await _factory.CreateRepositoryAsync($"{AdminName}/locked", RepositoryVisibility.Private, immutableTags: true);
        using var client = _factory.CreateBasicClient(AdminName, AdminPassword);
        var layer = TestContent.RandomBytes(64, seed: 1);
        await client.PushImageAsync($"{AdminName}/locked", "v1", seed: 1);
        var digest = Digest.Compute(layer).Value;

        using var response = await client.DeleteAsync($"/v2/{AdminName}/locked/blobs/{digest}");

        var error = await RegistryClient.AssertErrorAsync(response, HttpStatusCode.Forbidden, "DENIED");
        Assert.Contains("immutable tags", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Contains("turn off immutable tags", error.GetProperty("message").GetString(), StringComparison.Ordinal);
        using var stillThere = await client.HeadAsync($"/v2/{AdminName}/locked/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
    }

    [Fact]
    public async Task DeleteBlob_MutableTagsIsAccepted()
    {
        await _factory.CreateRepositoryAsync($"{AdminName}/open", RepositoryVisibility.Private);
        using var client = _factory.CreateBasicClient(AdminName, AdminPassword);
        var layer = TestContent.RandomBytes(64, seed: 2);
        await client.PushImageAsync($"{AdminName}/open", "v1", seed: 2);
        var digest = Digest.Compute(layer).Value;

        using var response = await client.DeleteAsync($"/v2/{AdminName}/open/blobs/{digest}");

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    [Fact]
    public async Task DeleteBlob_UnknownInImmutableIsBlobUnknown()
    {
        await _factory.CreateRepositoryAsync($"{AdminName}/empty", RepositoryVisibility.Private, immutableTags: true);
        using var client = _factory.CreateBasicClient(AdminName, AdminPassword);
        var digest = Digest.Compute(TestContent.RandomBytes(64, seed: 3)).Value;

        using var response = await client.DeleteAsync($"/v2/{AdminName}/empty/blobs/{digest}");

        await RegistryClient.AssertErrorAsync(response, HttpStatusCode.NotFound, "BLOB_UNKNOWN");
    }
}

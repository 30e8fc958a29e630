using System.Net;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class ReferrerTests : IClassFixture<RegistryFactory>, IDisposable
{
    private const string SbomType = "application/vnd.example.sbom.v1";
    private const string SignatureType = "application/vnd.example.signature.v1";

    private readonly RegistryClient _client;

    public ReferrerTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task NoReferrers_ReturnsEmptyIndex()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");

        using var known = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");
        using var unknown = await _client.GetAsync($"/v2/{repository}/referrers/{TestContent.Sha256([1])}");

        foreach (var response in new[] { known, unknown })
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(TestContent.OciIndexType, response.Content.Headers.ContentType?.ToString());
            using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
            Assert.Equal(2, document.RootElement.GetProperty("schemaVersion").GetInt32());
            Assert.Equal(TestContent.OciIndexType, document.RootElement.GetProperty("mediaType").GetString());
            Assert.Equal(0, document.RootElement.GetProperty("manifests").GetArrayLength());
        }
    }

    [Fact]
    public async Task UnknownRepository_ReturnsEmptyIndex()
    {
        // The referrers API must not answer 404, so a repository without content lists no referrers.
        using var response = await _client.GetAsync($"/v2/{TestContent.UniqueRepository()}/referrers/{TestContent.Sha256([2])}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await ReadReferrersAsync(response));
    }

    [Fact]
    public async Task Artifact_IsListedWithTypeAndAnnotations()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");
        var annotations = new Dictionary<string, string> { ["org.example.format"] = "json", ["org.opencontainers.image.created"] = "2024-01-01T00:00:00Z" };
        var artifact = await PushArtifactAsync(repository, image, SbomType, annotations);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");

        var referrers = await ReadReferrersAsync(response);
        var referrer = Assert.Single(referrers);
        Assert.Equal(TestContent.OciManifestType, referrer.GetProperty("mediaType").GetString());
        Assert.Equal(artifact.Digest, referrer.GetProperty("digest").GetString());
        Assert.Equal(artifact.Bytes.Length, referrer.GetProperty("size").GetInt64());
        Assert.Equal(SbomType, referrer.GetProperty("artifactType").GetString());
        Assert.Equal("json", referrer.GetProperty("annotations").GetProperty("org.example.format").GetString());
        Assert.Equal("2024-01-01T00:00:00Z", referrer.GetProperty("annotations").GetProperty("org.opencontainers.image.created").GetString());
    }

    [Fact]
    public async Task ImageWithoutArtifactType_UsesConfigMediaType()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");
        const string configType = "application/vnd.example.config.v1+json";
        var config = TestContent.Json("""{"example":true}""");
        await _client.PushBlobAsync(repository, config);
        var referrer = TestContent.OciManifest(TestContent.Descriptor(configType, config), [], subject: image.Descriptor());
        await _client.PushManifestAsync(repository, referrer.Digest, referrer.Bytes, referrer.MediaType);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");

        var listed = Assert.Single(await ReadReferrersAsync(response));
        Assert.Equal(configType, listed.GetProperty("artifactType").GetString());
    }

    [Fact]
    public async Task IndexReferrer_IsListedWithoutArtifactType()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1", 1);
        var child = await _client.PushImageAsync(repository, "child", 2);
        var index = TestContent.OciIndex([child], subject: image.Descriptor());
        await _client.PushManifestAsync(repository, index.Digest, index.Bytes, index.MediaType);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");

        var listed = Assert.Single(await ReadReferrersAsync(response));
        Assert.Equal(index.Digest, listed.GetProperty("digest").GetString());
        Assert.Equal(TestContent.OciIndexType, listed.GetProperty("mediaType").GetString());
        Assert.False(listed.TryGetProperty("artifactType", out _));
    }

    [Fact]
    public async Task ArtifactTypeFilter_ReturnsMatchesAndHeader()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");
        var sbom = await PushArtifactAsync(repository, image, SbomType);
        var signature = await PushArtifactAsync(repository, image, SignatureType);

        using var filtered = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}?artifactType={Uri.EscapeDataString(SbomType)}");
        using var unfiltered = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");

        var match = Assert.Single(await ReadReferrersAsync(filtered));
        Assert.Equal(sbom.Digest, match.GetProperty("digest").GetString());
        Assert.Equal("artifactType", Header(filtered, "OCI-Filters-Applied"));
        var all = (await ReadReferrersAsync(unfiltered)).Select(referrer => referrer.GetProperty("digest").GetString()).ToList();
        Assert.Equal(2, all.Count);
        Assert.Contains(sbom.Digest, all);
        Assert.Contains(signature.Digest, all);
        Assert.Null(Header(unfiltered, "OCI-Filters-Applied"));
    }

    [Fact]
    public async Task ReferrerOfMissingSubject_IsListed()
    {
        var repository = TestContent.UniqueRepository();
        var subject = TestContent.MissingManifestDescriptor(3);
        var config = TestContent.Json("{}");
        await _client.PushBlobAsync(repository, config);
        var artifact = TestContent.OciManifest(TestContent.Descriptor(TestContent.OciEmpty, config), [], subject: subject, artifactType: SbomType);
        await _client.PushManifestAsync(repository, artifact.Digest, artifact.Bytes, artifact.MediaType);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{subject["digest"]!.GetValue<string>()}");

        var listed = Assert.Single(await ReadReferrersAsync(response));
        Assert.Equal(artifact.Digest, listed.GetProperty("digest").GetString());
    }

    [Fact]
    public async Task DeletedReferrer_IsNotListed()
    {
        var repository = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");
        var artifact = await PushArtifactAsync(repository, image, SbomType);

        using var delete = await _client.DeleteAsync($"/v2/{repository}/manifests/{artifact.Digest}");
        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");
        Assert.Empty(await ReadReferrersAsync(response));
    }

    [Fact]
    public async Task ReferrerInOtherRepository_IsNotListed()
    {
        var repository = TestContent.UniqueRepository();
        var other = TestContent.UniqueRepository();
        var image = await _client.PushImageAsync(repository, "v1");
        await PushArtifactAsync(other, image, SbomType);

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{image.Digest}");

        Assert.Empty(await ReadReferrersAsync(response));
    }

    [Theory]
    [InlineData("sha256:zz")]
    [InlineData("latest")]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e")]
    public async Task InvalidDigest_Returns400(string digest)
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushImageAsync(repository, "v1");

        using var response = await _client.GetAsync($"/v2/{repository}/referrers/{digest}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEqual(default, await ReadFirstErrorAsync(response));
    }

    private async Task<TestManifest> PushArtifactAsync(string repository, TestManifest subject, string artifactType, IReadOnlyDictionary<string, string>? annotations = null)
    {
        var config = TestContent.Json("{}");
        var layer = TestContent.RandomBytes(32, artifactType.Length);
        await _client.PushBlobAsync(repository, config);
        await _client.PushBlobAsync(repository, layer);
        var artifact = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciEmpty, config),
            [TestContent.Descriptor("application/octet-stream", layer)],
            subject: subject.Descriptor(),
            artifactType: artifactType,
            annotations: annotations);

        using var response = await _client.PutManifestAsync(repository, artifact.Digest, artifact.Bytes, artifact.MediaType);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(subject.Digest, Header(response, "OCI-Subject"));
        return artifact;
    }

    private static async Task<List<JsonElement>> ReadReferrersAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.OK, await DescribeAsync(response));
        Assert.Equal(TestContent.OciIndexType, response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return document.RootElement.GetProperty("manifests").EnumerateArray().Select(element => element.Clone()).ToList();
    }
}

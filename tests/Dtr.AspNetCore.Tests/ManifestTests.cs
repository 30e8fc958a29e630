using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class ManifestTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public ManifestTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task PutByTag_Returns201WithLocation()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 1);

        using var response = await _client.PutManifestAsync(repository, "v1", manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(manifest.Digest, Header(response, ContentDigestHeader));
        var location = response.Headers.Location?.ToString();
        Assert.NotNull(location);
        Assert.Contains($"/v2/{repository}/manifests/", location);

        // The Location must be a pullable manifest URL.
        using var pull = await _client.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
    }

    [Fact]
    public async Task GetByTagAndDigest_ReturnsExactBytes()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "latest", 2);

        foreach (var reference in new[] { "latest", manifest.Digest })
        {
            using var response = await _client.GetAsync($"/v2/{repository}/manifests/{reference}");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(manifest.MediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(manifest.Digest, Header(response, ContentDigestHeader));
            Assert.Equal(manifest.Bytes.Length, response.Content.Headers.ContentLength);
            Assert.Equal(manifest.Bytes, await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task Get_KeepsWhitespaceAndKeyOrder()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("{}");
        var configDigest = await _client.PushBlobAsync(repository, config);
        var text = $$"""
            {
              "schemaVersion": 2,
              "config": { "size": 2, "digest": "{{configDigest}}", "mediaType": "{{TestContent.OciConfig}}" },
              "mediaType": "{{TestContent.OciManifestType}}",
              "layers": []
            }
            """;
        var bytes = Encoding.UTF8.GetBytes(text);

        var digest = await _client.PushManifestAsync(repository, "pretty", bytes, TestContent.OciManifestType);

        Assert.Equal(TestContent.Sha256(bytes), digest);
        using var response = await _client.GetAsync($"/v2/{repository}/manifests/pretty");
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Head_ReturnsHeadersWithoutBody()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "latest", 3);

        foreach (var reference in new[] { "latest", manifest.Digest })
        {
            using var response = await _client.HeadAsync($"/v2/{repository}/manifests/{reference}");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(manifest.MediaType, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(manifest.Digest, Header(response, ContentDigestHeader));
            Assert.Equal(manifest.Bytes.Length, response.Content.Headers.ContentLength);
            Assert.Empty(await response.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task PutByDigestWithTags_ReturnsOciTag()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 4);

        using var response = await _client.PutManifestAsync(repository, $"{manifest.Digest}?tag=a&tag=b", manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var tagHeaders = HeaderValues(response, "OCI-Tag").SelectMany(value => value.Split(',', StringSplitOptions.TrimEntries)).ToList();
        Assert.Contains("a", tagHeaders);
        Assert.Contains("b", tagHeaders);
        Assert.Equal(["a", "b"], await _client.ListTagsAsync(repository));
        using var byTag = await _client.GetAsync($"/v2/{repository}/manifests/b");
        Assert.Equal(manifest.Bytes, await byTag.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task PutByDigestWithoutTags_CreatesNoTag()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 5);

        using var response = await _client.PutManifestAsync(repository, manifest.Digest, manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Empty(HeaderValues(response, "OCI-Tag"));
        Assert.Empty(await _client.ListTagsAsync(repository));
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/{manifest.Digest}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task PutByWrongDigest_Returns400()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 6);
        var wrongDigest = TestContent.Sha256(TestContent.RandomBytes(10, 6));

        using var response = await _client.PutManifestAsync(repository, wrongDigest, manifest.Bytes, manifest.MediaType);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "DIGEST_INVALID");
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/{manifest.Digest}");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task MissingLayer_Returns404ManifestBlobUnknown()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("""{"os":"linux"}""");
        await _client.PushBlobAsync(repository, config);
        var missingLayer = TestContent.RandomBytes(64, 7);
        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, missingLayer)]);

        using var response = await _client.PutManifestAsync(repository, "latest", manifest.Bytes, manifest.MediaType);

        var error = await AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_BLOB_UNKNOWN");
        Assert.Equal(TestContent.Sha256(missingLayer), error.GetProperty("detail").GetProperty("digest").GetString());
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/latest");
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task WrongLayerSize_Returns400ManifestInvalid()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("""{"os":"linux"}""");
        var layer = TestContent.RandomBytes(64, 9);
        await _client.PushBlobAsync(repository, config);
        await _client.PushBlobAsync(repository, layer);
        var layerDescriptor = TestContent.Descriptor(TestContent.OciLayer, layer);
        layerDescriptor["size"] = 999;
        var manifest = TestContent.OciManifest(TestContent.Descriptor(TestContent.OciConfig, config), [layerDescriptor]);

        using var response = await _client.PutManifestAsync(repository, "latest", manifest.Bytes, manifest.MediaType);

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        Assert.Contains(TestContent.Sha256(layer), error.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task MissingConfig_Returns404ManifestBlobUnknown()
    {
        var repository = TestContent.UniqueRepository();
        var layer = TestContent.RandomBytes(64, 8);
        await _client.PushBlobAsync(repository, layer);
        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, TestContent.Json("""{"missing":true}""")),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);

        using var response = await _client.PutManifestAsync(repository, "latest", manifest.Bytes, manifest.MediaType);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task LayerOfOtherRepository_Returns404()
    {
        var repository = TestContent.UniqueRepository();
        var other = TestContent.UniqueRepository();
        var config = TestContent.Json("""{"os":"linux"}""");
        var layer = TestContent.RandomBytes(64, 9);
        await _client.PushBlobAsync(repository, config);
        await _client.PushBlobAsync(other, layer);
        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);

        using var response = await _client.PutManifestAsync(repository, "latest", manifest.Bytes, manifest.MediaType);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_BLOB_UNKNOWN");
    }

    [Fact]
    public async Task IndexWithMissingChild_Returns404()
    {
        var repository = TestContent.UniqueRepository();
        var pushed = await _client.PushImageAsync(repository, "amd64", 10);
        var missing = TestContent.OciManifest(TestContent.Descriptor(TestContent.OciConfig, TestContent.Json("{}")), []);
        var index = TestContent.OciIndex([pushed, missing]);

        using var response = await _client.PutManifestAsync(repository, "multi", index.Bytes, index.MediaType);

        await AssertErrorAsync(response, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task IndexAfterChildren_IsStored()
    {
        var repository = TestContent.UniqueRepository();
        var first = await _client.PushImageAsync(repository, "one", 11);
        var second = await _client.PushImageAsync(repository, "two", 12);
        var index = TestContent.OciIndex([first, second]);

        var digest = await _client.PushManifestAsync(repository, "multi", index.Bytes, index.MediaType);

        Assert.Equal(index.Digest, digest);
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/multi");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(TestContent.OciIndexType, get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(index.Bytes, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task DockerSchema2AndList_KeepMediaTypes()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("""{"architecture":"amd64","os":"linux","docker":true}""");
        var layer = TestContent.RandomBytes(64, 13);
        await _client.PushBlobAsync(repository, config);
        await _client.PushBlobAsync(repository, layer);
        var manifest = TestContent.DockerManifest(config, layer);
        var list = TestContent.DockerManifestList([manifest]);

        await _client.PushManifestAsync(repository, "image", manifest.Bytes, manifest.MediaType);
        await _client.PushManifestAsync(repository, "list", list.Bytes, list.MediaType);

        using var getManifest = await _client.GetAsync($"/v2/{repository}/manifests/image");
        Assert.Equal(TestContent.DockerManifestType, getManifest.Content.Headers.ContentType?.MediaType);
        Assert.Equal(manifest.Bytes, await getManifest.Content.ReadAsByteArrayAsync());
        using var getList = await _client.GetAsync($"/v2/{repository}/manifests/list");
        Assert.Equal(TestContent.DockerManifestListType, getList.Content.Headers.ContentType?.MediaType);
        Assert.Equal(list.Digest, Header(getList, ContentDigestHeader));
    }

    [Theory]
    [InlineData("application/vnd.docker.distribution.manifest.v1+json")]
    [InlineData("application/vnd.docker.distribution.manifest.v1+prettyjws")]
    public async Task DockerSchema1_Returns400ManifestInvalid(string mediaType)
    {
        var repository = TestContent.UniqueRepository();
        var body = TestContent.Json("""
            {"schemaVersion":1,"name":"x/y","tag":"latest","architecture":"amd64","fsLayers":[],"history":[]}
            """);

        using var response = await _client.PutManifestAsync(repository, "old", body, mediaType);

        var error = await AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
        var message = error.GetProperty("message").GetString() ?? "";
        Assert.True(message.Contains("schema 2", StringComparison.OrdinalIgnoreCase) || message.Contains("OCI", StringComparison.Ordinal), message);
    }

    [Theory]
    [InlineData("{not json")]
    [InlineData("")]
    [InlineData("[]")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\"}")]
    [InlineData("{\"schemaVersion\":3,\"config\":{},\"layers\":[]}")]
    public async Task InvalidManifest_Returns400(string body)
    {
        var repository = TestContent.UniqueRepository();

        using var response = await _client.PutManifestAsync(repository, "bad", TestContent.Json(body), TestContent.OciManifestType);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task BodyOverLimit_Returns413()
    {
        var repository = TestContent.UniqueRepository();
        var body = new byte[(4 * 1024 * 1024) + 1];
        Array.Fill(body, (byte)' ');

        using var response = await _client.PutManifestAsync(repository, "huge", body, TestContent.OciManifestType);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.NotEqual(default, await ReadFirstErrorAsync(response));
    }

    [Fact]
    public async Task ManifestNearLimit_IsAccepted()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("{}");
        await _client.PushBlobAsync(repository, config);
        var annotations = new Dictionary<string, string>();
        for (var i = 0; i < 60; i++)
        {
            annotations[$"org.example.padding.{i:D2}"] = new string('x', 65_000);
        }

        var manifest = TestContent.OciManifest(TestContent.Descriptor(TestContent.OciConfig, config), [], annotations: annotations);
        Assert.InRange(manifest.Bytes.Length, 3_900_000, 4 * 1024 * 1024);

        var digest = await _client.PushManifestAsync(repository, "big", manifest.Bytes, manifest.MediaType);

        Assert.Equal(manifest.Digest, digest);
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/big");
        Assert.Equal(manifest.Bytes, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task MissingSubject_IsAcceptedWithOciSubject()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("{}");
        await _client.PushBlobAsync(repository, config);
        var subject = TestContent.MissingManifestDescriptor(14);
        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciEmpty, config),
            [],
            subject: subject,
            artifactType: "application/vnd.example.signature");

        using var response = await _client.PutManifestAsync(repository, manifest.Digest, manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(subject["digest"]!.GetValue<string>(), Header(response, "OCI-Subject"));
    }

    [Fact]
    public async Task DeleteByTag_RemovesOnlyTag()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "v1", 15);
        await _client.PushManifestAsync(repository, "v2", manifest.Bytes, manifest.MediaType);

        using var delete = await _client.DeleteAsync($"/v2/{repository}/manifests/v1");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        using var byTag = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        await AssertErrorAsync(byTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        using var byDigest = await _client.GetAsync($"/v2/{repository}/manifests/{manifest.Digest}");
        Assert.Equal(HttpStatusCode.OK, byDigest.StatusCode);
        using var otherTag = await _client.GetAsync($"/v2/{repository}/manifests/v2");
        Assert.Equal(HttpStatusCode.OK, otherTag.StatusCode);
        Assert.Equal(["v2"], await _client.ListTagsAsync(repository));
    }

    [Fact]
    public async Task DeleteByDigest_RemovesManifestAndTags()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "v1", 16);
        await _client.PushManifestAsync(repository, "v2", manifest.Bytes, manifest.MediaType);
        var otherImage = await _client.PushImageAsync(repository, "other", 17);

        using var delete = await _client.DeleteAsync($"/v2/{repository}/manifests/{manifest.Digest}");

        Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        foreach (var reference in new[] { manifest.Digest, "v1", "v2" })
        {
            using var get = await _client.GetAsync($"/v2/{repository}/manifests/{reference}");
            await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        }

        Assert.Equal(["other"], await _client.ListTagsAsync(repository));
        using var otherGet = await _client.GetAsync($"/v2/{repository}/manifests/{otherImage.Digest}");
        Assert.Equal(HttpStatusCode.OK, otherGet.StatusCode);
    }

    [Fact]
    public async Task DeleteUnknown_Returns404()
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushImageAsync(repository, "v1", 18);

        using var byTag = await _client.DeleteAsync($"/v2/{repository}/manifests/nope");
        using var byDigest = await _client.DeleteAsync($"/v2/{repository}/manifests/{TestContent.Sha256([9])}");
        using var noRepository = await _client.DeleteAsync($"/v2/{TestContent.UniqueRepository()}/manifests/{TestContent.Sha256([9])}");

        await AssertErrorAsync(byTag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await AssertErrorAsync(byDigest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(HttpStatusCode.NotFound, noRepository.StatusCode);
    }

    [Fact]
    public async Task GetUnknown_Returns404ManifestUnknown()
    {
        var repository = TestContent.UniqueRepository();
        await _client.PushImageAsync(repository, "v1", 19);

        using var tag = await _client.GetAsync($"/v2/{repository}/manifests/missing");
        using var digest = await _client.GetAsync($"/v2/{repository}/manifests/{TestContent.Sha256([1])}");
        using var head = await _client.HeadAsync($"/v2/{repository}/manifests/missing");
        using var noRepository = await _client.GetAsync($"/v2/{TestContent.UniqueRepository()}/manifests/latest");

        await AssertErrorAsync(tag, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        await AssertErrorAsync(digest, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noRepository.StatusCode);
    }

    [Fact]
    public async Task ManifestOfOtherRepository_Returns404()
    {
        var owner = TestContent.UniqueRepository();
        var other = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(owner, "v1", 20);
        await _client.PushImageAsync(other, "v1", 21);

        using var get = await _client.GetAsync($"/v2/{other}/manifests/{manifest.Digest}");

        await AssertErrorAsync(get, HttpStatusCode.NotFound, "MANIFEST_UNKNOWN");
    }

    [Fact]
    public async Task RepushToNewTag_KeepsBothTags()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "first", 22);

        var digest = await _client.PushManifestAsync(repository, "second", manifest.Bytes, manifest.MediaType);
        var again = await _client.PushManifestAsync(repository, "first", manifest.Bytes, manifest.MediaType);

        Assert.Equal(manifest.Digest, digest);
        Assert.Equal(manifest.Digest, again);
        Assert.Equal(["first", "second"], await _client.ListTagsAsync(repository));
    }

    [Fact]
    public async Task PushToExistingTag_MovesTag()
    {
        var repository = TestContent.UniqueRepository();
        var old = await _client.PushImageAsync(repository, "latest", 23);
        var current = await _client.PushImageAsync(repository, "latest", 24);

        using var byTag = await _client.GetAsync($"/v2/{repository}/manifests/latest");
        Assert.Equal(current.Digest, Header(byTag, ContentDigestHeader));
        Assert.Equal(current.Bytes, await byTag.Content.ReadAsByteArrayAsync());
        using var oldByDigest = await _client.GetAsync($"/v2/{repository}/manifests/{old.Digest}");
        Assert.Equal(HttpStatusCode.OK, oldByDigest.StatusCode);
        Assert.Equal(["latest"], await _client.ListTagsAsync(repository));
    }

    [Theory]
    [InlineData("-leading-dash")]
    [InlineData(".leading-dot")]
    [InlineData("has+plus")]
    public async Task PutInvalidTag_Returns400(string tag)
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 25);

        using var response = await _client.PutManifestAsync(repository, Uri.EscapeDataString(tag), manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEqual(default, await ReadFirstErrorAsync(response));
    }

    [Fact]
    public async Task PutTagOf128Characters_IsAccepted()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 26);
        var tag = "t" + new string('a', 127);

        using var response = await _client.PutManifestAsync(repository, tag, manifest.Bytes, manifest.MediaType);
        using var tooLong = await _client.PutManifestAsync(repository, tag + "a", manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
    }

    [Fact]
    public async Task PutBySha512Digest_IsStored()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 27);
        var sha512 = TestContent.Sha512(manifest.Bytes);

        using var response = await _client.PutManifestAsync(repository, sha512, manifest.Bytes, manifest.MediaType);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(sha512, Header(response, ContentDigestHeader));
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/{sha512}");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(manifest.Bytes, await get.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task ContentTypeParameters_AreIgnored()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 28);
        var content = new ByteArrayContent(manifest.Bytes);
        content.Headers.TryAddWithoutValidation("Content-Type", TestContent.OciManifestType + "; charset=utf-8");

        using var response = await _client.SendAsync(HttpMethod.Put, $"/v2/{repository}/manifests/v1", content);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(TestContent.OciManifestType, get.Content.Headers.ContentType?.ToString());
    }

    [Fact]
    public async Task ContentTypeMismatch_Returns400()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await PrepareImageAsync(repository, 29);

        using var response = await _client.PutManifestAsync(repository, "v1", manifest.Bytes, TestContent.DockerManifestType);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "MANIFEST_INVALID");
    }

    [Fact]
    public async Task NoMediaTypeField_UsesContentType()
    {
        var repository = TestContent.UniqueRepository();
        var config = TestContent.Json("{}");
        var configDigest = await _client.PushBlobAsync(repository, config);
        var bytes = TestContent.Json($$"""{"schemaVersion":2,"config":{"mediaType":"{{TestContent.OciConfig}}","digest":"{{configDigest}}","size":2},"layers":[]}""");

        await _client.PushManifestAsync(repository, "v1", bytes, TestContent.OciManifestType);

        using var get = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(TestContent.OciManifestType, get.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes, await get.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Pushes the blobs of an image and returns its manifest, which is not pushed.</summary>
    private async Task<TestManifest> PrepareImageAsync(string repository, int seed)
    {
        var config = TestContent.Json($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        var layer = TestContent.RandomBytes(64, seed);
        await _client.PushBlobAsync(repository, config);
        await _client.PushBlobAsync(repository, layer);
        return TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);
    }
}

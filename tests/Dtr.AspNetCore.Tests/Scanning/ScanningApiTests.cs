using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Names;
using Dtr.Scanning.Tests.Service;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Scanning;

public sealed class ScanningApiTests : IClassFixture<ScanningFactory>, IAsyncLifetime
{
    private readonly ScanningFactory _factory;
    private readonly ManagementClient _admin;
    private string _owner = "";
    private string _reader = "";
    private string _writer = "";
    private string _outsider = "";

    public ScanningApiTests(ScanningFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public async Task InitializeAsync()
    {
        await _factory.ImportGlibcArchiveAsync();
        var suffix = Guid.NewGuid().ToString("N")[..8];
        _owner = "org" + suffix;
        _reader = "reader" + suffix;
        _writer = "writer" + suffix;
        _outsider = "outsider" + suffix;
        await _admin.CreateUserAsync(_reader);
        await _admin.CreateUserAsync(_writer);
        await _admin.CreateUserAsync(_outsider);
        await _admin.CreateOrganizationAsync(_owner);
        await _admin.CreateTeamAsync(_owner, "readers", _reader);
        await _admin.CreateTeamAsync(_owner, "writers", _writer);
    }

    public Task DisposeAsync()
    {
        _admin.Dispose();
        return Task.CompletedTask;
    }

    private async Task<RepositoryName> CreateRepositoryAsync(string name)
    {
        await _admin.CreateRepositoryAsync(_owner, name);
        await _admin.GrantAsync($"{_owner}/{name}", "readers", "read-only");
        await _admin.GrantAsync($"{_owner}/{name}", "writers", "read-write");
        return RepositoryName.Parse($"{_owner}/{name}");
    }

    private ManagementClient Client(string user) => _factory.CreateManagementClient(user, PasswordOf(user));

    [Fact]
    public async Task Database_Get_SignedInOnly()
    {
        using var anonymous = _factory.CreateManagementClient();
        using var reader = Client(_reader);

        using var rejected = await anonymous.GetAsync("/scanning/database");
        using var response = await reader.GetAsync("/scanning/database");

        await AssertProblemAsync(rejected, HttpStatusCode.Unauthorized);
        var database = await ReadJsonAsync(response);
        Assert.True(database.GetProperty("version").GetInt64() >= 1);
        Assert.True(database.GetProperty("recordCount").GetInt32() >= 1);
        var source = database.GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "debian");
        Assert.StartsWith("sha256:", source.GetProperty("archiveDigest").GetString(), StringComparison.Ordinal);
        Assert.False(source.GetProperty("signatureVerified").GetBoolean());
        Assert.Equal(JsonValueKind.Null, source.GetProperty("etag").ValueKind);
        var online = database.GetProperty("online");
        Assert.Empty(online.GetProperty("urls").EnumerateArray());
        Assert.Equal("1.00:00:00", online.GetProperty("interval").GetString());
        Assert.Equal(JsonValueKind.Null, online.GetProperty("nextAttemptAt").ValueKind);
        Assert.False(database.GetProperty("signatureRequired").GetBoolean());
        Assert.True(database.GetProperty("queueLength").GetInt32() >= 0);
    }

    // The uploads below import records fixed long before the glibc of the test images, so other tests' counts stay put.
    [Fact]
    public async Task Database_Put_AdminOnlyAndValidated()
    {
        using var writer = Client(_writer);
        using var before = await _admin.GetAsync("/scanning/database");
        var version = (await ReadJsonAsync(before)).GetProperty("version").GetInt64();

        using var forbidden = await SendArchiveAsync(writer, "other", TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-1", "2.0")));
        using var invalid = await SendArchiveAsync(_admin, "other", "this is not an archive"u8.ToArray());
        using var imported = await SendArchiveAsync(_admin, "other", TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-1", "2.0")));

        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        var problem = await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
        Assert.Contains("neither a zip file nor a gzip-compressed tar file", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        var result = await ReadJsonAsync(imported);
        Assert.Equal("other", result.GetProperty("source").GetString());
        Assert.Equal(1, result.GetProperty("recordCount").GetInt32());
        Assert.Equal(0, result.GetProperty("skippedCount").GetInt32());
        Assert.True(result.GetProperty("database").GetProperty("version").GetInt64() > version);
    }

    [Fact]
    public async Task Database_PutSameArchive_Unchanged()
    {
        var archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-3", "2.0"));

        using var first = await SendArchiveAsync(_admin, "same", archive);
        using var second = await SendArchiveAsync(_admin, "same", archive);

        var imported = await ReadJsonAsync(first);
        var repeated = await ReadJsonAsync(second);
        Assert.False(imported.GetProperty("unchanged").GetBoolean());
        Assert.True(repeated.GetProperty("unchanged").GetBoolean());
        Assert.Equal(1, repeated.GetProperty("recordCount").GetInt32());
        var source = repeated.GetProperty("database").GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "same");
        Assert.Equal(imported.GetProperty("database").GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "same").GetProperty("updatedAt").GetString(), source.GetProperty("updatedAt").GetString());
    }

    [Fact]
    public async Task Database_PutSourceName_Validated()
    {
        var archive = TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-4", "2.0"));

        foreach (var name in new[] { "", ".hidden", "with%20space", "a%2Fb", new string('x', 101), "https%3A%2F%2Fexample.test%2Fa.zip" })
        {
            using var rejected = await SendArchiveAsync(_admin, name, archive);
            var problem = await AssertProblemAsync(rejected, HttpStatusCode.BadRequest);
            Assert.Contains("letters, digits", problem.GetRawText(), StringComparison.Ordinal);
        }

        using var accepted = await SendArchiveAsync(_admin, "Osv_2024.debian-12", archive);
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Database_Delete_RemovesSource()
    {
        using var writer = Client(_writer);
        using var imported = await SendArchiveAsync(_admin, "removable", TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-5", "2.0")));
        var version = (await ReadJsonAsync(imported)).GetProperty("database").GetProperty("version").GetInt64();

        using var forbidden = await writer.DeleteAsync("/scanning/database?source=removable");
        using var removed = await _admin.DeleteAsync("/scanning/database?source=removable");
        using var again = await _admin.DeleteAsync("/scanning/database?source=removable");
        using var missing = await _admin.DeleteAsync("/scanning/database");
        using var after = await _admin.GetAsync("/scanning/database");

        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        var notFound = await AssertProblemAsync(again, HttpStatusCode.NotFound);
        Assert.Contains("removable", notFound.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest);
        var database = await ReadJsonAsync(after);
        Assert.DoesNotContain(database.GetProperty("sources").EnumerateArray(), s => s.GetProperty("name").GetString() == "removable");
        Assert.True(database.GetProperty("version").GetInt64() > version);
    }

    [Fact]
    public async Task Database_PutBadArchive_NamesProblem()
    {
        var notJson = TestArtifacts.OsvZip("this is not JSON");
        var emptyZip = TestArtifacts.OsvZip();

        using var empty = await SendArchiveAsync(_admin, "bad", []);
        using var withoutRecords = await SendArchiveAsync(_admin, "bad", notJson);
        using var withoutFiles = await SendArchiveAsync(_admin, "bad", emptyZip);

        var emptyDetail = (await AssertProblemAsync(empty, HttpStatusCode.BadRequest)).GetProperty("detail").GetString();
        Assert.Contains("The request body is empty", emptyDetail, StringComparison.Ordinal);
        var recordsDetail = (await AssertProblemAsync(withoutRecords, HttpStatusCode.BadRequest)).GetProperty("detail").GetString();
        Assert.Contains("is a valid archive but its only file is not a valid OSV JSON record", recordsDetail, StringComparison.Ordinal);
        Assert.DoesNotContain("not a zip", recordsDetail, StringComparison.Ordinal);
        var filesDetail = (await AssertProblemAsync(withoutFiles, HttpStatusCode.BadRequest)).GetProperty("detail").GetString();
        Assert.Contains("contains no files", filesDetail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Database_PutSignatureNotBase64_Rejected()
    {
        using var request = Request(HttpMethod.Put, "/scanning/database?source=bad", new ByteArrayContent(TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-6", "2.0"))), _admin);
        request.Headers.Add("X-Dtr-Signature", "not base64!");

        using var response = await _admin.Http.SendAsync(request);

        var detail = (await AssertProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString();
        Assert.Contains("X-Dtr-Signature header is not valid base64", detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_InvalidDigest_StatedOnce()
    {
        var repository = await CreateRepositoryAsync("digests");

        using var response = await _admin.GetAsync($"/repositories/{repository}/manifests/sha256:abc/scan");

        var detail = (await AssertProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString()!;
        Assert.StartsWith("The digest 'sha256:abc' is invalid", detail, StringComparison.Ordinal);
        Assert.Equal(1, detail.Split("is invalid").Length - 1);
    }

    [Fact]
    public async Task OpenApi_ListsScanningOperations()
    {
        using var response = await _admin.GetAsync("/openapi.json");

        var paths = (await ReadJsonAsync(response)).GetProperty("paths");
        var sbom = paths.GetProperty("/api/v0/repositories/{namespace}/{repo}/manifests/{digest}/sbom").GetProperty("get");
        Assert.Equal("GetSbom", sbom.GetProperty("operationId").GetString());
        Assert.True(sbom.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/vnd.cyclonedx+json", out _));
        var scan = paths.GetProperty("/api/v0/repositories/{namespace}/{repo}/manifests/{digest}/scan").GetProperty("get");
        Assert.True(scan.GetProperty("responses").GetProperty("200").GetProperty("content").TryGetProperty("application/json", out _));
        var database = paths.GetProperty("/api/v0/scanning/database");
        Assert.Equal("RemoveVulnerabilitySource", database.GetProperty("delete").GetProperty("operationId").GetString());
        Assert.True(database.GetProperty("put").GetProperty("responses").TryGetProperty("409", out _));
    }

    [Fact]
    public async Task Database_PutMalformedMultipart_BadRequest()
    {
        var bodies = new[] { "not multipart at all", "--b\r\nContent-Disposition: form-data; name=\"archive\"\r\n\r\ntruncated" };

        foreach (var body in bodies)
        {
            var content = new StringContent(body);
            content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
            using var response = await _admin.Http.SendAsync(Request(HttpMethod.Put, "/scanning/database?source=bad", content, _admin));

            var detail = (await AssertProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("detail").GetString();
            Assert.Contains("multipart", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Database_PutMultipart_Imports()
    {
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(TestArtifacts.OsvZip(TestArtifacts.GlibcRecord("CVE-2024-2", "2.0"))), "archive", "osv.zip" },
        };

        using var response = await _admin.Http.SendAsync(Request(HttpMethod.Put, "/scanning/database?source=multipart", content, _admin));

        var result = await ReadJsonAsync(response);
        Assert.Equal("multipart", result.GetProperty("source").GetString());
        Assert.Equal(1, result.GetProperty("recordCount").GetInt32());
    }

    [Fact]
    public async Task Update_WithoutUrls_Conflict()
    {
        using var reader = Client(_reader);

        using var forbidden = await reader.PostAsync("/scanning/database/update", null);
        using var conflict = await _admin.PostAsync("/scanning/database/update", null);

        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        var problem = await AssertProblemAsync(conflict, HttpStatusCode.Conflict);
        Assert.Contains("Registry:Scanning:DatabaseUrls", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scan_QueueAndRead_WithPermissions()
    {
        var repository = await CreateRepositoryAsync("tools/app");
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, "2.36-9");
        var path = $"{repository}";
        using var reader = Client(_reader);
        using var writer = Client(_writer);
        using var outsider = Client(_outsider);

        using var unscanned = await reader.GetAsync($"/repositories/{path}/manifests/{digest}/scan");
        Assert.Equal("notScanned", (await ReadJsonAsync(unscanned)).GetProperty("status").GetString());

        using var readOnly = await reader.PostAsync($"/repositories/{path}/manifests/{digest}/scan", null);
        using var hidden = await outsider.PostAsync($"/repositories/{path}/manifests/{digest}/scan", null);
        using var missing = await writer.PostAsync($"/repositories/{path}/manifests/sha256:{new string('0', 64)}/scan", null);
        using var queued = await writer.PostAsync($"/repositories/{path}/manifests/{digest}/scan", null);

        await AssertProblemAsync(readOnly, HttpStatusCode.Forbidden);
        await AssertProblemAsync(hidden, HttpStatusCode.NotFound);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
        var accepted = await ReadJsonAsync(queued, HttpStatusCode.Accepted);
        Assert.Equal("queued", accepted.GetProperty("status").GetString());
        Assert.Equal(digest, accepted.GetProperty("digest").GetString());

        var scan = await ScanningFactory.WaitForScanAsync(reader, path, digest);
        Assert.Equal("completed", scan.GetProperty("status").GetString());
        Assert.Equal(digest, scan.GetProperty("digest").GetString());
        Assert.Equal(TestContent.OciManifestType, scan.GetProperty("mediaType").GetString());
        Assert.Equal("debian", scan.GetProperty("os").GetProperty("id").GetString());
        Assert.Equal("12", scan.GetProperty("os").GetProperty("versionId").GetString());
        Assert.Equal(1, scan.GetProperty("summary").GetProperty("high").GetInt32());
        Assert.Equal(1, scan.GetProperty("summary").GetProperty("total").GetInt32());
        Assert.Equal("complete", scan.GetProperty("layers")[0].GetProperty("status").GetString());
        var package = scan.GetProperty("packages").EnumerateArray().Single();
        Assert.Equal("deb", package.GetProperty("type").GetString());
        Assert.Equal("libc6", package.GetProperty("name").GetString());
        Assert.Equal("glibc", package.GetProperty("sourceName").GetString());
        var vulnerability = scan.GetProperty("vulnerabilities").EnumerateArray().Single();
        Assert.Equal("CVE-2023-4911", vulnerability.GetProperty("id").GetString());
        Assert.Equal(["DSA-5514-1"], vulnerability.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));

        using var critical = await reader.GetAsync($"/repositories/{path}/manifests/{digest}/scan?severity=critical");
        var filtered = await ReadJsonAsync(critical);
        Assert.Empty(filtered.GetProperty("vulnerabilities").EnumerateArray());
        Assert.Equal(1, filtered.GetProperty("summary").GetProperty("high").GetInt32());

        using var badSeverity = await reader.GetAsync($"/repositories/{path}/manifests/{digest}/scan?severity=severe");
        await AssertProblemAsync(badSeverity, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Scan_Index_AggregatesImages()
    {
        var repository = await CreateRepositoryAsync("multi");
        var (amd64, amd64Manifest) = await _factory.StoreDebianImageAsync(repository, "2.36-9", "amd64");
        var (arm64, arm64Manifest) = await _factory.StoreDebianImageAsync(repository, "2.36-9+deb12u4", "arm64");
        var index = await _factory.StoreManifestAsync(
            repository,
            TestArtifacts.Index((amd64Manifest, "linux", "amd64"), (arm64Manifest, "linux", "arm64")),
            "latest");

        using var queued = await _admin.PostAsync($"/repositories/{repository}/manifests/{index}/scan", null);
        await ReadJsonAsync(queued, HttpStatusCode.Accepted);
        var scan = await ScanningFactory.WaitForScanAsync(_admin, repository.Value, index);

        Assert.Equal("completed", scan.GetProperty("status").GetString());
        Assert.Equal(1, scan.GetProperty("summary").GetProperty("high").GetInt32());
        var platforms = scan.GetProperty("platforms").EnumerateArray().ToList();
        Assert.Equal(2, platforms.Count);
        Assert.Equal(amd64, platforms[0].GetProperty("digest").GetString());
        Assert.Equal("amd64", platforms[0].GetProperty("platform").GetProperty("architecture").GetString());
        Assert.Single(platforms[0].GetProperty("vulnerabilities").EnumerateArray());
        Assert.Equal(arm64, platforms[1].GetProperty("digest").GetString());
        Assert.Empty(platforms[1].GetProperty("vulnerabilities").EnumerateArray());

        using var tags = await _admin.GetAsync($"/repositories/{repository}/tags");
        var tag = (await ReadJsonAsync(tags)).GetProperty("tags")[0];
        Assert.Equal("completed", tag.GetProperty("scan").GetProperty("status").GetString());
        Assert.Equal(1, tag.GetProperty("scan").GetProperty("summary").GetProperty("high").GetInt32());

        using var sbom = await _admin.GetAsync($"/repositories/{repository}/manifests/{index}/sbom");
        var problem = await AssertProblemAsync(sbom, HttpStatusCode.BadRequest);
        Assert.Contains(amd64, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains(arm64, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sbom_AfterScan_CycloneDx()
    {
        var repository = await CreateRepositoryAsync("sbom");
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, "2.36-9");
        using var reader = Client(_reader);

        using var early = await reader.GetAsync($"/repositories/{repository}/manifests/{digest}/sbom");
        await AssertProblemAsync(early, HttpStatusCode.Conflict);

        using var queued = await _admin.PostAsync($"/repositories/{repository}/manifests/{digest}/scan", null);
        await ScanningFactory.WaitForScanAsync(reader, repository.Value, digest);
        using var response = await reader.GetAsync($"/repositories/{repository}/manifests/{digest}/sbom");

        await AssertStatusAsync(response, HttpStatusCode.OK, "reading the SBOM");
        Assert.Equal("application/vnd.cyclonedx+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.Equal("CycloneDX", root.GetProperty("bomFormat").GetString());
        Assert.Equal("1.6", root.GetProperty("specVersion").GetString());
        Assert.Contains(root.GetProperty("components").EnumerateArray(), c => c.GetProperty("name").GetString() == "libc6");
        Assert.Contains(root.GetProperty("vulnerabilities").EnumerateArray(), v => v.GetProperty("id").GetString() == "CVE-2023-4911");
    }

    [Fact]
    public async Task Tags_ScanField_NullUntilScanned()
    {
        var repository = await CreateRepositoryAsync("tagged");
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, "2.36-9", "amd64", "v1");

        using var before = await _admin.GetAsync($"/repositories/{repository}/tags");
        Assert.Equal(JsonValueKind.Null, (await ReadJsonAsync(before)).GetProperty("tags")[0].GetProperty("scan").ValueKind);

        using var queued = await _admin.PostAsync($"/repositories/{repository}/manifests/{digest}/scan", null);
        await ScanningFactory.WaitForScanAsync(_admin, repository.Value, digest);
        using var after = await _admin.GetAsync($"/repositories/{repository}/tags");

        var scan = (await ReadJsonAsync(after)).GetProperty("tags")[0].GetProperty("scan");
        Assert.Equal("completed", scan.GetProperty("status").GetString());
        Assert.Equal(1, scan.GetProperty("summary").GetProperty("dtr").GetProperty("critical").GetInt32());
    }

    [Fact]
    public async Task ScanOnPush_QueuesPushedImage()
    {
        var repository = await CreateRepositoryAsync("pushed");
        using var patched = await _admin.PatchAsync($"/repositories/{repository}", new { scanOnPush = true });
        await AssertStatusAsync(patched, HttpStatusCode.OK, "turning scanOnPush on");
        var config = TestArtifacts.Config();
        var layer = TestArtifacts.DebianLayer("2.36-9");
        await _factory.StoreBlobAsync(repository, config);
        await _factory.StoreBlobAsync(repository, layer);
        var manifest = TestArtifacts.ImageManifest(config, [layer]);
        var digest = TestContent.Sha256(manifest);
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(TestContent.OciManifestType);

        using var pushed = await _factory.SendRegistryAsync(HttpMethod.Put, $"/v2/{repository}/manifests/v1", _writer, PasswordOf(_writer), content);

        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        var scan = await ScanningFactory.WaitForScanAsync(_admin, repository.Value, digest);
        Assert.Equal("completed", scan.GetProperty("status").GetString());
    }

    [Fact]
    public async Task ScanOnPush_Off_LeavesImageUnscanned()
    {
        var repository = await CreateRepositoryAsync("unpushed");
        var config = TestArtifacts.Config();
        var layer = TestArtifacts.DebianLayer("2.36-9");
        await _factory.StoreBlobAsync(repository, config);
        await _factory.StoreBlobAsync(repository, layer);
        var manifest = TestArtifacts.ImageManifest(config, [layer]);
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(TestContent.OciManifestType);

        using var pushed = await _factory.SendRegistryAsync(HttpMethod.Put, $"/v2/{repository}/manifests/v1", _writer, PasswordOf(_writer), content);

        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        using var scan = await _admin.GetAsync($"/repositories/{repository}/manifests/{TestContent.Sha256(manifest)}/scan");
        Assert.Equal("notScanned", (await ReadJsonAsync(scan)).GetProperty("status").GetString());
    }

    private static Task<HttpResponseMessage> SendArchiveAsync(ManagementClient client, string source, byte[] archive) =>
        client.Http.SendAsync(Request(HttpMethod.Put, $"/scanning/database?source={source}", new ByteArrayContent(archive), client));

    private static HttpRequestMessage Request(HttpMethod method, string path, HttpContent content, ManagementClient client)
    {
        var request = new HttpRequestMessage(method, Prefix + path) { Content = content };
        request.Headers.Authorization = client.Authorization;
        return request;
    }
}

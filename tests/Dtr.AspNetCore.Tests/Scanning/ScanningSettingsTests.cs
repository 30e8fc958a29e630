using System.Net;
using System.Security.Cryptography;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Scanning.Tests.Service;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Scanning;

public sealed class DisabledScanningTests : IClassFixture<DisabledScanningFactory>
{
    private readonly DisabledScanningFactory _factory;

    public DisabledScanningTests(DisabledScanningFactory factory) => _factory = factory;

    [Fact]
    public async Task Scan_Disabled_Conflict()
    {
        using var admin = _factory.CreateAdminClient();
        var owner = "off" + Guid.NewGuid().ToString("N")[..8];
        await admin.CreateUserAsync(owner);
        await admin.CreateRepositoryAsync(owner, "app");
        var (digest, _) = await _factory.StoreDebianImageAsync(Dtr.Names.RepositoryName.Parse($"{owner}/app"), "2.36-9");

        using var response = await admin.PostAsync($"/repositories/{owner}/app/manifests/{digest}/scan", null);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("Registry:Scanning:Enabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Tags_QueuedJob_ListedAsQueued()
    {
        using var admin = _factory.CreateAdminClient();
        var owner = "queue" + Guid.NewGuid().ToString("N")[..8];
        await admin.CreateUserAsync(owner);
        await admin.CreateRepositoryAsync(owner, "app");
        var repository = Dtr.Names.RepositoryName.Parse($"{owner}/app");
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, "2.36-9", "amd64", "v1");

        // With scanning off no worker claims the job, so it stays queued, as a scan on push does until a worker is free.
        var scans = _factory.Services.GetRequiredService<Dtr.Scanning.IScanStore>();
        await scans.EnqueueScanAsync(new Dtr.Scanning.ScanJobRequest(repository, Dtr.Digests.Digest.Parse(digest), Dtr.Scanning.ScanReason.Push, DateTimeOffset.UtcNow));
        using var response = await admin.GetAsync($"/repositories/{owner}/app/tags");

        var scan = (await ReadJsonAsync(response)).GetProperty("tags")[0].GetProperty("scan");
        Assert.Equal("queued", scan.GetProperty("status").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, scan.GetProperty("summary").ValueKind);
    }
}

/// <summary>A scanning host that requires signed archives of at most 64 KiB.</summary>
public sealed class SignedScanningFactory : ScanningFactory
{
    public SignedScanningFactory()
        : base(new Dictionary<string, string?>
        {
            ["Registry:Scanning:PublicKeyPem"] = Key.ExportSubjectPublicKeyInfoPem(),
            ["Registry:Scanning:MaxArchiveBytes"] = "65536",
        })
    {
    }

    /// <summary>The signing key; its public half is configured.</summary>
    public static ECDsa Key { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);
}

public sealed class SignedUploadTests : IClassFixture<SignedScanningFactory>, IDisposable
{
    private readonly SignedScanningFactory _factory;
    private readonly ManagementClient _admin;

    public SignedUploadTests(SignedScanningFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
    }

    public void Dispose() => _admin.Dispose();

    private static byte[] Archive(string id) => TestArtifacts.OsvZip(TestArtifacts.GlibcRecord(id, "2.0"));

    private Task<HttpResponseMessage> UploadAsync(byte[] archive, string? signatureHeader)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, Prefix + "/scanning/database?source=signed") { Content = new ByteArrayContent(archive) };
        request.Headers.Authorization = _admin.Authorization;
        if (signatureHeader is not null)
        {
            request.Headers.Add("X-Dtr-Signature", signatureHeader);
        }

        return _admin.Http.SendAsync(request);
    }

    private async Task<long> VersionAsync()
    {
        using var response = await _admin.GetAsync("/scanning/database");
        var database = await ReadJsonAsync(response);
        Assert.True(database.GetProperty("signatureRequired").GetBoolean());
        return database.GetProperty("version").GetInt64();
    }

    [Fact]
    public async Task Upload_Unsigned_Rejected()
    {
        var version = await VersionAsync();

        using var response = await UploadAsync(Archive("CVE-2024-10"), null);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var detail = problem.GetProperty("detail").GetString();
        Assert.StartsWith("signature required", detail, StringComparison.Ordinal);
        Assert.Contains("Registry:Scanning:PublicKeyPem", detail, StringComparison.Ordinal);
        Assert.Equal(version, await VersionAsync());
    }

    [Fact]
    public async Task Upload_WrongSignature_Rejected()
    {
        var version = await VersionAsync();
        var signature = TestArtifacts.SignDer(SignedScanningFactory.Key, Archive("CVE-2024-11"));

        using var response = await UploadAsync(Archive("CVE-2024-12"), Convert.ToBase64String(signature));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.StartsWith("signature invalid", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(version, await VersionAsync());
    }

    [Fact]
    public async Task Upload_SignedHeader_Imported()
    {
        var archive = Archive("CVE-2024-13");

        using var response = await UploadAsync(archive, Convert.ToBase64String(TestArtifacts.SignDer(SignedScanningFactory.Key, archive)));

        var result = await ReadJsonAsync(response);
        var source = result.GetProperty("database").GetProperty("sources").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "signed");
        Assert.True(source.GetProperty("signatureVerified").GetBoolean());
    }

    [Fact]
    public async Task Upload_SignedMultipartRaw_Imported()
    {
        var archive = Archive("CVE-2024-14");
        using var content = new MultipartFormDataContent
        {
            { new ByteArrayContent(archive), "archive", "osv.zip" },
            { new ByteArrayContent(TestArtifacts.SignDer(SignedScanningFactory.Key, archive)), "signature", "osv.zip.sig" },
        };
        using var request = new HttpRequestMessage(HttpMethod.Put, Prefix + "/scanning/database?source=signed") { Content = content };
        request.Headers.Authorization = _admin.Authorization;

        using var response = await _admin.Http.SendAsync(request);

        Assert.Equal(1, (await ReadJsonAsync(response)).GetProperty("recordCount").GetInt32());
    }

    [Fact]
    public async Task Upload_OverLimit_ContentTooLarge()
    {
        using var response = await UploadAsync(new byte[70_000], null);

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("Registry:Scanning:MaxArchiveBytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

/// <summary>A scanning host with a database URL on a loopback port where nothing listens.</summary>
public sealed class OnlineUpdateFactory : ScanningFactory
{
    public OnlineUpdateFactory()
        : base(new Dictionary<string, string?> { ["Registry:Scanning:DatabaseUrls:0"] = ClosedPortUrl.ToString() })
    {
    }

    /// <summary>
    /// A URL with credentials on a loopback port that was free a moment ago, so downloads fail at once.
    /// </summary>
    public static Uri ClosedPortUrl { get; } = FindClosedPortUrl();

    private static Uri FindClosedPortUrl()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return new Uri($"http://reader:secret@127.0.0.1:{port}/osv.zip?token=abc123");
    }

    /// <summary><see cref="ClosedPortUrl"/> as the API and logs show it.</summary>
    public static string RedactedUrl => $"http://127.0.0.1:{ClosedPortUrl.Port}/osv.zip?token=…";
}

public sealed class OnlineUpdateTests : IClassFixture<OnlineUpdateFactory>
{
    private readonly OnlineUpdateFactory _factory;

    public OnlineUpdateTests(OnlineUpdateFactory factory) => _factory = factory;

    [Fact]
    public async Task Update_Configured_StartsAndReportsError()
    {
        using var admin = _factory.CreateAdminClient();

        using var started = await admin.PostAsync("/scanning/database/update", null);

        Assert.True((await ReadJsonAsync(started, HttpStatusCode.Accepted)).GetProperty("started").GetBoolean());
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await admin.GetAsync("/scanning/database");
            var online = (await ReadJsonAsync(response)).GetProperty("online");
            Assert.Equal([OnlineUpdateFactory.RedactedUrl], online.GetProperty("urls").EnumerateArray().Select(url => url.GetString()));
            if (online.GetProperty("lastError").ValueKind == System.Text.Json.JsonValueKind.String)
            {
                var error = online.GetProperty("lastError").GetString();
                Assert.Contains(OnlineUpdateFactory.RedactedUrl, error, StringComparison.Ordinal);
                Assert.DoesNotContain("secret", error, StringComparison.Ordinal);
                Assert.DoesNotContain("abc123", error, StringComparison.Ordinal);
                Assert.Equal(System.Text.Json.JsonValueKind.Null, online.GetProperty("lastSuccessAt").ValueKind);
                Assert.Equal(System.Text.Json.JsonValueKind.String, online.GetProperty("nextAttemptAt").ValueKind);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "The update did not report its failure within 60 s.");
            await Task.Delay(200);
        }
    }
}

/// <summary>A scanning host with authentication off, where a push creates a repository without settings.</summary>
public sealed class UnauthenticatedScanningFactory : ScanningFactory
{
    public UnauthenticatedScanningFactory()
        : base(new Dictionary<string, string?> { ["Registry:Auth:Enabled"] = "false" })
    {
    }
}

public sealed class UnauthenticatedScanningTests : IClassFixture<UnauthenticatedScanningFactory>
{
    private readonly UnauthenticatedScanningFactory _factory;

    public UnauthenticatedScanningTests(UnauthenticatedScanningFactory factory) => _factory = factory;

    [Fact]
    public async Task Scan_RepositoryWithoutSettings_Served()
    {
        using var client = _factory.CreateManagementClient();
        var repository = Dtr.Names.RepositoryName.Parse("pushed" + Guid.NewGuid().ToString("N")[..8] + "/app");
        var (digest, _) = await _factory.StoreDebianImageAsync(repository, "2.36-9");

        using var queued = await client.PostAsync($"/repositories/{repository}/manifests/{digest}/scan", null);
        await ReadJsonAsync(queued, HttpStatusCode.Accepted);
        var scan = await ScanningFactory.WaitForScanAsync(client, repository.Value, digest);

        Assert.Equal("completed", scan.GetProperty("status").GetString());
        using var policy = await client.GetAsync($"/repositories/{repository}/scanning/policy");
        Assert.Equal(System.Text.Json.JsonValueKind.Null, (await ReadJsonAsync(policy)).GetProperty("blockSeverity").ValueKind);
    }
}

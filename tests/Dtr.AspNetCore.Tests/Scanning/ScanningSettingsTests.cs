using System.Net;
using System.Security.Cryptography;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Scanning.Tests.Service;
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

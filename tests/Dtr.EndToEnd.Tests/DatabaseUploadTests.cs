using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Uploads vulnerability database archives to a host that requires signatures: signed archives are imported, and
/// unsigned, wrongly signed or malformed ones are rejected without changing the database.
/// </summary>
[Collection(ScanningRegistryCollection.Name)]
public sealed class DatabaseUploadTests(ScanningRegistryFixture fixture)
{
    private ScanningHost Host => fixture.Host;

    [Fact]
    public async Task SignedTarGz_MultipartUploadImported()
    {
        var archive = OsvArchives.TarGz(OsvArchives.Records());
        var signature = await fixture.SigningKey.SignAsync(archive);

        using var admin = Host.AdminApi();
        var before = await DatabaseVersionAsync(admin);
        var upload = (await admin.UploadDatabaseMultipartAsync(archive, signature)).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.Equal("upload", upload["source"]?.GetValue<string>());
        Assert.Equal(4, upload["recordCount"]?.GetValue<int>());
        Assert.Equal(0, upload["skippedCount"]?.GetValue<int>());
        Assert.True(upload["database"]?["version"]?.GetValue<long>() > before,
            $"The database version did not rise above {before} after a signed upload: {upload.ToJsonString()}");

        var database = (await admin.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.True(database["signatureRequired"]?.GetValue<bool>() == true, $"signatureRequired is not true: {database.ToJsonString()}");
        var source = database["sources"]?.AsArray().FirstOrDefault(s => s?["name"]?.GetValue<string>() == "upload");
        Assert.True(source is not null, $"The database lists no source 'upload': {database.ToJsonString()}");
        Assert.Equal(4, source["recordCount"]?.GetValue<int>());
        Assert.True(source["signatureVerified"]?.GetValue<bool>() == true, $"The upload's signature is not marked verified: {source.ToJsonString()}");

        // The digest may be written with or without the "sha256:" prefix.
        var archiveDigest = source["archiveDigest"]?.GetValue<string>() ?? "";
        Assert.Equal(Sha256.Of(archive)["sha256:".Length..], archiveDigest.Replace("sha256:", "", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UnsignedUpload_RejectedDatabaseUnchanged()
    {
        using var admin = Host.AdminApi();
        var before = await DatabaseVersionAsync(admin);

        var rejected = await admin.UploadDatabaseAsync(fixture.Archive, signature: null, source: "unsigned");
        var problem = rejected.AssertStatus(HttpStatusCode.BadRequest, Host.DescribeRegistry);
        var detail = problem["detail"]?.GetValue<string>() ?? "";
        Assert.True(detail.Contains("signature required", StringComparison.OrdinalIgnoreCase),
            $"The rejection's detail does not say \"signature required\": {rejected.Text}");
        Assert.True(detail.Contains("PublicKey", StringComparison.Ordinal),
            $"The rejection's detail does not name the PublicKeyPem or PublicKeyFile setting: {rejected.Text}");

        await AssertDatabaseUnchangedAsync(admin, before, "unsigned");
    }

    [Fact]
    public async Task WrongSignature_RejectedDatabaseUnchanged()
    {
        using var keys = new TemporaryDirectory();
        var otherKey = await OpenSslSigningKey.CreateAsync(keys.Path, "untrusted");

        using var admin = Host.AdminApi();
        var before = await DatabaseVersionAsync(admin);

        var rejected = await admin.UploadDatabaseAsync(fixture.Archive, await otherKey.SignAsync(fixture.Archive), source: "wrong-key");
        var problem = rejected.AssertStatus(HttpStatusCode.BadRequest, Host.DescribeRegistry);
        Assert.True((problem["detail"]?.GetValue<string>() ?? "").Contains("signature invalid", StringComparison.OrdinalIgnoreCase),
            $"The rejection's detail does not say \"signature invalid\": {rejected.Text}");

        // A valid signature of other bytes must not verify either.
        var otherArchive = OsvArchives.Zip(OsvArchives.Records().Take(1));
        var mismatched = await admin.UploadDatabaseAsync(fixture.Archive, await fixture.SigningKey.SignAsync(otherArchive), source: "wrong-key");
        mismatched.AssertStatus(HttpStatusCode.BadRequest, Host.DescribeRegistry);

        await AssertDatabaseUnchangedAsync(admin, before, "wrong-key");
    }

    [Fact]
    public async Task SignedNonArchive_Rejected()
    {
        var notAnArchive = Encoding.UTF8.GetBytes("This is a text file, not a zip or tar.gz of OSV records.\n");

        using var admin = Host.AdminApi();
        var before = await DatabaseVersionAsync(admin);
        var rejected = await admin.UploadDatabaseAsync(notAnArchive, await fixture.SigningKey.SignAsync(notAnArchive), source: "not-an-archive");
        rejected.AssertStatus(HttpStatusCode.BadRequest, Host.DescribeRegistry);
        await AssertDatabaseUnchangedAsync(admin, before, "not-an-archive");
    }

    [Fact]
    public async Task DatabaseEndpoints_RequireRoles()
    {
        using var anonymous = Host.AnonymousApi();
        (await anonymous.GetDatabaseAsync()).AssertStatus(HttpStatusCode.Unauthorized, Host.DescribeRegistry);

        using var reader = Host.ReaderApi();
        var database = (await reader.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.True(database["recordCount"]?.GetValue<int>() >= 4, $"The database has fewer than the 4 uploaded records: {database.ToJsonString()}");
        Assert.Equal(0, database["online"]?["urls"]?.AsArray().Count);

        using var writer = Host.WriterApi();
        var archive = fixture.Archive;
        (await writer.UploadDatabaseAsync(archive, await fixture.SigningKey.SignAsync(archive))).AssertStatus(HttpStatusCode.Forbidden, Host.DescribeRegistry);
        (await writer.StartDatabaseUpdateAsync()).AssertStatus(HttpStatusCode.Forbidden, Host.DescribeRegistry);

        // This host has no database URL, so there is nothing to update from.
        using var admin = Host.AdminApi();
        (await admin.StartDatabaseUpdateAsync()).AssertStatus(HttpStatusCode.Conflict, Host.DescribeRegistry);
    }

    private async Task<long> DatabaseVersionAsync(ScanningApiClient api)
    {
        var database = (await api.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        return database["version"]!.GetValue<long>();
    }

    private async Task AssertDatabaseUnchangedAsync(ScanningApiClient api, long versionBefore, string rejectedSource)
    {
        var database = (await api.GetDatabaseAsync()).AssertStatus(HttpStatusCode.OK, Host.DescribeRegistry);
        Assert.Equal(versionBefore, database["version"]?.GetValue<long>());
        var sources = database["sources"]?.AsArray() ?? new JsonArray();
        Assert.DoesNotContain(sources, s => s?["name"]?.GetValue<string>() == rejectedSource);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// skopeo against the sample host over verified HTTPS, signed in with client certificates only: bundles that the
/// registry issues (fetched with curl, as the README shows) and a certificate from an enterprise authority that the
/// host trusts. skopeo gets basic credentials only to show that a certificate in its folder wins over them.
/// </summary>
public sealed class ClientCertificateTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private const string AdminPassword = "client-cert-admin-1";

    [Fact]
    public async Task Skopeo_SignsInWithClientCertificates()
    {
        using var work = new TemporaryDirectory();
        var dataDirectory = work.Combine("data");
        using var enterpriseCa = CreateAuthority("E2E enterprise CA");
        var enterpriseCaPath = work.Combine("enterprise-ca.pem");
        File.WriteAllText(enterpriseCaPath, enterpriseCa.ExportCertificatePem() + "\n");

        await using var host = await SampleHostProcess.StartAsync(
            [
                $"--Registry:DataDirectory={dataDirectory}",
                "--Registry:Auth:Enabled=true",
                "--Registry:Admin:UserName=admin",
                $"--Registry:Admin:Password={AdminPassword}",
                "--Registry:Tls:Enabled=true",
                "--Registry:ClientCertificates:Enabled=true",
                "--Registry:ClientCertificates:IssueBundles=true",
                $"--Registry:ClientCertificates:TrustedCaPaths:0={enterpriseCaPath}",
            ],
            HttpStatusCode.Unauthorized,
            https: true);

        // The host's generated certificate, which clients must trust.
        var serverCaPath = work.Combine("server-ca.crt");
        using (var serverCertificate = X509Certificate2.CreateFromPemFile(Path.Combine(dataDirectory, "tls", "generated.pem")))
        {
            File.WriteAllText(serverCaPath, serverCertificate.ExportCertificatePem() + "\n");
        }

        using var admin = CreateAdminClient(host, serverCaPath);
        await SendAsync(admin, host, HttpMethod.Post, "users", new JsonObject { ["name"] = "alice", ["password"] = "alice-password-1" });
        await SendAsync(admin, host, HttpMethod.Post, "users", new JsonObject { ["name"] = "carol", ["password"] = "carol-password-1" });
        await SendAsync(admin, host, HttpMethod.Post, "organizations", new JsonObject { ["name"] = "shared" });
        await SendAsync(admin, host, HttpMethod.Post, "organizations/shared/teams", new JsonObject { ["name"] = "readers" });
        await SendAsync(admin, host, HttpMethod.Put, "organizations/shared/teams/readers/members/alice", null);
        await SendAsync(admin, host, HttpMethod.Post, "repositories/shared", new JsonObject { ["name"] = "base", ["visibility"] = "private" });
        await SendAsync(admin, host, HttpMethod.Put, "repositories/shared/base/teamAccess/readers", new JsonObject { ["accessLevel"] = "read-only" });
        await SendAsync(admin, host, HttpMethod.Post, "repositories/alice", new JsonObject { ["name"] = "app", ["visibility"] = "private" });
        await SendAsync(admin, host, HttpMethod.Post, "repositories/carol", new JsonObject { ["name"] = "app", ["visibility"] = "private" });

        // Each user fetches their own bundle with curl and unpacks it as a certificate folder.
        var adminCerts = await FetchBundleAsync(work, host, serverCaPath, "admin", AdminPassword);
        var aliceCerts = await FetchBundleAsync(work, host, serverCaPath, "alice", "alice-password-1");
        Assert.Equal(
            ["ca.crt", "client-ca.pem", "client.cert", "client.key"],
            Directory.GetFiles(aliceCerts).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(File.ReadAllText(serverCaPath), File.ReadAllText(Path.Combine(aliceCerts, "ca.crt")));

        var layout = work.Combine("layout");
        var image = TestImages.WriteBusyboxLayout(layout);
        var source = $"oci:{layout}:1";

        // The administrator's bundle seeds the repository that alice may only read.
        var seed = await RunSkopeoAsync("copy", "--dest-cert-dir", adminCerts, source, $"docker://{host.Address}/shared/base:1");
        Assert.True(seed.Succeeded, $"skopeo push with the administrator's bundle failed.\n{seed.Describe()}\n{host.Describe()}");

        var ownPush = await RunSkopeoAsync("copy", "--dest-cert-dir", aliceCerts, source, $"docker://{host.Address}/alice/app:1");
        Assert.True(ownPush.Succeeded, $"skopeo push to alice's own repository with her bundle failed.\n{ownPush.Describe()}\n{host.Describe()}");

        var deniedPush = await RunSkopeoAsync("copy", "--dest-cert-dir", aliceCerts, source, $"docker://{host.Address}/shared/base:2");
        Assert.False(deniedPush.Succeeded, $"skopeo pushed to a repository that alice may only read.\n{deniedPush.Describe()}");
        Assert.True(
            deniedPush.StandardError.Contains("denied", StringComparison.OrdinalIgnoreCase)
                || deniedPush.StandardError.Contains("unauthorized", StringComparison.OrdinalIgnoreCase),
            $"The denied push failed for another reason than permissions.\n{deniedPush.Describe()}");

        var pulled = work.Combine("pulled");
        var pull = await RunSkopeoAsync("copy", "--src-cert-dir", aliceCerts, $"docker://{host.Address}/shared/base:1", $"oci:{pulled}:1");
        Assert.True(pull.Succeeded, $"skopeo pull of a readable repository with alice's bundle failed.\n{pull.Describe()}\n{host.Describe()}");
        SinglePlatformImageTests.AssertLayoutContainsImage(pulled, image);

        // Without a client certificate, the same folder minus the key pair gets no access.
        var anonymousCerts = work.Combine("anonymous-certs");
        Directory.CreateDirectory(anonymousCerts);
        File.Copy(serverCaPath, Path.Combine(anonymousCerts, "ca.crt"));
        var anonymous = await RunSkopeoAsync("inspect", "--cert-dir", anonymousCerts, $"docker://{host.Address}/shared/base:1");
        Assert.False(anonymous.Succeeded, $"skopeo read a private repository without a client certificate.\n{anonymous.Describe()}");

        // skopeo sends --creds only after a 401, and GET /v2/ with alice's certificate returns 200, so the certificate
        // decides: carol's password with alice's folder reads what only alice may read.
        var carolWithAliceCerts = await RunSkopeoAsync("inspect", "--creds", "carol:carol-password-1", "--cert-dir", aliceCerts, $"docker://{host.Address}/shared/base:1");
        Assert.True(carolWithAliceCerts.Succeeded, $"skopeo with carol's password and alice's certificate did not act as alice.\n{carolWithAliceCerts.Describe()}\n{host.Describe()}");
        var carolWithoutCerts = await RunSkopeoAsync("inspect", "--creds", "carol:carol-password-1", "--cert-dir", anonymousCerts, $"docker://{host.Address}/shared/base:1");
        Assert.False(carolWithoutCerts.Succeeded, $"carol's password alone read a repository that only alice's team may read.\n{carolWithoutCerts.Describe()}");

        // A certificate from the enterprise authority that the host trusts, with carol as its common name.
        var carolCerts = work.Combine("carol-certs");
        Directory.CreateDirectory(carolCerts);
        File.Copy(serverCaPath, Path.Combine(carolCerts, "ca.crt"));
        using (var carol = IssueClientCertificate(enterpriseCa, "carol"))
        using (var carolKey = carol.GetECDsaPrivateKey()!)
        {
            File.WriteAllText(Path.Combine(carolCerts, "client.cert"), carol.ExportCertificatePem() + "\n");
            File.WriteAllText(Path.Combine(carolCerts, "client.key"), carolKey.ExportPkcs8PrivateKeyPem() + "\n");
        }

        var carolPush = await RunSkopeoAsync("copy", "--dest-cert-dir", carolCerts, source, $"docker://{host.Address}/carol/app:1");
        Assert.True(carolPush.Succeeded, $"skopeo push with the enterprise certificate failed.\n{carolPush.Describe()}\n{host.Describe()}");
        var carolInspect = await RunSkopeoAsync("inspect", "--cert-dir", carolCerts, $"docker://{host.Address}/carol/app:1");
        Assert.True(carolInspect.Succeeded, $"skopeo inspect with the enterprise certificate failed.\n{carolInspect.Describe()}\n{host.Describe()}");
        var carolDenied = await RunSkopeoAsync("inspect", "--cert-dir", carolCerts, $"docker://{host.Address}/alice/app:1");
        Assert.False(carolDenied.Succeeded, $"carol read alice's private repository.\n{carolDenied.Describe()}");
    }

    /// <summary>Runs curl as the README shows, unzips the bundle into a folder of its own and returns the folder.</summary>
    private static async Task<string> FetchBundleAsync(TemporaryDirectory work, SampleHostProcess host, string serverCaPath, string userName, string password)
    {
        var zipPath = work.Combine($"{userName}-bundle.zip");
        var curl = await CommandRunner.RunAsync(
            "curl",
            ["--silent", "--show-error", "--fail-with-body", "--cacert", serverCaPath, "--user", $"{userName}:{password}",
                "--request", "POST", "--output", zipPath, $"https://{host.Address}/api/v0/users/{userName}/bundle"],
            CommandTimeout);
        Assert.True(curl.Succeeded, $"curl could not fetch the bundle of {userName}.\n{curl.Describe()}\n{host.Describe()}");

        var folder = work.Combine($"{userName}-certs");
        var unzip = await CommandRunner.RunAsync("unzip", ["-q", zipPath, "-d", folder], CommandTimeout);
        Assert.True(unzip.Succeeded, $"unzip failed on the bundle of {userName}.\n{unzip.Describe()}");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(folder, "client.key")));
        }

        return folder;
    }

    private static HttpClient CreateAdminClient(SampleHostProcess host, string serverCaPath)
    {
        var serverCa = X509Certificate2.CreateFromPem(File.ReadAllText(serverCaPath));
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.RawDataMemory.Span.SequenceEqual(serverCa.RawDataMemory.Span),
        };
        var client = new HttpClient(handler) { BaseAddress = host.BaseUrl, Timeout = TimeSpan.FromMinutes(1) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"admin:{AdminPassword}")));
        return client;
    }

    private static async Task SendAsync(HttpClient client, SampleHostProcess host, HttpMethod method, string path, JsonNode? body)
    {
        using var request = new HttpRequestMessage(method, "/api/v0/" + path);
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode,
            $"{method} /api/v0/{path} returned {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{host.Describe()}");
    }

    private static X509Certificate2 CreateAuthority(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }

    private static X509Certificate2 IssueClientCertificate(X509Certificate2 authority, string commonName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + commonName, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var issued = request.Create(authority, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), RandomNumberGenerator.GetBytes(12));
        return issued.CopyWithPrivateKey(key);
    }

    // --insecure-policy: the test must not depend on the machine's /etc/containers/policy.json.
    private static Task<CommandResult> RunSkopeoAsync(params string[] arguments) =>
        CommandRunner.RunAsync("skopeo", ["--insecure-policy", .. arguments], CommandTimeout);
}

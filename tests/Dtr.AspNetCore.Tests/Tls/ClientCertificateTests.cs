using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>
/// Sign-in with TLS client certificates over real TLS connections: bundles issued by the registry, certificates of a
/// configured enterprise authority, the rejected certificates, and the permissions of the mapped user.
/// </summary>
public sealed class ClientCertificateTests : IClassFixture<ClientCertificateHost>
{
    private readonly ClientCertificateHost _host;

    public ClientCertificateTests(ClientCertificateHost host) => _host = host;

    [Fact]
    public async Task Bundle_ZipForCertificateFolder()
    {
        await _host.Admin.CreateUserAsync("zip-user");
        using var self = new ManagementClient(_host.CreateClient(), "zip-user", ManagementClient.PasswordOf("zip-user"));

        using var response = await self.PostAsync("/users/zip-user/bundle", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var files = ReadZip(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal(["ca.crt", "client-ca.pem", "client.cert", "client.key"], files.Keys.Order(StringComparer.Ordinal));

        using var certificate = X509Certificate2.CreateFromPem(files["client.cert"], files["client.key"]);
        Assert.Equal("CN=zip-user", certificate.Subject);
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single().EnhancedKeyUsages.Cast<Oid>().Select(oid => oid.Value);
        Assert.Equal([TestCertificateAuthority.ClientAuthentication], usages);
        Assert.InRange(certificate.NotAfter.ToUniversalTime() - DateTime.UtcNow, TimeSpan.FromDays(364), TimeSpan.FromDays(366));

        using var clientCa = X509Certificate2.CreateFromPem(files["client-ca.pem"]);
        Assert.Equal(clientCa.Subject, certificate.Issuer);
        Assert.False(clientCa.HasPrivateKey);
        Assert.DoesNotContain("PRIVATE KEY", files["client-ca.pem"], StringComparison.Ordinal);

        // ca.crt is the registry's self-signed HTTPS certificate, which verifies the server.
        using var serverCa = X509Certificate2.CreateFromPem(files["ca.crt"]);
        Assert.Equal(await FetchServerThumbprintAsync(), Convert.ToHexStringLower(serverCa.GetCertHash(HashAlgorithmName.SHA256)));
    }

    [Fact]
    public async Task Bundle_JsonForm()
    {
        await _host.Admin.CreateUserAsync("json-user");
        using var request = new HttpRequestMessage(HttpMethod.Post, ManagementClient.Prefix + "/users/json-user/bundle");
        request.Headers.Authorization = ManagementClient.BasicHeader("json-user", ManagementClient.PasswordOf("json-user"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        using var response = await _host.Admin.Http.SendAsync(request);

        var bundle = await ManagementClient.ReadJsonAsync(response);
        Assert.Equal("json-user", bundle.GetProperty("userName").GetString());
        using var certificate = X509Certificate2.CreateFromPem(bundle.GetProperty("clientCertificatePem").GetString(), bundle.GetProperty("clientKeyPem").GetString());
        Assert.Equal("CN=json-user", certificate.Subject);
        Assert.Equal(Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256)), bundle.GetProperty("sha256Thumbprint").GetString());
        Assert.Equal(certificate.SerialNumber.ToLowerInvariant(), bundle.GetProperty("serialNumber").GetString());
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", bundle.GetProperty("serverCaPem").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", bundle.GetProperty("clientCaPem").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bundle_SelfOtherAndAdmin()
    {
        await _host.Admin.CreateUserAsync("bundle-self");
        await _host.Admin.CreateUserAsync("bundle-other");
        using var self = new ManagementClient(_host.CreateClient(), "bundle-self", ManagementClient.PasswordOf("bundle-self"));
        using var anonymous = new ManagementClient(_host.CreateClient(), null, null);

        using var forOther = await self.PostAsync("/users/bundle-other/bundle", null);
        await ManagementClient.AssertProblemAsync(forOther, HttpStatusCode.Forbidden);

        using var byAdmin = await _host.Admin.PostAsync("/users/bundle-other/bundle", null);
        Assert.Equal(HttpStatusCode.OK, byAdmin.StatusCode);

        using var byAnonymous = await anonymous.PostAsync("/users/bundle-self/bundle", null);
        await ManagementClient.AssertProblemAsync(byAnonymous, HttpStatusCode.Unauthorized);

        using var unknown = await _host.Admin.PostAsync("/users/bundle-nobody/bundle", null);
        await ManagementClient.AssertProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Bundle_RejectsTokenAndCertificateSignIn()
    {
        await _host.Admin.CreateUserAsync("bundle-token");
        using var self = new ManagementClient(_host.CreateClient(), "bundle-token", ManagementClient.PasswordOf("bundle-token"));
        var token = await ManagementClient.ReadJsonAsync(await self.PostAsync("/users/bundle-token/tokens", new { label = "ci" }), HttpStatusCode.Created);
        using var withToken = new ManagementClient(_host.CreateClient(), "bundle-token", token.GetProperty("token").GetString());

        using var tokenResponse = await withToken.PostAsync("/users/bundle-token/bundle", null);
        await ManagementClient.AssertProblemAsync(tokenResponse, HttpStatusCode.Forbidden);

        using var certificate = await IssueBundleAsync("bundle-token");
        using var withCertificate = _host.CreateCertificateClient(certificate);
        using var certificateResponse = await withCertificate.PostAsync("/users/bundle-token/bundle", null);
        var problem = await ManagementClient.AssertProblemAsync(certificateResponse, HttpStatusCode.Forbidden);
        Assert.Contains("client certificate", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BundleCertificate_SignsInToManagementApi()
    {
        await _host.Admin.CreateUserAsync("cert-user");
        using var certificate = await IssueBundleAsync("cert-user");
        using var client = _host.CreateCertificateClient(certificate);

        var user = await ManagementClient.ReadJsonAsync(await client.GetAsync("/users/cert-user"));
        Assert.Equal("cert-user", user.GetProperty("name").GetString());

        using var userList = await client.GetAsync("/users");
        await ManagementClient.AssertProblemAsync(userList, HttpStatusCode.Forbidden);

        using var otherUser = await client.GetAsync("/users/admin");
        await ManagementClient.AssertProblemAsync(otherUser, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task BundleCertificate_PushAndPullPermissions()
    {
        await _host.Admin.CreateUserAsync("perm-user");
        await _host.Admin.CreateOrganizationAsync("perm-org");
        await _host.Admin.CreateTeamAsync("perm-org", "readers", "perm-user");
        await _host.Admin.CreateRepositoryAsync("perm-org", "shared");
        await _host.Admin.CreateRepositoryAsync("perm-user", "app");
        await _host.Admin.GrantAsync("perm-org/shared", "readers", "read-only");
        using var certificate = await IssueBundleAsync("perm-user");
        using var client = _host.CreateClient(certificate);

        using var baseResponse = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, baseResponse.StatusCode);

        using var ownPush = await client.PostAsync("/v2/perm-user/app/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Accepted, ownPush.StatusCode);

        using var sharedPush = await client.PostAsync("/v2/perm-org/shared/blobs/uploads/", null);
        Assert.Equal(HttpStatusCode.Forbidden, sharedPush.StatusCode);
        Assert.Contains("DENIED", await sharedPush.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var sharedPull = await client.GetAsync("/v2/perm-org/shared/tags/list");
        Assert.NotEqual(HttpStatusCode.Unauthorized, sharedPull.StatusCode);
        Assert.NotEqual(HttpStatusCode.Forbidden, sharedPull.StatusCode);

        using var othersPull = await client.GetAsync("/v2/admin/private/tags/list");
        Assert.True(othersPull.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound or HttpStatusCode.Unauthorized, $"Pull from another user's namespace returned {othersPull.StatusCode}.");
    }

    [Fact]
    public async Task TokenEndpoint_IssuesTokenToCertificateUser()
    {
        await _host.Admin.CreateUserAsync("token-user");
        await _host.Admin.CreateRepositoryAsync("token-user", "app");
        using var certificate = await IssueBundleAsync("token-user");
        using var client = _host.CreateClient(certificate);

        using var response = await client.GetAsync("/auth/token?service=dtr-registry&scope=repository:token-user/app:pull,push&scope=repository:admin/app:push");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var token = body.RootElement.GetProperty("token").GetString()!;
        var claims = ReadJwtPayload(token);
        Assert.Equal("token-user", claims.GetProperty("sub").GetString());
        var access = claims.GetProperty("access").EnumerateArray().ToDictionary(
            entry => entry.GetProperty("name").GetString()!,
            entry => entry.GetProperty("actions").EnumerateArray().Select(action => action.GetString()).Order(StringComparer.Ordinal).ToList());
        Assert.Equal(["pull", "push"], access["token-user/app"]);
        Assert.Empty(access["admin/app"]);

        // The token works without the certificate.
        using var withToken = _host.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v2/token-user/app/blobs/uploads/");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var upload = await withToken.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
    }

    [Fact]
    public async Task TrustedAuthority_MapsCommonName()
    {
        await _host.Admin.CreateUserAsync("carol");
        using var certificate = _host.TrustedAuthority.Issue("CN=carol, O=Example");
        using var client = _host.CreateCertificateClient(certificate);

        var user = await ManagementClient.ReadJsonAsync(await client.GetAsync("/users/carol"));
        Assert.Equal("carol", user.GetProperty("name").GetString());

        using var v2 = await client.Http.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, v2.StatusCode);
    }

    [Fact]
    public async Task RejectedCertificates_Get401WithReason()
    {
        await _host.Admin.CreateUserAsync("reject-user");
        await _host.Admin.CreateUserAsync("inactive-user");
        using (var deactivate = await _host.Admin.PatchAsync("/users/inactive-user", new { isActive = false }))
        {
            await ManagementClient.AssertStatusAsync(deactivate, HttpStatusCode.OK, "deactivating inactive-user");
        }

        using var untrusted = new TestCertificateAuthority("Untrusted CA");
        var trusted = _host.TrustedAuthority;
        var cases = new (string Name, X509Certificate2 Certificate, string Reason)[]
        {
            ("untrusted authority", untrusted.Issue("CN=reject-user"), "does not chain to a trusted client certificate authority"),
            ("expired", trusted.Issue("CN=reject-user", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1)), "expired"),
            ("not yet valid", trusted.Issue("CN=reject-user", notBefore: DateTimeOffset.UtcNow.AddDays(1), notAfter: DateTimeOffset.UtcNow.AddDays(10)), "not valid before"),
            ("server authentication only", trusted.Issue("CN=reject-user", usages: [TestCertificateAuthority.ServerAuthentication]), "extended key usage"),
            ("no extended key usage", trusted.Issue("CN=reject-user", usages: []), "extended key usage"),
            ("unknown user", trusted.Issue("CN=nobody-here"), "does not exist"),
            ("inactive user", trusted.Issue("CN=inactive-user"), "inactive"),
            ("invalid user name", trusted.Issue("CN=Reject User"), "not a valid registry user name"),
            ("self-signed", SelfSigned("CN=reject-user"), "does not chain"),
        };

        foreach (var (name, certificate, reason) in cases)
        {
            using (certificate)
            {
                using var client = _host.CreateClient(certificate);

                using var v2 = await client.GetAsync("/v2/");
                Assert.True(v2.StatusCode == HttpStatusCode.Unauthorized, $"{name}: /v2/ returned {v2.StatusCode}");
                var v2Body = await v2.Content.ReadAsStringAsync();
                Assert.True(v2Body.Contains(reason, StringComparison.Ordinal), $"{name}: /v2/ body does not say '{reason}': {v2Body}");

                using var token = await client.GetAsync("/auth/token?service=dtr-registry&scope=repository:reject-user/app:pull");
                Assert.True(token.StatusCode == HttpStatusCode.Unauthorized, $"{name}: the token endpoint returned {token.StatusCode}");

                using var management = await client.GetAsync(ManagementClient.Prefix + "/users/reject-user");
                Assert.True(management.StatusCode == HttpStatusCode.Unauthorized, $"{name}: the management API returned {management.StatusCode}");
            }
        }
    }

    [Fact]
    public async Task RejectedCertificates_AreAudited()
    {
        await _host.Admin.CreateUserAsync("audit-cert-inactive");
        using (var deactivate = await _host.Admin.PatchAsync("/users/audit-cert-inactive", new { isActive = false }))
        {
            await ManagementClient.AssertStatusAsync(deactivate, HttpStatusCode.OK, "deactivating audit-cert-inactive");
        }

        using var untrusted = new TestCertificateAuthority("Untrusted audit CA");
        var trusted = _host.TrustedAuthority;
        var cases = new (string Name, X509Certificate2 Certificate, string? Actor, string Reason)[]
        {
            ("untrusted authority", untrusted.Issue("CN=audit-cert-untrusted"), null, "does not chain to a trusted client certificate authority"),
            ("expired", trusted.Issue("CN=audit-cert-expired", notBefore: DateTimeOffset.UtcNow.AddDays(-10), notAfter: DateTimeOffset.UtcNow.AddDays(-1)), null, "expired"),
            ("server authentication only", trusted.Issue("CN=audit-cert-server", usages: [TestCertificateAuthority.ServerAuthentication]), null, "extended key usage"),
            ("unknown user", trusted.Issue("CN=audit-cert-unknown"), "audit-cert-unknown", "does not exist"),
            ("inactive user", trusted.Issue("CN=audit-cert-inactive"), "audit-cert-inactive", "inactive"),
            ("invalid user name", trusted.Issue("CN=Audit Cert Nobody"), null, "not a valid registry user name"),
        };

        foreach (var (name, certificate, _, _) in cases)
        {
            using var client = _host.CreateClient(certificate);

            // Two requests on one connection: the audit log records both, although the server log records a certificate
            // that fails its own checks once per connection.
            for (var i = 0; i < 2; i++)
            {
                using var v2 = await client.GetAsync("/v2/");
                Assert.True(v2.StatusCode == HttpStatusCode.Unauthorized, $"{name}: /v2/ returned {v2.StatusCode}");
            }

            using var token = await client.GetAsync("/auth/token?service=dtr-registry&scope=repository:audit-cert/app:pull");
            Assert.True(token.StatusCode == HttpStatusCode.Unauthorized, $"{name}: the token endpoint returned {token.StatusCode}");

            using var management = await client.GetAsync(ManagementClient.Prefix + "/users/audit-cert-inactive");
            Assert.True(management.StatusCode == HttpStatusCode.Unauthorized, $"{name}: the management API returned {management.StatusCode}");
        }

        // The writer stores entries in the order they were recorded, so once this later entry is stored, so are the
        // ones above.
        await _host.Admin.CreateUserAsync("audit-cert-marker");
        await WaitForAuditEntryAsync("actor=admin&action=POST%20/api/v0/users", entry => entry.GetProperty("detail").GetString() == "/api/v0/users");
        var denied = await ListAuditAsync("result=denied&n=1000");

        foreach (var (name, certificate, actor, reason) in cases)
        {
            using (certificate)
            {
                var thumbprint = certificate.GetCertHashString(HashAlgorithmName.SHA256);
                var entries = denied
                    .Where(entry => entry.GetProperty("detail").GetString()?.Contains(thumbprint, StringComparison.OrdinalIgnoreCase) == true)
                    .ToList();
                var actions = entries.Select(entry => entry.GetProperty("action").GetString()).Order(StringComparer.Ordinal).ToList();
                Assert.True(
                    actions.SequenceEqual(["GET /api/v0/users/{user}", "access.denied", "access.denied", "access.denied"]),
                    $"{name}: the audit entries with the thumbprint are [{string.Join(", ", actions)}]");
                foreach (var entry in entries)
                {
                    var detail = entry.GetProperty("detail").GetString()!;
                    var recordedActor = entry.GetProperty("actor").ValueKind == JsonValueKind.Null ? null : entry.GetProperty("actor").GetString();
                    Assert.True(recordedActor == actor, $"{name}: the entry's actor is '{recordedActor}', expected '{actor}'");
                    Assert.True(entry.GetProperty("status").GetInt32() == 401, $"{name}: the entry's status is {entry.GetProperty("status")}");
                    Assert.True(detail.Contains(reason, StringComparison.Ordinal), $"{name}: the detail does not say '{reason}': {detail}");
                    Assert.True(detail.Contains(certificate.Subject, StringComparison.Ordinal), $"{name}: the detail does not name the subject: {detail}");
                }
            }
        }
    }

    [Fact]
    public async Task DeactivatedUser_BundleRejected()
    {
        await _host.Admin.CreateUserAsync("later-inactive");
        using var certificate = await IssueBundleAsync("later-inactive");
        using var client = _host.CreateClient(certificate);
        using (var before = await client.GetAsync("/v2/"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var deactivate = await _host.Admin.PatchAsync("/users/later-inactive", new { isActive = false }))
        {
            await ManagementClient.AssertStatusAsync(deactivate, HttpStatusCode.OK, "deactivating later-inactive");
        }

        // The same connection: the user is read on every request, not only at the handshake.
        using var after = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.Contains("inactive", await after.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RecreatedUser_OldBundleRejected()
    {
        await _host.Admin.CreateUserAsync("recreated");
        using var old = await IssueBundleAsync("recreated");
        using (var deleted = await _host.Admin.DeleteAsync("/users/recreated"))
        {
            await ManagementClient.AssertStatusAsync(deleted, HttpStatusCode.NoContent, "deleting recreated");
        }

        // Certificate times have whole seconds, so the new account must be created in a later second than the old
        // certificate's start.
        await Task.Delay(TimeSpan.FromSeconds(1.1));
        await _host.Admin.CreateUserAsync("recreated");

        using var oldClient = _host.CreateClient(old);
        using var rejected = await oldClient.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, rejected.StatusCode);
        Assert.Contains("earlier account", await rejected.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        using var fresh = await IssueBundleAsync("recreated");
        using var freshClient = _host.CreateClient(fresh);
        using var accepted = await freshClient.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task PasswordClient_WorksWithoutCertificate()
    {
        var users = await ManagementClient.ReadJsonAsync(await _host.Admin.GetAsync("/users"));

        Assert.True(users.GetProperty("users").GetArrayLength() >= 1);
    }

    private async Task<X509Certificate2> IssueBundleAsync(string userName)
    {
        using var response = await _host.Admin.PostAsync($"/users/{userName}/bundle", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var files = ReadZip(await response.Content.ReadAsByteArrayAsync());
        return X509Certificate2.CreateFromPem(files["client.cert"], files["client.key"]);
    }

    private async Task<string> FetchServerThumbprintAsync()
    {
        string? thumbprint = null;
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                thumbprint = Convert.ToHexStringLower(certificate!.GetCertHash(HashAlgorithmName.SHA256));
                return true;
            },
        };
        using var client = new HttpClient(handler) { BaseAddress = _host.Address };
        using var response = await client.GetAsync("/v2/");
        return thumbprint ?? throw new InvalidOperationException("The TLS handshake presented no certificate.");
    }

    private static Dictionary<string, string> ReadZip(byte[] bytes)
    {
        using var zip = new ZipArchive(new MemoryStream(bytes), ZipArchiveMode.Read);
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            using var reader = new StreamReader(entry.Open(), Encoding.ASCII);
            files[entry.FullName] = reader.ReadToEnd();
        }

        return files;
    }

    private static JsonElement ReadJwtPayload(string token)
    {
        var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
        payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
        using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
        return document.RootElement.Clone();
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(TestCertificateAuthority.ClientAuthentication)], false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
    }

    private async Task<List<JsonElement>> ListAuditAsync(string query)
    {
        using var response = await _host.Admin.GetAsync("/audit?" + query);
        return (await ManagementClient.ReadJsonAsync(response)).GetProperty("entries").EnumerateArray().ToList();
    }

    /// <summary>Waits for an audit entry that matches, polling because entries reach the store through a background writer.</summary>
    private async Task WaitForAuditEntryAsync(string query, Func<JsonElement, bool> match)
    {
        var stopwatch = System.Diagnostics.Stopwatch.StartNew();
        while (!(await ListAuditAsync(query)).Any(match))
        {
            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"No audit entry matches '{query}' after 10 seconds.");
            await Task.Delay(50);
        }
    }
}

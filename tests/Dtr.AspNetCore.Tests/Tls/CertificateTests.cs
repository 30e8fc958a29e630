using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>
/// HTTPS with the registry's certificate over real TLS connections: the generated certificate, its replacement through
/// <c>PUT /api/v0/settings/certificate</c>, and the rejection of bad uploads.
/// </summary>
public sealed class CertificateTests : IDisposable
{
    private const string CertificatePath = "/settings/certificate";
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthentication = "1.3.6.1.5.5.7.3.2";

    private readonly string _dataDirectory = Path.Combine(Path.GetTempPath(), "dtr-tls-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task GeneratedCertificate_ReusedAfterRestart()
    {
        string firstThumbprint;
        await using (var first = new HttpsRegistryFactory(_dataDirectory))
        {
            var address = first.StartAndGetAddress();
            firstThumbprint = await FetchPresentedThumbprintAsync(address);
            using var admin = CreateAdminClient(address);
            var description = await ManagementClient.ReadJsonAsync(await admin.GetAsync(CertificatePath));
            Assert.Equal(firstThumbprint, description.GetProperty("sha256Thumbprint").GetString());
            Assert.True(description.GetProperty("selfSigned").GetBoolean());
            Assert.Equal("generated", description.GetProperty("source").GetString());
            var names = description.GetProperty("subjectAlternativeNames").EnumerateArray().Select(name => name.GetString()).ToList();
            Assert.Contains("localhost", names);
            Assert.Contains("127.0.0.1", names);
            Assert.False(description.TryGetProperty("keyPem", out _));
            var httpsAddresses = description.GetProperty("httpsAddresses").EnumerateArray().Select(item => item.GetString()).ToList();
            Assert.Contains(address.ToString().TrimEnd('/'), httpsAddresses);
        }

        var folder = Path.Combine(_dataDirectory, "tls");
        var file = Path.Combine(folder, "generated.pem");
        Assert.True(File.Exists(file), $"{file} was not written");
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        await using var second = new HttpsRegistryFactory(_dataDirectory);
        var secondThumbprint = await FetchPresentedThumbprintAsync(second.StartAndGetAddress());
        Assert.Equal(firstThumbprint, secondThumbprint);
    }

    [Fact]
    public async Task UploadedCertificate_PresentedOnNextConnection()
    {
        using var replacement = CreateCertificate("replacement.test", ServerAuthentication, useRsa: true);
        var expected = Convert.ToHexStringLower(replacement.GetCertHash(HashAlgorithmName.SHA256));

        await using (var factory = new HttpsRegistryFactory(_dataDirectory))
        {
            var address = factory.StartAndGetAddress();
            var before = await FetchPresentedThumbprintAsync(address);
            Assert.NotEqual(expected, before);

            using var admin = CreateAdminClient(address);
            var description = await ManagementClient.ReadJsonAsync(await admin.PutAsync(CertificatePath, PemBody(replacement)));
            Assert.Equal(expected, description.GetProperty("sha256Thumbprint").GetString());
            Assert.Equal("uploaded", description.GetProperty("source").GetString());
            Assert.Equal("CN=replacement.test", description.GetProperty("subject").GetString());

            Assert.Equal(expected, await FetchPresentedThumbprintAsync(address));
        }

        // The upload is kept in the data folder and wins over the generated certificate at the next start.
        await using var restarted = new HttpsRegistryFactory(_dataDirectory);
        Assert.Equal(expected, await FetchPresentedThumbprintAsync(restarted.StartAndGetAddress()));
    }

    [Fact]
    public async Task ConfiguredPemFiles_Presented()
    {
        using var configured = CreateCertificate("configured.test", ServerAuthentication, useRsa: true);
        var expected = Convert.ToHexStringLower(configured.GetCertHash(HashAlgorithmName.SHA256));
        Directory.CreateDirectory(_dataDirectory);
        var certificatePath = Path.Combine(_dataDirectory, "server.crt");
        var keyPath = Path.Combine(_dataDirectory, "server.key");
        var pem = PemBody(configured);
        File.WriteAllText(certificatePath, pem.CertificatePem);
        File.WriteAllText(keyPath, pem.KeyPem);

        await using var factory = new HttpsRegistryFactory(_dataDirectory, new Dictionary<string, string?>
        {
            ["Registry:Tls:CertificatePath"] = certificatePath,
            ["Registry:Tls:KeyPath"] = keyPath,
        });
        var address = factory.StartAndGetAddress();

        Assert.Equal(expected, await FetchPresentedThumbprintAsync(address));
        using var admin = CreateAdminClient(address);
        var description = await ManagementClient.ReadJsonAsync(await admin.GetAsync(CertificatePath));
        Assert.Equal("configured", description.GetProperty("source").GetString());
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "tls", "generated.pem")));
    }

    [Fact]
    public void ConfiguredKeyOfOtherCertificate_StopsStart()
    {
        using var configured = CreateCertificate("configured.test", ServerAuthentication, useRsa: false);
        using var other = CreateCertificate("other.test", ServerAuthentication, useRsa: false);
        Directory.CreateDirectory(_dataDirectory);
        var certificatePath = Path.Combine(_dataDirectory, "server.crt");
        var keyPath = Path.Combine(_dataDirectory, "other.key");
        File.WriteAllText(certificatePath, PemBody(configured).CertificatePem);
        File.WriteAllText(keyPath, PemBody(other).KeyPem);

        using var factory = new HttpsRegistryFactory(_dataDirectory, new Dictionary<string, string?>
        {
            ["Registry:Tls:CertificatePath"] = certificatePath,
            ["Registry:Tls:KeyPath"] = keyPath,
        });

        var error = Assert.ThrowsAny<Exception>(() => factory.StartAndGetAddress());
        var messages = string.Join(" | ", ExceptionChain(error).Select(e => e.Message));
        Assert.Contains(certificatePath, messages);
        Assert.Contains(keyPath, messages);
    }

    [Fact]
    public async Task UploadedPfx_PresentedOnNextConnection()
    {
        using var replacement = CreateCertificate("pfx.test", ServerAuthentication, useRsa: false);
        var expected = Convert.ToHexStringLower(replacement.GetCertHash(HashAlgorithmName.SHA256));
        var pfx = replacement.Export(X509ContentType.Pkcs12, "pfx-password");

        await using var factory = new HttpsRegistryFactory(_dataDirectory);
        var address = factory.StartAndGetAddress();
        using var admin = CreateAdminClient(address);

        using var wrongPassword = await admin.PutAsync(CertificatePath, new { pfxBase64 = Convert.ToBase64String(pfx), password = "wrong" });
        await AssertInvalidAsync(wrongPassword, "$.pfxBase64");

        using var accepted = await admin.PutAsync(CertificatePath, new { pfxBase64 = Convert.ToBase64String(pfx), password = "pfx-password" });
        await ManagementClient.ReadJsonAsync(accepted);
        Assert.Equal(expected, await FetchPresentedThumbprintAsync(address));
    }

    [Fact]
    public async Task UploadedCertificate_ServedByOtherHost()
    {
        using var replacement = CreateCertificate("shared.test", ServerAuthentication, useRsa: false);
        var expected = Convert.ToHexStringLower(replacement.GetCertHash(HashAlgorithmName.SHA256));
        var otherDataDirectory = _dataDirectory + "-other";
        var sharedSettings = new Dictionary<string, string?>
        {
            ["Metadata:Sqlite:DatabasePath"] = Path.Combine(_dataDirectory + "-database", "metadata.db"),
            ["Registry:SettingsRefreshInterval"] = "00:00:01",
        };

        try
        {
            await using var first = new HttpsRegistryFactory(_dataDirectory, sharedSettings);
            var firstAddress = first.StartAndGetAddress();
            await using (var second = new HttpsRegistryFactory(otherDataDirectory, sharedSettings))
            {
                var secondAddress = second.StartAndGetAddress();
                Assert.NotEqual(expected, await FetchPresentedThumbprintAsync(secondAddress));

                using var admin = CreateAdminClient(firstAddress);
                await ManagementClient.ReadJsonAsync(await admin.PutAsync(CertificatePath, PemBody(replacement)));
                Assert.Equal(expected, await FetchPresentedThumbprintAsync(firstAddress));

                // The other host reads the database every second; allow many intervals before failing.
                var deadline = DateTime.UtcNow.AddSeconds(30);
                var presented = await FetchPresentedThumbprintAsync(secondAddress);
                while (presented != expected && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(200);
                    presented = await FetchPresentedThumbprintAsync(secondAddress);
                }

                Assert.Equal(expected, presented);
            }

            // A restarted host serves the shared certificate from its first connection, although its data folder has
            // no copy.
            Assert.False(File.Exists(Path.Combine(otherDataDirectory, "tls", "uploaded.pem")));
            await using var restarted = new HttpsRegistryFactory(otherDataDirectory, sharedSettings);
            Assert.Equal(expected, await FetchPresentedThumbprintAsync(restarted.StartAndGetAddress()));
        }
        finally
        {
            foreach (var folder in new[] { otherDataDirectory, _dataDirectory + "-database" })
            {
                if (Directory.Exists(folder))
                {
                    Directory.Delete(folder, recursive: true);
                }
            }
        }
    }

    [Fact]
    public async Task BadUploads_Rejected()
    {
        using var valid = CreateCertificate("valid.test", ServerAuthentication, useRsa: false);
        using var other = CreateCertificate("other.test", ServerAuthentication, useRsa: false);
        using var expired = CreateCertificate("expired.test", ServerAuthentication, useRsa: false, notAfter: DateTimeOffset.UtcNow.AddDays(-1));
        using var clientOnly = CreateCertificate("client.test", ClientAuthentication, useRsa: false);
        using var otherKey = other.GetECDsaPrivateKey()!;

        await using var factory = new HttpsRegistryFactory(_dataDirectory);
        var address = factory.StartAndGetAddress();
        var original = await FetchPresentedThumbprintAsync(address);
        using var admin = CreateAdminClient(address);

        var cases = new (string Name, object Body, string Field)[]
        {
            ("bad certificate PEM", new { certificatePem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----", keyPem = PemBody(valid).KeyPem }, "$.certificatePem"),
            ("bad key PEM", new { certificatePem = valid.ExportCertificatePem(), keyPem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" }, "$.keyPem"),
            ("key of another certificate", new { certificatePem = valid.ExportCertificatePem(), keyPem = otherKey.ExportPkcs8PrivateKeyPem() }, "$.keyPem"),
            ("missing key", new { certificatePem = valid.ExportCertificatePem() }, "$.keyPem"),
            ("expired", PemBody(expired), "$"),
            ("client authentication only", PemBody(clientOnly), "$"),
            ("PEM and PFX together", new { certificatePem = valid.ExportCertificatePem(), keyPem = PemBody(valid).KeyPem, pfxBase64 = "AAAA" }, "$"),
            ("empty object", new { }, "$"),
            ("PFX not base64", new { pfxBase64 = "%%%" }, "$.pfxBase64"),
        };

        foreach (var (name, body, field) in cases)
        {
            using var response = await admin.PutAsync(CertificatePath, body);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: expected 400, got {(int)response.StatusCode}");
            await AssertInvalidAsync(response, field);
        }

        Assert.Equal(original, await FetchPresentedThumbprintAsync(address));
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "tls", "uploaded.pem")));
    }

    [Fact]
    public async Task KeyUploadErrors_NameAcceptedFormats()
    {
        using var ecdsaCertificate = CreateCertificate("ecdsa.test", ServerAuthentication, useRsa: false);
        using var rsaCertificate = CreateCertificate("rsa.test", ServerAuthentication, useRsa: true);
        using var ecdsaKey = ecdsaCertificate.GetECDsaPrivateKey()!;
        using var rsaKey = rsaCertificate.GetRSAPrivateKey()!;
        var encryption = new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 100_000);

        await using var factory = new HttpsRegistryFactory(_dataDirectory);
        var address = factory.StartAndGetAddress();
        using var admin = CreateAdminClient(address);

        var cases = new (string Name, string CertificatePem, string KeyPem, string[] Expected)[]
        {
            ("encrypted PKCS#8 ECDSA key", ecdsaCertificate.ExportCertificatePem(), ecdsaKey.ExportEncryptedPkcs8PrivateKeyPem("secret"u8, encryption), ["encrypted", "openssl pkey"]),
            ("encrypted PKCS#8 RSA key", rsaCertificate.ExportCertificatePem(), rsaKey.ExportEncryptedPkcs8PrivateKeyPem("secret"u8, encryption), ["encrypted", "openssl pkey"]),
            ("RSA key for an ECDSA certificate", ecdsaCertificate.ExportCertificatePem(), rsaKey.ExportRSAPrivateKeyPem(), ["ECDSA", "PKCS#8", "SEC1"]),
            ("ECDSA key for an RSA certificate", rsaCertificate.ExportCertificatePem(), ecdsaKey.ExportECPrivateKeyPem(), ["RSA", "PKCS#8", "PKCS#1"]),
        };

        foreach (var (name, certificatePem, keyPem, expected) in cases)
        {
            using var response = await admin.PutAsync(CertificatePath, new { certificatePem, keyPem });
            var problem = await ManagementClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
            var message = problem.GetProperty("errors").GetProperty("$.keyPem")[0].GetString()!;
            foreach (var text in expected)
            {
                Assert.True(message.Contains(text, StringComparison.Ordinal), $"{name}: the message does not contain '{text}': {message}");
            }
        }

        Assert.False(File.Exists(Path.Combine(_dataDirectory, "tls", "uploaded.pem")));
    }

    [Fact]
    public async Task NonAdministrator_Forbidden()
    {
        using var replacement = CreateCertificate("forbidden.test", ServerAuthentication, useRsa: false);
        await using var factory = new HttpsRegistryFactory(_dataDirectory);
        var address = factory.StartAndGetAddress();
        using var admin = CreateAdminClient(address);
        await admin.CreateUserAsync("alice");
        using var alice = new ManagementClient(CreateTrustingHttpClient(address, _ => { }), "alice", ManagementClient.PasswordOf("alice"));

        using var put = await alice.PutAsync(CertificatePath, PemBody(replacement));
        await ManagementClient.AssertProblemAsync(put, HttpStatusCode.Forbidden);
        using var get = await alice.GetAsync(CertificatePath);
        await ManagementClient.AssertProblemAsync(get, HttpStatusCode.Forbidden);
        Assert.False(File.Exists(Path.Combine(_dataDirectory, "tls", "uploaded.pem")));
    }

    private static IEnumerable<Exception> ExceptionChain(Exception error)
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            yield return current;
        }
    }

    private static async Task AssertInvalidAsync(HttpResponseMessage response, string field)
    {
        var problem = await ManagementClient.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"No error for {field} in {problem}");
    }

    private static ManagementClient CreateAdminClient(Uri address) =>
        new(CreateTrustingHttpClient(address, _ => { }), ManagementFactory.AdminName, ManagementFactory.AdminPassword);

    /// <summary>
    /// Opens a new TLS connection with a handler of its own, so no pooled connection is reused, and returns the
    /// SHA-256 thumbprint of the certificate the server presented.
    /// </summary>
    private static async Task<string> FetchPresentedThumbprintAsync(Uri address)
    {
        string? thumbprint = null;
        using var client = CreateTrustingHttpClient(address, certificate => thumbprint = Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256)));
        using var response = await client.GetAsync("/v2/");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        return thumbprint ?? throw new InvalidOperationException("The TLS handshake presented no certificate.");
    }

    private static HttpClient CreateTrustingHttpClient(Uri address, Action<X509Certificate2> onCertificate)
    {
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
            {
                onCertificate(certificate!);
                return true;
            },
        };
        return new HttpClient(handler) { BaseAddress = address };
    }

    private static PemUpload PemBody(X509Certificate2 certificate)
    {
        using AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()!;
        return new PemUpload(certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKeyPem());
    }

    private static X509Certificate2 CreateCertificate(string hostName, string usage, bool useRsa, DateTimeOffset? notAfter = null)
    {
        var end = notAfter ?? DateTimeOffset.UtcNow.AddDays(30);
        var start = end < DateTimeOffset.UtcNow ? end.AddDays(-30) : DateTimeOffset.UtcNow.AddMinutes(-5);
        var subject = new X500DistinguishedName("CN=" + hostName);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        names.AddIpAddress(IPAddress.Loopback);

        CertificateRequest request;
        if (useRsa)
        {
            using var rsa = RSA.Create(2048);
            request = new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            request.CertificateExtensions.Add(names.Build());
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
            return request.CreateSelfSigned(start, end);
        }

        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        request = new CertificateRequest(subject, ecdsa, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(usage)], false));
        return request.CreateSelfSigned(start, end);
    }

    private sealed record PemUpload(string CertificatePem, string KeyPem);
}

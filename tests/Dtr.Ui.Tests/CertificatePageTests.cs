using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>
/// Tests of the Certificate tab of the settings page. It shows the HTTPS certificate and a notice that the test host
/// serves plain HTTP. It replaces the certificate with PEM files or a PFX file and shows the API's validation errors.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class CertificatePageTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string ServerAuthentication = "1.3.6.1.5.5.7.3.1";

    [Fact]
    public async Task CertificateTab_ShowsPlainHttpNotice()
    {
        var current = await GetCertificateAsync();

        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync("settings?tab=certificate");
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "HTTPS certificate", Exact = true })).ToBeVisibleAsync();

        await Expect(ui.Page.GetByRole(AriaRole.Note)).ToContainTextAsync("This host serves plain HTTP only");
        await Expect(ui.Page.GetByText(current["sha256Thumbprint"]!.GetValue<string>(), new() { Exact = true })).ToBeVisibleAsync();
        await Expect(ui.Page.GetByText(current["subject"]!.GetValue<string>(), new() { Exact = true })).ToBeVisibleAsync();
        await Expect(ui.Page.GetByText("No HTTPS address", new() { Exact = true })).ToBeVisibleAsync();
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task PemUpload_ReplacesCertificate()
    {
        using var replacement = CreateCertificate("ui-pem.test");
        var certificatePem = replacement.ExportCertificatePem();
        using var key = replacement.GetRSAPrivateKey()!;
        var keyPem = key.ExportPkcs8PrivateKeyPem();
        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync("settings?tab=certificate");
        await ui.WaitForLoadedAsync();

        // A certificate that is not PEM gets the API's message beside the certificate field.
        ui.ExpectFailedResponse("/api/v0/settings/certificate", 400);
        await ui.Field("Certificate (PEM)").FillAsync("not a certificate");
        await ui.Field("Private key (PEM)").FillAsync(keyPem);
        await ui.Button("Replace certificate").ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("is not a valid PEM certificate");
        await Expect(ui.Field("Certificate (PEM)")).ToHaveAttributeAsync("aria-invalid", "true");

        // The certificate file fills the text field, and the pasted key goes with it.
        await ui.Field("Certificate file").SetInputFilesAsync(new FilePayload { Name = "server.crt", MimeType = "application/x-pem-file", Buffer = Encoding.ASCII.GetBytes(certificatePem) });
        await Expect(ui.Field("Certificate (PEM)")).ToHaveValueAsync(certificatePem);
        await ui.Button("Replace certificate").ClickAsync();

        await Expect(ui.Page.GetByText("CN=ui-pem.test", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(ui.Page.GetByText(Thumbprint(replacement), new() { Exact = true })).ToBeVisibleAsync();
        await Expect(ui.Page.GetByText("Uploaded: a certificate replaced on this page or through the API", new() { Exact = true })).ToBeVisibleAsync();
        var stored = await GetCertificateAsync();
        Assert.Equal(Thumbprint(replacement), stored["sha256Thumbprint"]!.GetValue<string>());
        Assert.Equal("uploaded", stored["source"]!.GetValue<string>());
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task PfxUpload_ChecksPassword()
    {
        using var replacement = CreateCertificate("ui-pfx.test");
        var pfx = replacement.Export(X509ContentType.Pkcs12, "pfx-password");
        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync("settings?tab=certificate");
        await ui.WaitForLoadedAsync();

        await ui.Page.GetByRole(AriaRole.Radio, new() { Name = "PFX: a PKCS#12 file with a password" }).CheckAsync();
        await Expect(ui.Field("Certificate (PEM)")).ToBeHiddenAsync();
        await ui.Field("PFX file").SetInputFilesAsync(new FilePayload { Name = "server.pfx", MimeType = "application/x-pkcs12", Buffer = pfx });

        // A wrong password gets the API's message beside the file field.
        ui.ExpectFailedResponse("/api/v0/settings/certificate", 400);
        await ui.Field("PFX password").FillAsync("wrong-password");
        await ui.Button("Replace certificate").ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Alert)).ToContainTextAsync("could not be read as PKCS#12");
        await Expect(ui.Field("PFX file")).ToHaveAttributeAsync("aria-invalid", "true");

        await ui.Field("PFX password").FillAsync("pfx-password");
        await ui.Button("Replace certificate").ClickAsync();

        await Expect(ui.Page.GetByText("CN=ui-pfx.test", new() { Exact = true })).ToBeVisibleAsync();
        var stored = await GetCertificateAsync();
        Assert.Equal(Thumbprint(replacement), stored["sha256Thumbprint"]!.GetValue<string>());
        ui.AssertNoConsoleErrors();
    }

    private async Task<JsonNode> GetCertificateAsync()
    {
        using var http = registry.HttpAs(registry.Admin);
        using var response = await http.GetAsync("api/v0/settings/certificate");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET /api/v0/settings/certificate returned {(int)response.StatusCode}; expected 200.\n{body}\n{registry.DescribeRegistry()}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Creates a self-signed RSA server certificate for <paramref name="hostName"/>, valid from a minute ago for a day.</summary>
    private static X509Certificate2 CreateCertificate(string hostName)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={hostName}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(hostName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthentication)], critical: false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private static string Thumbprint(X509Certificate2 certificate) =>
        Convert.ToHexStringLower(certificate.GetCertHash(HashAlgorithmName.SHA256));
}

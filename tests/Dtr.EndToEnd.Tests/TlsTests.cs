using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// skopeo against the sample host over HTTPS with certificate verification on, trusting the self-signed certificate
/// that the host generated through a certificate folder, as the README describes for clients.
/// </summary>
public sealed class TlsTests
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Skopeo_PushesAndPullsWithVerifiedCertificate()
    {
        using var work = new TemporaryDirectory();
        var dataDirectory = work.Combine("data");
        await using var host = await SampleHostProcess.StartAsync(
            [$"--Registry:DataDirectory={dataDirectory}", "--Registry:Auth:Enabled=false", "--Registry:Tls:Enabled=true"],
            HttpStatusCode.OK,
            https: true);

        // ca.crt is the generated certificate itself, without its key.
        var generated = Path.Combine(dataDirectory, "tls", "generated.pem");
        using (var certificate = X509Certificate2.CreateFromPemFile(generated))
        {
            Directory.CreateDirectory(work.Combine("certs"));
            File.WriteAllText(work.Combine("certs/ca.crt"), certificate.ExportCertificatePem());
        }

        var image = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        var reference = $"docker://{host.Address}/e2e/tls:1";

        var untrusted = await RunSkopeoAsync("copy", "--dest-tls-verify=true", $"oci:{work.Combine("layout")}:1", reference);
        Assert.False(untrusted.Succeeded, $"skopeo pushed over HTTPS without trusting the certificate.\n{untrusted.Describe()}");
        Assert.True(untrusted.StandardError.Contains("certificate", StringComparison.OrdinalIgnoreCase),
            $"skopeo failed for another reason than the untrusted certificate.\n{untrusted.Describe()}");

        var push = await RunSkopeoAsync(
            "copy", "--dest-tls-verify=true", "--dest-cert-dir", work.Combine("certs"), $"oci:{work.Combine("layout")}:1", reference);
        Assert.True(push.Succeeded, $"skopeo push over HTTPS failed.\n{push.Describe()}\n{host.Describe()}");

        var pulled = work.Combine("pulled");
        var pull = await RunSkopeoAsync(
            "copy", "--src-tls-verify=true", "--src-cert-dir", work.Combine("certs"), reference, $"oci:{pulled}:1");
        Assert.True(pull.Succeeded, $"skopeo pull over HTTPS failed.\n{pull.Describe()}\n{host.Describe()}");
        SinglePlatformImageTests.AssertLayoutContainsImage(pulled, image);
    }

    // --insecure-policy: the test must not depend on the machine's /etc/containers/policy.json.
    private static Task<CommandResult> RunSkopeoAsync(params string[] arguments) =>
        CommandRunner.RunAsync("skopeo", ["--insecure-policy", .. arguments], CommandTimeout);
}

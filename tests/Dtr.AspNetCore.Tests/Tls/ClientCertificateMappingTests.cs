using System.Net;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Tests.Management;
using Dtr.AspNetCore.Tls;

namespace Dtr.AspNetCore.Tests.Tls;

/// <summary>
/// How a client certificate names its user under each <see cref="ClientCertificateUserNameSource"/>, the start-up
/// checks of <c>Registry:ClientCertificates</c>, and the bundle endpoint when bundles are disabled.
/// </summary>
public sealed class ClientCertificateMappingTests : IClassFixture<ManagementFactory>, IDisposable
{
    private readonly ManagementFactory _factory;
    private readonly TestCertificateAuthority _authority = new("Mapping CA");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "dtr-client-cert-mapping-" + Guid.NewGuid().ToString("N"));

    public ClientCertificateMappingTests(ManagementFactory factory) => _factory = factory;

    public void Dispose()
    {
        _authority.Dispose();
        if (Directory.Exists(_folder))
        {
            Directory.Delete(_folder, recursive: true);
        }
    }

    [Fact]
    public void CommonName_UsedAsIs()
    {
        using var certificate = _authority.Issue("CN=alice, O=Example, C=DE");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.CommonName, requiredDomain: null);

        Assert.Null(error);
        Assert.Equal("alice", userName);
    }

    [Fact]
    public void CommonName_InvalidUserNameRejected()
    {
        using var certificate = _authority.Issue("CN=Alice Smith");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.CommonName, requiredDomain: null);

        Assert.Null(userName);
        Assert.Contains("not a valid registry user name", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Email_LocalPartInLowercase()
    {
        using var certificate = _authority.Issue("CN=Alice Smith", email: "Alice.Smith@Example.com");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.Email, requiredDomain: "example.com");

        Assert.Null(error);
        Assert.Equal("alice.smith", userName);
    }

    [Fact]
    public void Email_OtherDomainRejected()
    {
        using var certificate = _authority.Issue("CN=Alice Smith", email: "alice@elsewhere.test");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.Email, requiredDomain: "example.com");

        Assert.Null(userName);
        Assert.Contains("not in the domain example.com", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Email_MissingRejected()
    {
        using var certificate = _authority.Issue("CN=alice", dnsName: "alice.example.com");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.Email, requiredDomain: null);

        Assert.Null(userName);
        Assert.Contains("has no e-mail address", error, StringComparison.Ordinal);
    }

    [Fact]
    public void UserPrincipalName_LocalPart()
    {
        using var certificate = _authority.Issue("CN=Bob Jones", email: "other@example.com", userPrincipalName: "BJones@CORP.EXAMPLE.COM");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.UserPrincipalName, requiredDomain: "corp.example.com");

        Assert.Null(error);
        Assert.Equal("bjones", userName);
    }

    [Fact]
    public void DnsName_FirstNameInLowercase()
    {
        using var certificate = _authority.Issue("CN=Build Agent", dnsName: "CI-Runner.example.com");

        var (userName, error) = ClientCertificateValidator.MapUserName(certificate, ClientCertificateUserNameSource.DnsName, requiredDomain: null);

        Assert.Null(error);
        Assert.Equal("ci-runner.example.com", userName);
    }

    [Fact]
    public void Options_EnabledWithoutAuthorityInvalid()
    {
        var options = new RegistryOptions { DataDirectory = "data" };
        options.ClientCertificates.Enabled = true;

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, failure => failure.Contains("no certificate authority is trusted", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_BadTrustedFilesInvalid()
    {
        Directory.CreateDirectory(_folder);
        var notPem = Path.Combine(_folder, "not-pem.txt");
        File.WriteAllText(notPem, "no certificate here");
        var options = new RegistryOptions { DataDirectory = "data" };
        options.ClientCertificates.Enabled = true;
        options.ClientCertificates.TrustedCaPaths = [Path.Combine(_folder, "missing.pem"), notPem];

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, failure => failure.Contains("missing.pem", StringComparison.Ordinal) && failure.Contains("could not be read", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, failure => failure.Contains("not-pem.txt", StringComparison.Ordinal) && failure.Contains("contains no PEM certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_OtherSettingsChecked()
    {
        var options = new RegistryOptions { DataDirectory = "data" };
        options.Auth.Enabled = false;
        options.ClientCertificates.Enabled = true;
        options.ClientCertificates.IssueBundles = true;
        options.ClientCertificates.BundleValidity = TimeSpan.FromHours(1);
        options.ClientCertificates.RequiredDomain = "@example.com";
        options.ClientCertificates.UserNameSource = (ClientCertificateUserNameSource)9;

        var failures = new RegistryOptionsValidator().Validate(null, options).Failures!;

        Assert.Contains(failures, failure => failure.StartsWith("Registry:ClientCertificates:Enabled is true but Registry:Auth:Enabled is false", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("Registry:ClientCertificates:BundleValidity is", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("Registry:ClientCertificates:RequiredDomain", StringComparison.Ordinal));
        Assert.Contains(failures, failure => failure.StartsWith("Registry:ClientCertificates:UserNameSource is", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_BundlesWithoutEnabledInvalid()
    {
        var options = new RegistryOptions { DataDirectory = "data" };
        options.ClientCertificates.IssueBundles = true;

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, failure => failure.StartsWith("Registry:ClientCertificates:IssueBundles is true but", StringComparison.Ordinal));
    }

    [Fact]
    public void Options_DefaultsValid()
    {
        var options = new RegistryOptions { DataDirectory = "data" };

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, string.Join("\n", result.Failures ?? []));
    }

    [Fact]
    public async Task Bundle_DisabledReturns404()
    {
        using var admin = _factory.CreateAdminClient();

        using var response = await admin.PostAsync("/users/admin/bundle", null);

        var problem = await ManagementClient.AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Contains("Registry:ClientCertificates:IssueBundles", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

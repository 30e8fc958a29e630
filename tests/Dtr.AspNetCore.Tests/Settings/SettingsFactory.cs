using Dtr.AspNetCore.Tests.Management;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tests.Settings;

/// <summary>
/// The sample host with authentication on and a one-second settings refresh, on its own data folder or on one that
/// another factory shares, for the runtime settings tests.
/// </summary>
public sealed class SettingsFactory : RegistryFactory
{
    public SettingsFactory()
        : this(Path.Combine(Path.GetTempPath(), "dtr-settings-tests-" + Guid.NewGuid().ToString("N")))
    {
    }

    public SettingsFactory(string dataDirectory)
        : base(dataDirectory)
    {
        Settings = new Dictionary<string, string?>
        {
            ["Registry:Auth:Enabled"] = "true",
            ["Registry:Admin:Password"] = ManagementFactory.AdminPassword,
            ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
            ["Registry:Auth:FailedLoginLimit"] = "100000",
            ["Registry:SettingsRefreshInterval"] = "00:00:01",
        };
    }

    /// <summary>The log records written while the host ran.</summary>
    public TestLogProvider Logs { get; } = new();

    /// <summary>Creates a management client that signs in as the bootstrap administrator.</summary>
    public ManagementClient CreateAdminClient() => CreateManagementClient(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

    /// <summary>Creates a management client that sends HTTP basic credentials, or none when <paramref name="userName"/> is null.</summary>
    public ManagementClient CreateManagementClient(string? userName = null, string? password = null) =>
        new(CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false }), userName, password);

    /// <summary>Creates a /v2 client that signs in as the administrator with HTTP basic authentication.</summary>
    public RegistryClient CreateAdminRegistryClient()
    {
        var client = CreateRegistryClient();
        client.Http.DefaultRequestHeaders.Authorization = ManagementClient.BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureLogging(logging => logging.AddProvider(Logs));
    }
}

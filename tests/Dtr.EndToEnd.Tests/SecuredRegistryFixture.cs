using System.Net;
using System.Security.Cryptography;

// Each collection starts its own sample host, and the tests drive heavy tools (dotnet publish, podman builds), so
// the collections run one after another instead of competing for the machine's cores.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// The sample host with authentication on (<c>Registry:Auth:Enabled=true</c>) and a bootstrap administrator whose
/// random password the fixture chooses. It always starts its own host, because the tests need the administrator's
/// password, so <c>DTR_E2E_REGISTRY</c> does not apply.
/// </summary>
public sealed class SecuredRegistryFixture : RegistryFixture
{
    /// <summary>The bootstrap administrator's user name (<c>Registry:Admin:UserName</c>).</summary>
    public string AdminUserName { get; } = "admin";

    /// <summary>The bootstrap administrator's password (<c>Registry:Admin:Password</c>), new for every fixture.</summary>
    public string AdminPassword { get; } = "Adm-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    // An explicit Auth:Enabled=true wins over an Enabled=false that the base fixture may pass, because later
    // command-line values replace earlier ones.
    protected override IEnumerable<string> ExtraHostArguments =>
    [
        "--Registry:Auth:Enabled=true",
        $"--Registry:Admin:UserName={AdminUserName}",
        $"--Registry:Admin:Password={AdminPassword}",
    ];

    protected override bool AcceptsExternalRegistry => false;

    // With authentication on, an anonymous GET /v2/ gets the 401 challenge once the host is up.
    protected override HttpStatusCode ReadyStatus => HttpStatusCode.Unauthorized;

    /// <summary>Returns a management API client that signs in as the bootstrap administrator.</summary>
    internal ManagementApiClient AdminApi() => ManagementApi(AdminUserName, AdminPassword);

    /// <summary>Returns a management API client that signs in with basic authentication (a password or an access token).</summary>
    internal ManagementApiClient ManagementApi(string userName, string passwordOrToken) =>
        new(new Uri($"http://{Address}"), userName, passwordOrToken, DescribeRegistry);
}

/// <summary>Runs the test classes that need a registry with authentication one after another against one host.</summary>
[CollectionDefinition(Name)]
public sealed class SecuredRegistryCollection : ICollectionFixture<SecuredRegistryFixture>
{
    public const string Name = "Secured registry";
}

using System.Net;
using System.Security.Cryptography;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// The sample host with authentication and image scanning, started as a separate process on a data folder that
/// outlives a restart. At the first start it creates the organization <see cref="Organization"/> with a team of
/// writers (read-write on every repository made with <see cref="CreateRepositoryAsync"/>) and a team of readers
/// (read-only), each with one user.
/// </summary>
internal sealed class ScanningHost : IAsyncDisposable
{
    /// <summary>The organization that owns the repositories of the scanning tests.</summary>
    public const string Organization = "scanning";

    private const string WritersTeam = "writers";
    private const string ReadersTeam = "readers";

    private readonly TemporaryDirectory _dataDirectory = new("dtr-e2e-scanning-");
    private readonly IReadOnlyList<string> _scanningArguments;
    private SampleHostProcess? _process;

    private ScanningHost(IReadOnlyList<string> scanningArguments)
    {
        _scanningArguments = scanningArguments;
    }

    public (string UserName, string Password) Admin { get; } = ("admin", NewPassword());

    /// <summary>A user with read-write access to the test repositories.</summary>
    public (string UserName, string Password) Writer { get; } = ("scan-writer", NewPassword());

    /// <summary>A user with read-only access to the test repositories.</summary>
    public (string UserName, string Password) Reader { get; } = ("scan-reader", NewPassword());

    /// <summary>The running host's address as <c>host:port</c>; it changes with every start.</summary>
    public string Address => _process?.Address ?? throw new InvalidOperationException("The scanning host is not running.");

    /// <summary>Runs skopeo against the running host.</summary>
    public Skopeo Skopeo => new(Address, DescribeRegistry);

    /// <summary>
    /// Starts a host with <paramref name="scanningArguments"/> (such as <c>--Registry:Scanning:Concurrency=1</c>) after
    /// the data folder and authentication settings, and creates the organization, teams and users.
    /// </summary>
    public static async Task<ScanningHost> StartAsync(params string[] scanningArguments)
    {
        var host = new ScanningHost(scanningArguments);
        try
        {
            await host.StartProcessAsync();
            await host.CreateAccountsAsync();
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills the host process, as a crash or a power cut would, and keeps its data folder.</summary>
    public async Task StopAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Starts the host again on the same data folder and settings, on a new port.</summary>
    public Task StartAgainAsync() => StartProcessAsync();

    public ScanningApiClient AdminApi() => Api(Admin);

    public ScanningApiClient WriterApi() => Api(Writer);

    public ScanningApiClient ReaderApi() => Api(Reader);

    public ScanningApiClient AnonymousApi() => new(new Uri($"http://{Address}"), null, DescribeRegistry);

    /// <summary>Returns a client for the existing management API calls, signed in as the administrator.</summary>
    public ManagementApiClient AdminManagementApi() => new(new Uri($"http://{Address}"), Admin.UserName, Admin.Password, DescribeRegistry);

    /// <summary>
    /// Creates the private repository <c>scanning/NAME</c>, grants the writers read-write and the readers read-only
    /// access, and returns its full name.
    /// </summary>
    public async Task<string> CreateRepositoryAsync(string name, bool scanOnPush)
    {
        using var admin = AdminManagementApi();
        await admin.CreateRepositoryAsync(Organization, name, "private", scanOnPush: scanOnPush);
        await admin.SetTeamAccessAsync(Organization, name, WritersTeam, "read-write");
        await admin.SetTeamAccessAsync(Organization, name, ReadersTeam, "read-only");
        return $"{Organization}/{name}";
    }

    /// <summary>
    /// Pushes the image named <paramref name="layoutReference"/> in a layout to <c>repository:tag</c> as the administrator,
    /// with more skopeo copy options (such as <c>--all</c>) when given.
    /// </summary>
    public Task PushAsync(string layoutDirectory, string layoutReference, string repository, string tag, params string[] options) =>
        Skopeo.CopyAsync(
            $"oci:{layoutDirectory}:{layoutReference}", Skopeo.Reference(repository, tag), ["--dest-creds", Credentials(Admin), .. options]);

    /// <summary>Pulls <c>repository:tag</c> into a new layout as the read-only user and returns skopeo's result, whatever it is.</summary>
    public Task<CommandResult> TryPullAsReaderAsync(string repository, string tag, string layoutDirectory) =>
        Skopeo.TryCopyAsync(Skopeo.Reference(repository, tag), $"oci:{layoutDirectory}:{tag}", "--src-creds", Credentials(Reader));

    /// <summary>Describes the host process and its last output lines, for assertion messages.</summary>
    public string DescribeRegistry() => _process is null ? "Scanning host: not running." : $"Scanning host: {_process.Describe()}";

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _dataDirectory.Dispose();
    }

    private ScanningApiClient Api((string UserName, string Password) user) => new(new Uri($"http://{Address}"), user, DescribeRegistry);

    private async Task StartProcessAsync()
    {
        string[] arguments =
        [
            $"--Registry:DataDirectory={_dataDirectory.Path}",
            "--Registry:Auth:Enabled=true",
            $"--Registry:Admin:UserName={Admin.UserName}",
            $"--Registry:Admin:Password={Admin.Password}",
            .. _scanningArguments,
        ];

        // With authentication on, an anonymous GET /v2/ gets the 401 challenge once the host is up.
        _process = await SampleHostProcess.StartAsync(arguments, HttpStatusCode.Unauthorized);
    }

    private async Task CreateAccountsAsync()
    {
        using var admin = AdminManagementApi();
        await admin.CreateOrganizationAsync(Organization);
        await admin.CreateTeamAsync(Organization, WritersTeam);
        await admin.CreateTeamAsync(Organization, ReadersTeam);
        await admin.CreateUserAsync(Writer.UserName, Writer.Password);
        await admin.CreateUserAsync(Reader.UserName, Reader.Password);
        await admin.AddTeamMemberAsync(Organization, WritersTeam, Writer.UserName);
        await admin.AddTeamMemberAsync(Organization, ReadersTeam, Reader.UserName);
    }

    private static string Credentials((string UserName, string Password) user) => $"{user.UserName}:{user.Password}";

    private static string NewPassword() => "Pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}

/// <summary>
/// One scanning host shared by the scan result, database upload and pull policy tests. It requires signed database
/// uploads (<c>Registry:Scanning:PublicKeyFile</c>) and starts with the four test advisories uploaded as a signed zip.
/// </summary>
public sealed class ScanningRegistryFixture : IAsyncLifetime
{
    private readonly TemporaryDirectory _keys = new("dtr-e2e-scanning-keys-");
    private ScanningHost? _host;
    private OpenSslSigningKey? _signingKey;

    /// <summary>How long a test waits for a scan; generous, because other test runs may share the machine's cores.</summary>
    public static TimeSpan ScanTimeout { get; } = TimeSpan.FromMinutes(3);

    internal ScanningHost Host => _host ?? throw new InvalidOperationException("The scanning fixture has not started.");

    /// <summary>The key whose public half the host trusts.</summary>
    internal OpenSslSigningKey SigningKey => _signingKey ?? throw new InvalidOperationException("The scanning fixture has not started.");

    /// <summary>The zip archive of the test advisories that the fixture uploaded.</summary>
    internal byte[] Archive { get; } = OsvArchives.Zip(OsvArchives.Records());

    public async Task InitializeAsync()
    {
        _signingKey = await OpenSslSigningKey.CreateAsync(_keys.Path, "trusted");
        _host = await ScanningHost.StartAsync($"--Registry:Scanning:PublicKeyFile={_signingKey.PublicKeyPath}");

        using var admin = _host.AdminApi();
        var upload = await admin.UploadDatabaseAsync(Archive, await _signingKey.SignAsync(Archive));
        upload.AssertStatus(HttpStatusCode.OK, _host.DescribeRegistry);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _keys.Dispose();
    }
}

/// <summary>Runs the test classes that share the signed-database scanning host one after another.</summary>
[CollectionDefinition(Name)]
public sealed class ScanningRegistryCollection : ICollectionFixture<ScanningRegistryFixture>
{
    public const string Name = "Scanning registry";
}

using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Dtr.EndToEnd.Tests;

// The collection's tests share one host and the machine's two cores, so they run one after another.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Dtr.Ui.Tests;

/// <summary>
/// The sample host, which serves the web interface under <c>/ui/</c>, started as a separate process on a free loopback
/// port with a temporary data folder, authentication on and a bootstrap administrator whose random password the
/// fixture chooses. Its vulnerability database starts with the four test advisories of <see cref="OsvArchives"/>,
/// uploaded unsigned as the source <see cref="FixtureDatabaseSource"/>, so images pushed to a repository that scans
/// on push get vulnerability counts.
/// </summary>
public sealed class UiRegistryFixture : IAsyncLifetime
{
    /// <summary>The database source name of the fixture's upload, apart from the default source "upload" of the page.</summary>
    public const string FixtureDatabaseSource = "fixture";

    private readonly TemporaryDirectory _dataDirectory = new("dtr-ui-data-");
    private readonly SemaphoreSlim _sampleDataLock = new(1, 1);
    private SampleHostProcess? _host;
    private SampleData? _sampleData;

    /// <summary>The bootstrap administrator (<c>Registry:Admin:UserName</c> and <c>Registry:Admin:Password</c>).</summary>
    public (string UserName, string Password) Admin { get; } = ("admin", NewPassword());

    /// <summary>The host's address as <c>host:port</c>, as used in image references.</summary>
    public string Address => _host?.Address ?? throw new InvalidOperationException("The registry host has not started.");

    /// <summary>The web interface's root, such as <c>http://127.0.0.1:41234/ui/</c>, to which page paths are relative.</summary>
    public string UiUrl => $"http://{Address}/ui/";

    /// <summary>Runs skopeo against the host.</summary>
    internal Skopeo Skopeo => new(Address, DescribeRegistry);

    public async Task InitializeAsync()
    {
        string[] arguments =
        [
            $"--Registry:DataDirectory={_dataDirectory.Path}",
            "--Registry:Auth:Enabled=true",
            $"--Registry:Admin:UserName={Admin.UserName}",
            $"--Registry:Admin:Password={Admin.Password}",
        ];

        // With authentication on, an anonymous GET /v2/ gets the 401 challenge once the host is up.
        _host = await SampleHostProcess.StartAsync(arguments, HttpStatusCode.Unauthorized);

        using var admin = ScanningApi(Admin);
        var upload = await admin.UploadDatabaseAsync(OsvArchives.Zip(OsvArchives.Records()), signature: null, source: FixtureDatabaseSource);
        upload.AssertStatus(HttpStatusCode.OK, DescribeRegistry);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        _dataDirectory.Dispose();
    }

    /// <summary>Describes the host process and its last output lines, for assertion messages.</summary>
    public string DescribeRegistry() => _host is null ? "Registry host: not running." : $"Registry host: {_host.Describe()}";

    /// <summary>Returns a management API client that signs in as the administrator with HTTP basic authentication.</summary>
    internal ManagementApiClient AdminApi() => new(new Uri($"http://{Address}"), Admin.UserName, Admin.Password, DescribeRegistry);

    /// <summary>Returns a client for the scanning endpoints that signs in as <paramref name="user"/>.</summary>
    internal ScanningApiClient ScanningApi((string UserName, string Password) user) => new(new Uri($"http://{Address}"), user, DescribeRegistry);

    /// <summary>Returns an HTTP client for the host's root URL that sends <paramref name="user"/>'s credentials with basic authentication.</summary>
    internal HttpClient HttpAs((string UserName, string Password) user)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{Address}/"), Timeout = TimeSpan.FromMinutes(1) };
        http.DefaultRequestHeaders.Authorization = ManagementApiClient.BasicAuthorization(user.UserName, user.Password);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return http;
    }

    /// <summary>
    /// Creates an organization and in it a private repository through the management API as the administrator, and
    /// returns the repository's full name.
    /// </summary>
    internal async Task<string> CreateRepositoryAsync(string organization, string repository, bool scanOnPush)
    {
        using var admin = AdminApi();
        await admin.CreateOrganizationAsync(organization);
        await admin.CreateRepositoryAsync(organization, repository, "private", scanOnPush: scanOnPush, description: "Images of the web interface tests");
        return $"{organization}/{repository}";
    }

    /// <summary>
    /// Pushes the two-layer Debian 12 image of <see cref="ScanTestImages"/>, whose glibc and OpenSSL versions the
    /// fixture's advisories flag, to <c>repository:tag</c> with skopeo as <paramref name="user"/>, and returns it.
    /// </summary>
    internal Task<ImageManifest> PushVulnerableImageAsync(string repository, string tag, (string UserName, string Password) user) =>
        PushDebianImageAsync(repository, tag, user, ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion);

    /// <summary>
    /// Pushes the two-layer Debian 12 image of <see cref="ScanTestImages"/> with the fixed glibc and OpenSSL versions,
    /// whose digest differs from the vulnerable image's, and returns it.
    /// </summary>
    internal Task<ImageManifest> PushFixedImageAsync(string repository, string tag, (string UserName, string Password) user) =>
        PushDebianImageAsync(repository, tag, user, ScanTestImages.FixedGlibcVersion, ScanTestImages.FixedOpenSslVersion);

    private async Task<ImageManifest> PushDebianImageAsync(
        string repository, string tag, (string UserName, string Password) user, string glibcVersion, string openSslVersion)
    {
        using var work = new TemporaryDirectory("dtr-ui-image-");
        var image = ScanTestImages.WriteDebianLayout(work.Path, tag, glibcVersion, openSslVersion);
        await Skopeo.CopyAsync($"oci:{work.Path}:{tag}", Skopeo.Reference(repository, tag), "--dest-creds", $"{user.UserName}:{user.Password}");
        return image;
    }

    /// <summary>
    /// Returns the status of <c>GET /v2/REPOSITORY/manifests/DIGEST</c> with a pull token for the administrator, which
    /// the registry's token endpoint issues after a basic-authentication sign-in.
    /// </summary>
    internal async Task<HttpStatusCode> GetManifestStatusAsync(string repository, string digest)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{Address}/"), Timeout = TimeSpan.FromMinutes(1) };
        var path = $"v2/{repository}/manifests/{digest}";
        using var anonymous = await http.GetAsync(path);
        var challenge = BearerChallenge.From(anonymous);
        Assert.True(challenge is not null,
            $"An anonymous GET /{path} returned {(int)anonymous.StatusCode} without a Bearer challenge.\n{DescribeRegistry()}");

        using var tokenResponse = await challenge.RequestTokenAsync(http, $"repository:{repository}:pull", Admin);
        var tokenBody = await tokenResponse.Content.ReadAsStringAsync();
        Assert.True(tokenResponse.StatusCode == HttpStatusCode.OK,
            $"The token endpoint returned {(int)tokenResponse.StatusCode} for the administrator: {tokenBody}\n{DescribeRegistry()}");
        var token = System.Text.Json.Nodes.JsonNode.Parse(tokenBody)?["token"]?.GetValue<string>();

        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.index.v1+json");
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>
    /// Returns the content that the page tests visit, which the first call creates through the management API. It is
    /// the organization "sample" with the team "operators" and its member "sam", and the repository "sample/api". That
    /// repository scans on push and has the vulnerable image, tagged "2.1" and scanned.
    /// </summary>
    internal async Task<SampleData> GetSampleDataAsync()
    {
        await _sampleDataLock.WaitAsync();
        try
        {
            if (_sampleData is null)
            {
                var repository = await CreateRepositoryAsync("sample", "api", scanOnPush: true);
                using (var admin = AdminApi())
                {
                    await admin.CreateTeamAsync("sample", "operators");
                    await admin.CreateUserAsync("sam", NewPassword(), email: "sam@example.com");
                    await admin.AddTeamMemberAsync("sample", "operators", "sam");
                    await admin.SetTeamAccessAsync("sample", "api", "operators", "read-write");
                }

                var image = await PushVulnerableImageAsync(repository, "2.1", Admin);
                using var scanning = ScanningApi(Admin);
                await scanning.WaitForScanAsync(repository, image.Manifest.Digest, TimeSpan.FromMinutes(3));
                _sampleData = new SampleData(repository, "sample", "operators", image.Manifest.Digest);
            }

            return _sampleData;
        }
        finally
        {
            _sampleDataLock.Release();
        }
    }

    /// <summary>Returns a new random password that meets the registry's rules.</summary>
    public static string NewPassword() => "Pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}

/// <summary>The names of the content that <see cref="UiRegistryFixture.GetSampleDataAsync"/> creates.</summary>
internal sealed record SampleData(string Repository, string Organization, string Team, string ImageDigest);

/// <summary>Runs the web interface test classes one after another against one registry host.</summary>
[CollectionDefinition(Name)]
public sealed class UiCollection : ICollectionFixture<UiRegistryFixture>
{
    public const string Name = "Web interface";
}

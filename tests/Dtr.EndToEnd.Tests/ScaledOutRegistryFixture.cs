using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dtr.Metadata.PostgreSql.Tests;
using Dtr.Storage.S3.Tests;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Two pairs of sample hosts, as behind a load balancer: the hosts of a pair share one PostgreSQL database, one
/// prefix of an s3rver bucket and one token signing key, and nothing else. The open pair runs with authentication
/// off, and the secured pair with authentication on and the same bootstrap administrator password on both hosts.
/// </summary>
/// <remarks>
/// Each host starts from the sample's project folder as content root in the Production environment, so it reads
/// <c>appsettings.Production.json</c>, and the fixture overrides only what differs on this machine: the database,
/// the S3 endpoint, the address and the folders. Each host has its own data folder, so any state that a host kept
/// on local disk would show up as a failure on the other host.
/// </remarks>
public sealed class ScaledOutRegistryFixture : IAsyncLifetime
{
    /// <summary>The key prefix of the open pair's objects in the bucket.</summary>
    public const string OpenPrefix = "open";

    /// <summary>The key prefix of the secured pair's objects in the bucket.</summary>
    public const string SecuredPrefix = "secured";

    private readonly PostgreSqlCluster _postgres = new();
    private readonly S3rverFixture _s3 = new();
    private readonly List<ScaledOutHost> _hosts = [];
    private DirectoryInfo? _work;
    private bool _disposed;

    /// <summary>The bootstrap administrator of the secured pair.</summary>
    public string AdminUserName { get; } = "admin";

    /// <summary>The bootstrap administrator's password, new for every fixture and given to both secured hosts.</summary>
    public string AdminPassword { get; } = "Adm-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    /// <summary>The connection string of the open pair's database, for tests that act as a third host on it.</summary>
    internal string OpenConnectionString { get; private set; } = "";

    /// <summary>The first host of the pair with authentication off.</summary>
    internal ScaledOutHost OpenA { get; private set; } = null!;

    /// <summary>The second host of the pair with authentication off.</summary>
    internal ScaledOutHost OpenB { get; private set; } = null!;

    /// <summary>The first host of the pair with authentication on.</summary>
    internal ScaledOutHost SecuredA { get; private set; } = null!;

    /// <summary>The second host of the pair with authentication on.</summary>
    internal ScaledOutHost SecuredB { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        try
        {
            await Task.WhenAll(_postgres.InitializeAsync(), _s3.InitializeAsync());
            _work = Directory.CreateTempSubdirectory("dtr-e2e-scaled-");

            // The key file stands for a file on storage that every host mounts, or a copy deployed to each host.
            var signingKeyPath = WriteSigningKey(Directory.CreateDirectory(Path.Combine(_work.FullName, "shared")).FullName);
            var openDatabase = await _postgres.CreateDatabaseAsync();
            OpenConnectionString = openDatabase;
            var securedDatabase = await _postgres.CreateDatabaseAsync();

            // The hosts of a pair start at once, so they also race to migrate the schema and to create the administrator.
            var hosts = await Task.WhenAll(
                StartHostAsync("open-a", openDatabase, OpenPrefix, signingKeyPath, authEnabled: false),
                StartHostAsync("open-b", openDatabase, OpenPrefix, signingKeyPath, authEnabled: false),
                StartHostAsync("secured-a", securedDatabase, SecuredPrefix, signingKeyPath, authEnabled: true),
                StartHostAsync("secured-b", securedDatabase, SecuredPrefix, signingKeyPath, authEnabled: true));
            (OpenA, OpenB, SecuredA, SecuredB) = (hosts[0], hosts[1], hosts[2], hosts[3]);
        }
        catch
        {
            // Stop whatever started, without waiting for DisposeAsync.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        // A failed InitializeAsync disposes already, and the fixtures of PostgreSQL and s3rver must stop only once.
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        List<ScaledOutHost> hosts;
        lock (_hosts)
        {
            hosts = [.. _hosts];
            _hosts.Clear();
        }

        foreach (var host in hosts)
        {
            await host.DisposeAsync();
        }

        await _s3.DisposeAsync();
        await _postgres.DisposeAsync();
        if (_work is not null)
        {
            _work.Delete(recursive: true);
            _work = null;
        }
    }

    /// <summary>Describes every host with its last output lines, for assertion messages.</summary>
    public string DescribeHosts()
    {
        lock (_hosts)
        {
            return string.Join("\n\n", _hosts.Select(host => $"{host.Name}: {host.Describe()}"));
        }
    }

    /// <summary>Returns the keys of every object in the bucket whose key starts with <paramref name="prefix"/>.</summary>
    public async Task<IReadOnlyList<string>> ListObjectKeysAsync(string prefix)
    {
        var config = new AmazonS3Config { ServiceURL = _s3.ServiceUrl, ForcePathStyle = true, AuthenticationRegion = "us-east-1" };
        using var client = new AmazonS3Client(new BasicAWSCredentials(S3rverFixture.AccessKey, S3rverFixture.SecretKey), config);

        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = S3rverFixture.BucketName, Prefix = prefix };
        while (true)
        {
            var response = await client.ListObjectsV2Async(request);
            keys.AddRange((response.S3Objects ?? []).Select(item => item.Key));
            if (response.IsTruncated != true)
            {
                return keys;
            }

            request.ContinuationToken = response.NextContinuationToken;
        }
    }

    private async Task<ScaledOutHost> StartHostAsync(string name, string connectionString, string prefix, string signingKeyPath, bool authEnabled)
    {
        var dataDirectory = Directory.CreateDirectory(Path.Combine(_work!.FullName, name)).FullName;
        string[] arguments =
        [
            "--environment", "Production",
            "--contentRoot", FindSampleProjectDirectory(),
            $"--Registry:DataDirectory={dataDirectory}",
            $"--Registry:Auth:Enabled={authEnabled}",
            $"--Registry:Auth:SigningKeyPath={signingKeyPath}",
            $"--Registry:Admin:UserName={AdminUserName}",
            $"--Storage:S3:ServiceUrl={_s3.ServiceUrl}",
            "--Storage:S3:Region=us-east-1",
            $"--Storage:S3:Bucket={S3rverFixture.BucketName}",
            $"--Storage:S3:Prefix={prefix}",
            "--Storage:S3:ForcePathStyle=true",

            // s3rver 3.7.1 stores the chunk signatures of aws-chunked bodies inside the object.
            "--Storage:S3:UseChunkEncoding=false",
        ];

        // Secrets go in environment variables, as the README recommends for appsettings.Production.json.
        var environment = new Dictionary<string, string?>
        {
            ["Metadata__PostgreSql__ConnectionString"] = connectionString,
            ["Storage__S3__AccessKey"] = S3rverFixture.AccessKey,
            ["Storage__S3__SecretKey"] = S3rverFixture.SecretKey,
            ["Registry__Admin__Password"] = AdminPassword,
            ["ASPNETCORE_ENVIRONMENT"] = null,
            ["DOTNET_ENVIRONMENT"] = null,
        };

        // Without a load balancer in front, each host names itself in Location headers and token realms.
        var process = await SampleHostProcess.StartAsync(
            arguments,
            authEnabled ? HttpStatusCode.Unauthorized : HttpStatusCode.OK,
            address => [$"--Registry:PublicBaseUrl=http://{address}"],
            environment);
        var host = new ScaledOutHost(name, process);
        lock (_hosts)
        {
            _hosts.Add(host);
        }

        return host;
    }

    /// <summary>Writes a new P-256 private key as PKCS#8 PEM, readable only by its owner, and returns its path.</summary>
    private static string WriteSigningKey(string directory)
    {
        var path = Path.Combine(directory, "token-signing-key.pem");
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using var writer = new StreamWriter(path, System.Text.Encoding.ASCII, options);
        writer.Write(key.ExportPkcs8PrivateKeyPem());
        return path;
    }

    private static string FindSampleProjectDirectory()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var sample = Path.Combine(directory.FullName, "samples", "Dtr.Sample.Host");
            if (File.Exists(Path.Combine(sample, "appsettings.Production.json")))
            {
                return sample;
            }
        }

        throw new InvalidOperationException(
            $"No folder above {AppContext.BaseDirectory} contains samples/Dtr.Sample.Host/appsettings.Production.json, which the scaled-out hosts start with.");
    }
}

/// <summary>One sample host of <see cref="ScaledOutRegistryFixture"/>, with an HTTP client and skopeo bound to it.</summary>
internal sealed class ScaledOutHost : IAsyncDisposable
{
    private readonly SampleHostProcess _process;

    public ScaledOutHost(string name, SampleHostProcess process)
    {
        Name = name;
        _process = process;
        Http = new HttpClient { BaseAddress = process.BaseUrl, Timeout = TimeSpan.FromMinutes(5) };
        Skopeo = new Skopeo(process.Address, Describe);
    }

    /// <summary>The host's name in the fixture, such as <c>open-a</c>.</summary>
    public string Name { get; }

    /// <summary>The host's address as <c>host:port</c>.</summary>
    public string Address => _process.Address;

    /// <summary>A client whose base address is the host's root URL.</summary>
    public HttpClient Http { get; }

    /// <summary>Runs skopeo against this host over plain HTTP.</summary>
    public Skopeo Skopeo { get; }

    /// <summary>Describes the host process and its last output lines.</summary>
    public string Describe() => _process.Describe();

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}

/// <summary>Runs the scaled-out test classes one after another against one set of hosts.</summary>
[CollectionDefinition(Name)]
public sealed class ScaledOutRegistryCollection : ICollectionFixture<ScaledOutRegistryFixture>
{
    public const string Name = "Scaled-out registry";
}

using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Dtr.AspNetCore.Tests.RegistryClient;

namespace Dtr.AspNetCore.Tests;

public sealed class DeletesDisabledFactory : RegistryFactory
{
    public DeletesDisabledFactory() => Settings = new Dictionary<string, string?> { ["Registry:DeleteEnabled"] = "false" };
}

public sealed class DeletesDisabledTests : IClassFixture<DeletesDisabledFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public DeletesDisabledTests(DeletesDisabledFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task DeleteManifest_Returns405Unsupported()
    {
        var repository = TestContent.UniqueRepository();
        var manifest = await _client.PushImageAsync(repository, "v1");

        using var byDigest = await _client.DeleteAsync($"/v2/{repository}/manifests/{manifest.Digest}");
        using var byTag = await _client.DeleteAsync($"/v2/{repository}/manifests/v1");

        await AssertErrorAsync(byDigest, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        await AssertErrorAsync(byTag, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        using var get = await _client.GetAsync($"/v2/{repository}/manifests/v1");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task DeleteBlob_Returns405Unsupported()
    {
        var repository = TestContent.UniqueRepository();
        var digest = await _client.PushBlobAsync(repository, TestContent.RandomBytes(10, 1));

        using var delete = await _client.DeleteAsync($"/v2/{repository}/blobs/{digest}");

        await AssertErrorAsync(delete, HttpStatusCode.MethodNotAllowed, "UNSUPPORTED");
        using var head = await _client.HeadAsync($"/v2/{repository}/blobs/{digest}");
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task CancelUpload_StillAllowed()
    {
        var repository = TestContent.UniqueRepository();
        var location = await _client.StartUploadAsync(repository);

        using var delete = await _client.DeleteAsync(location);

        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
    }
}

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task EmptyDataDirectory_FailsAtStart(string value)
    {
        var error = await StartWithAsync(new Dictionary<string, string?> { ["Registry:DataDirectory"] = value });

        Assert.Contains(error.Failures, failure => failure.Contains("Registry:DataDirectory", StringComparison.Ordinal));
    }

    [Fact]
    public async Task InvalidOptions_AllReportedAtOnce()
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:MaxPageSize"] = "0",
            ["Registry:PublicBaseUrl"] = "not-a-url",
        });

        Assert.Contains(error.Failures, failure => failure.Contains("Registry:MaxPageSize", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.Contains("Registry:PublicBaseUrl", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:00.5000000")]
    [InlineData("01:00:01")]
    public async Task SettingsRefreshInterval_OutOfRangeFails(string value)
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:SettingsRefreshInterval"] = value,
        });

        Assert.Contains(error.Failures, failure => failure.Contains($"Registry:SettingsRefreshInterval is {value}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("23:00:00")]
    [InlineData("3651.00:00:00")]
    public async Task AuditRetention_OutOfRangeFails(string value)
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:Audit:Retention"] = value,
        });

        Assert.Contains(error.Failures, failure => failure.Contains($"Registry:Audit:Retention is {value}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("00:00:04")]
    [InlineData("01:00:01")]
    public async Task UploadLeaseDuration_OutOfRangeFails(string value)
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:UploadLeaseDuration"] = value,
        });

        Assert.Contains(error.Failures, failure => failure.Contains($"Registry:UploadLeaseDuration is {value}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("1000001")]
    public async Task TokenCacheSize_OutOfRangeFails(string value)
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:Auth:TokenCacheSize"] = value,
        });

        Assert.Contains(error.Failures, failure => failure.Contains($"Registry:Auth:TokenCacheSize is {value}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ScanningOptions_InvalidFailAtStart()
    {
        var error = await StartWithAsync(new Dictionary<string, string?>
        {
            ["Registry:DataDirectory"] = Path.Combine(Path.GetTempPath(), "dtr-unused-" + Guid.NewGuid().ToString("N")),
            ["Registry:Scanning:Concurrency"] = "0",
            ["Registry:Scanning:DatabaseUrls:0"] = "ftp://example.com/osv.zip",
            ["Registry:Scanning:PublicKeyPem"] = "not a key",
        });

        Assert.Contains(error.Failures, failure => failure.StartsWith("Registry:Scanning:Concurrency is 0", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Registry:Scanning:DatabaseUrls:0", StringComparison.Ordinal));
        Assert.Contains(error.Failures, failure => failure.StartsWith("Registry:Scanning:PublicKeyPem", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SampleHost_InvalidOptionsExitWithList()
    {
        var (exitCode, standardError) = await RunSampleHostAsync("--Registry:MaxPageSize=0", "--Registry:PublicBaseUrl=not-a-url");

        Assert.Equal(1, exitCode);
        Assert.Contains("The registry cannot start because its configuration is invalid:", standardError, StringComparison.Ordinal);
        Assert.Contains("  - Registry:MaxPageSize", standardError, StringComparison.Ordinal);
        Assert.Contains("  - Registry:PublicBaseUrl", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SampleHost_UnknownBackendsExitWithList()
    {
        var (exitCode, standardError) = await RunSampleHostAsync("--Storage:Driver=Ftp", "--Metadata:Provider=MySql");

        Assert.Equal(1, exitCode);
        Assert.Contains("The registry cannot start because its configuration is invalid:", standardError, StringComparison.Ordinal);
        Assert.Contains("  - Storage:Driver 'Ftp' is not a known blob store driver. Set it to FileSystem (the default), S3 or AzureBlob.", standardError, StringComparison.Ordinal);
        Assert.Contains("  - Metadata:Provider 'MySql' is not a known metadata provider. Set it to Sqlite (the default) or PostgreSql.", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SampleHost_S3WithoutBucketExitsWithList()
    {
        var (exitCode, standardError) = await RunSampleHostAsync("--Storage:Driver=s3");

        Assert.Equal(1, exitCode);
        Assert.Contains("  - S3StorageOptions.Bucket is not set.", standardError, StringComparison.Ordinal);
        Assert.Contains("S3StorageOptions.<Name> is Storage:S3:<Name>", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SampleHost_MalformedBoolExitsWithList()
    {
        var (exitCode, standardError) = await RunSampleHostAsync(
            "--Storage:Driver=S3", "--Storage:S3:Bucket=registry", "--Storage:S3:ServiceUrl=http://127.0.0.1:9", "--Storage:S3:ForcePathStyle=yes");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("The registry cannot start because its configuration is invalid:", standardError, StringComparison.Ordinal);
        Assert.Contains(
            "  - Failed to convert configuration value 'yes' at 'Storage:S3:ForcePathStyle' to type 'System.Boolean'. String 'yes' was not recognized as a valid Boolean.",
            standardError,
            StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", standardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", standardError, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Registry:GarbageCollection:GracePeriod", "abc", "System.TimeSpan")]
    [InlineData("Registry:MaxPageSize", "many", "System.Int32")]
    [InlineData("Registry:Scanning:Enabled", "maybe", "System.Boolean")]
    public async Task SampleHost_MalformedRegistrySettingExitsWithList(string key, string value, string type)
    {
        var (exitCode, standardError) = await RunSampleHostAsync($"--{key}={value}");

        Assert.Equal(1, exitCode);
        Assert.StartsWith("The registry cannot start because its configuration is invalid:", standardError, StringComparison.Ordinal);
        Assert.Contains($"  - Failed to convert configuration value '{value}' at '{key}' to type '{type}'.", standardError, StringComparison.Ordinal);
        Assert.DoesNotContain("Unhandled exception", standardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SampleHost_MissingSigningKeyExitsWithMessage()
    {
        var keyPath = Path.Combine(Path.GetTempPath(), "dtr-missing-" + Guid.NewGuid().ToString("N"), "signing-key.pem");

        var (exitCode, standardError) = await RunSampleHostAsync($"--Registry:Auth:SigningKeyPath={keyPath}");

        Assert.Equal(1, exitCode);
        Assert.StartsWith($"The registry cannot start: The token signing key '{keyPath}' could not be read:", standardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SampleHost_ClosedPostgreSqlPortExitsWithMessage()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var (exitCode, standardError) = await RunSampleHostAsync(
            "--Metadata:Provider=PostgreSql",
            $"--Metadata:PostgreSql:ConnectionString=Host=127.0.0.1;Port={port};Database=registry;Username=postgres");

        Assert.Equal(1, exitCode);
        Assert.StartsWith(
            "The registry cannot start: The PostgreSQL metadata store could not prepare schema 'dtr': The postgresql service failed with a transient fault on every attempt: Failed to connect to 127.0.0.1:" + port,
            standardError,
            StringComparison.Ordinal);
        Assert.Contains("Check PostgreSqlMetadataOptions.ConnectionString", standardError, StringComparison.Ordinal);
        Assert.Contains("PostgreSqlMetadataOptions.<Name> is Metadata:PostgreSql:<Name>", standardError, StringComparison.Ordinal);
        Assert.Contains("  caused by: Connection refused", standardError, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", standardError, StringComparison.Ordinal);
    }

    [Fact]
    public void SampleHostOutput_HasNoProductionSettings()
    {
        // A built host runs in the Production environment by default, and appsettings.Production.json needs
        // PostgreSQL and S3, so it must not be copied where the host would read it.
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.json")), $"appsettings.json is missing from {AppContext.BaseDirectory}.");
        Assert.False(File.Exists(Path.Combine(AppContext.BaseDirectory, "appsettings.Production.json")),
            $"appsettings.Production.json was copied to {AppContext.BaseDirectory}; a host started there would need PostgreSQL and S3.");
    }

    /// <summary>
    /// Runs the sample host with the given arguments on a free port, in a new working folder that is deleted afterwards,
    /// and returns its exit code and standard error.
    /// </summary>
    private static async Task<(int ExitCode, string StandardError)> RunSampleHostAsync(params string[] arguments)
    {
        var hostPath = Path.Combine(AppContext.BaseDirectory, "Dtr.Sample.Host.dll");
        var workingDirectory = Directory.CreateTempSubdirectory("dtr-sample-host-");
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("dotnet")
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                WorkingDirectory = workingDirectory.FullName,
            };
            foreach (var argument in new[] { hostPath, "--urls", "http://127.0.0.1:0" }.Concat(arguments))
            {
                start.ArgumentList.Add(argument);
            }

            using var process = System.Diagnostics.Process.Start(start)!;
            var standardOutput = process.StandardOutput.ReadToEndAsync();
            var standardError = await process.StandardError.ReadToEndAsync();
            await standardOutput;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
            return (process.ExitCode, standardError);
        }
        finally
        {
            workingDirectory.Delete(recursive: true);
        }
    }

    /// <summary>Starts a bare host with the registry and the given settings, and returns the validation failure.</summary>
    private static async Task<OptionsValidationException> StartWithAsync(Dictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddDockerRegistry(builder.Configuration.GetSection("Registry"));
        await using var app = builder.Build();
        app.MapRegistry();

        return await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());
    }
}

public sealed class ConcurrencyTests : IClassFixture<RegistryFactory>, IDisposable
{
    private readonly RegistryClient _client;

    public ConcurrencyTests(RegistryFactory factory) => _client = factory.CreateRegistryClient();

    public void Dispose() => _client.Dispose();

    [Fact]
    public async Task ParallelPushes_AllSucceed()
    {
        const int pushes = 20;
        var repository = TestContent.UniqueRepository();

        var manifests = await Task.WhenAll(Enumerable.Range(0, pushes).Select(i => PushChunkedImageAsync(repository, i)));

        var expected = Enumerable.Range(0, pushes).Select(i => $"t{i:D2}").ToList();
        Assert.Equal(expected, await _client.ListTagsAsync(repository));
        for (var i = 0; i < pushes; i++)
        {
            using var get = await _client.GetAsync($"/v2/{repository}/manifests/t{i:D2}");
            Assert.Equal(manifests[i].Digest, Header(get, ContentDigestHeader));
        }
    }

    [Fact]
    public async Task ParallelPushesOfSameBlob_AllSucceed()
    {
        var repository = TestContent.UniqueRepository();
        var blob = TestContent.RandomBytes(100_000, 99);

        var digests = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => _client.PushBlobAsync(repository, blob)));

        Assert.All(digests, digest => Assert.Equal(TestContent.Sha256(blob), digest));
        using var get = await _client.GetAsync($"/v2/{repository}/blobs/{digests[0]}");
        Assert.Equal(blob, await get.Content.ReadAsByteArrayAsync());
    }

    private async Task<TestManifest> PushChunkedImageAsync(string repository, int index)
    {
        var config = TestContent.Json($$"""{"architecture":"amd64","os":"linux","index":{{index}}}""");
        var layer = TestContent.RandomBytes(50_000, 1000 + index);
        await _client.PushBlobAsync(repository, config);

        var location = await _client.StartUploadAsync(repository);
        using (var first = await _client.SendAsync(HttpMethod.Patch, location, Binary(layer[..25_000]), [("Content-Range", "0-24999")]))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }

        using (var second = await _client.SendAsync(HttpMethod.Patch, location, Binary(layer[25_000..]), [("Content-Range", "25000-49999")]))
        {
            Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        }

        using (var put = await _client.SendAsync(HttpMethod.Put, WithQuery(location, "digest=" + TestContent.Sha256(layer))))
        {
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);
        await _client.PushManifestAsync(repository, $"t{index:D2}", manifest.Bytes, manifest.MediaType);
        return manifest;
    }
}

using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tests;

public sealed class HealthCheckTests
{
    private const string LivePath = "/healthz/live";
    private const string ReadyPath = "/healthz/ready";
    private const string HealthCheckServiceCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    [Fact]
    public async Task Live_Returns200Healthy()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();

        using var get = await client.GetAsync(LivePath);
        using var head = await client.HeadAsync(LivePath);

        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal("Healthy", await get.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task Ready_EmbeddedDefault_Returns200Report()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();

        using var response = await client.GetAsync(ReadyPath);
        var report = await ReadReportAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.True(response.Headers.CacheControl?.NoCache);
        Assert.Equal(["status", "totalDuration", "checks"], report.EnumerateObject().Select(property => property.Name));
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.True(TimeSpan.TryParse(report.GetProperty("totalDuration").GetString(), out _));

        var checks = report.GetProperty("checks").EnumerateArray().ToList();
        Assert.Equal(["metadata-store", "blob-store"], checks.Select(check => check.GetProperty("name").GetString()));
        foreach (var check in checks)
        {
            Assert.Equal(["name", "status", "duration", "description"], check.EnumerateObject().Select(property => property.Name));
            Assert.Equal("Healthy", check.GetProperty("status").GetString());
            Assert.True(TimeSpan.TryParse(check.GetProperty("duration").GetString(), out _));
            Assert.False(string.IsNullOrWhiteSpace(check.GetProperty("description").GetString()));
        }
    }

    [Fact]
    public async Task Ready_Head_Returns200()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();

        using var response = await client.HeadAsync(ReadyPath);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Ready_UploadsFolderIsFile_Returns503()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        await client.PushBlobAsync("health/blobs", [1, 2, 3]);

        // Root may write anywhere, so only a file in place of the folder blocks the store in a test run as root.
        var uploads = Path.Combine(factory.DataDirectory, "uploads");
        Directory.Delete(uploads, recursive: true);
        await File.WriteAllTextAsync(uploads, "not a folder");

        using var failed = await client.GetAsync(ReadyPath);
        var report = await ReadReportAsync(failed);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
        Assert.Equal("Healthy", CheckStatus(report, "metadata-store"));
        Assert.Equal("Unhealthy", CheckStatus(report, "blob-store"));
        Assert.DoesNotContain(factory.DataDirectory, report.GetRawText(), StringComparison.Ordinal);

        using var live = await client.GetAsync(LivePath);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        File.Delete(uploads);
        using var recovered = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    [Fact]
    public async Task Ready_RepeatedFailure_LoggedOnChange()
    {
        var logs = new TestLogProvider();
        await using var factory = new RegistryFactory
        {
            Settings = new Dictionary<string, string?> { ["Logging:LogLevel:Dtr.AspNetCore.Health"] = "Debug" },
        };
        await using var logged = factory.WithWebHostBuilder(builder => builder.ConfigureLogging(logging => logging.AddProvider(logs)));
        using var client = new RegistryClient(logged.CreateClient());
        await client.PushBlobAsync("health/blobs", [1, 2, 3]);
        var uploads = Path.Combine(factory.DataDirectory, "uploads");
        Directory.Delete(uploads, recursive: true);
        await File.WriteAllTextAsync(uploads, "not a folder");

        for (var run = 0; run < 3; run++)
        {
            using var failed = await client.GetAsync(ReadyPath);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        File.Delete(uploads);
        using var recovered = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);

        var records = logs.Records;
        Assert.DoesNotContain(records, record => record.Category == HealthCheckServiceCategory && record.Level >= LogLevel.Warning);
        var failedRecord = Assert.Single(records, record => record.EventId.Id == 3450);
        Assert.Equal(LogLevel.Error, failedRecord.Level);
        Assert.StartsWith("Readiness check blob-store failed with status Unhealthy", failedRecord.Message, StringComparison.Ordinal);
        var stillFailing = records.Where(record => record.EventId.Id == 3451).ToList();
        Assert.Equal(2, stillFailing.Count);
        Assert.All(stillFailing, record => Assert.Equal(LogLevel.Debug, record.Level));
        var recoveredRecord = Assert.Single(records, record => record.EventId.Id == 3452);
        Assert.Equal(LogLevel.Information, recoveredRecord.Level);
        Assert.Contains("after 3 failed runs", recoveredRecord.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_HostLogLevel_RestoresEveryRunLog()
    {
        var logs = new TestLogProvider();
        await using var factory = new RegistryFactory
        {
            Settings = new Dictionary<string, string?> { [$"Logging:LogLevel:{HealthCheckServiceCategory}"] = "Information" },
        };
        await using var logged = factory.WithWebHostBuilder(builder => builder.ConfigureLogging(logging => logging.AddProvider(logs)));
        using var client = new RegistryClient(logged.CreateClient());
        await client.PushBlobAsync("health/blobs", [1, 2, 3]);
        var uploads = Path.Combine(factory.DataDirectory, "uploads");
        Directory.Delete(uploads, recursive: true);
        await File.WriteAllTextAsync(uploads, "not a folder");

        for (var run = 0; run < 2; run++)
        {
            using var failed = await client.GetAsync(ReadyPath);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        }

        var serviceErrors = logs.Records.Where(record => record.Category == HealthCheckServiceCategory && record.Level == LogLevel.Error).ToList();
        Assert.Equal(2, serviceErrors.Count);
    }

    [Fact]
    public async Task Ready_DataFolderIsFile_Returns503()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        using var before = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        SqliteConnection.ClearAllPools();
        Directory.Delete(factory.DataDirectory, recursive: true);
        await File.WriteAllTextAsync(factory.DataDirectory, "not a folder");
        try
        {
            using var failed = await client.GetAsync(ReadyPath);
            var report = await ReadReportAsync(failed);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
            Assert.Equal("Unhealthy", CheckStatus(report, "metadata-store"));
            Assert.Equal("Unhealthy", CheckStatus(report, "blob-store"));
        }
        finally
        {
            File.Delete(factory.DataDirectory);
        }
    }

    [Fact]
    public async Task Ready_CorruptDatabase_Returns503()
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();
        using var before = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        // Pooled connections keep the pages they read, so new connections must open the overwritten file.
        SqliteConnection.ClearAllPools();
        var database = Path.Combine(factory.DataDirectory, "registry.db");
        File.Delete(database + "-wal");
        File.Delete(database + "-shm");
        await File.WriteAllBytesAsync(database, Enumerable.Repeat((byte)'x', 8192).ToArray());

        using var failed = await client.GetAsync(ReadyPath);
        var report = await ReadReportAsync(failed);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("Unhealthy", CheckStatus(report, "metadata-store"));
        Assert.Equal("Healthy", CheckStatus(report, "blob-store"));
        var description = report.GetProperty("checks")[0].GetProperty("description").GetString();
        Assert.Equal("The sqlite metadata store failed a query (SqliteException). The host's log has the error.", description);
    }

    [Fact]
    public async Task Ready_AuthEnabled_NeedsNoCredentials()
    {
        await using var factory = new ManagementFactory();
        using var client = factory.CreateRegistryClient();

        using var registry = await client.GetAsync("/v2/");
        using var ready = await client.GetAsync(ReadyPath);
        using var live = await client.GetAsync(LivePath);

        Assert.Equal(HttpStatusCode.Unauthorized, registry.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Theory]
    [InlineData(LivePath)]
    [InlineData(ReadyPath)]
    public async Task Post_Returns405(string path)
    {
        await using var factory = new RegistryFactory();
        using var client = factory.CreateRegistryClient();

        using var response = await client.SendAsync(HttpMethod.Post, path);

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }

    private static async Task<JsonElement> ReadReportAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    private static string? CheckStatus(JsonElement report, string name) =>
        report.GetProperty("checks").EnumerateArray().Single(check => check.GetProperty("name").GetString() == name).GetProperty("status").GetString();
}

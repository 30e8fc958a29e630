using System.Net;
using System.Text.Json;
using Dtr.Storage.S3.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Runs the registry's readiness endpoint on a host whose blob store is the S3 store on s3rver.
/// </summary>
[Collection(S3rverCollection.Name)]
public sealed class S3HealthCheckTests
{
    private const string ReadyPath = "/healthz/ready";

    private readonly S3rverFixture _server;

    public S3HealthCheckTests(S3rverFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task Ready_S3Store_Returns200()
    {
        var options = S3TestStores.CreateOptions(_server);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>());
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await client.GetAsync(ReadyPath);
        var blobCheck = await ReadBlobCheckAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", blobCheck.GetProperty("status").GetString());
        Assert.Equal("The s3 blob store answered a listing request.", blobCheck.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Ready_S3Unavailable_Returns503()
    {
        var options = S3TestStores.CreateOptions(_server);

        // Without retries, the first 503 SlowDown fails the check at once instead of after the pipeline's delays.
        options.Resilience.Enabled = false;
        var handler = new FaultInjectingHandler();
        using var store = S3TestStores.CreateStore(options, handler);
        await using var host = await RegistryHost.StartAsync(options, new Dictionary<string, string?>(), services => services.AddSingleton(store));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        using var before = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        handler.ChooseFault = (_, _) => S3Fault.SlowDown;
        using var failed = await client.GetAsync(ReadyPath);
        var blobCheck = await ReadBlobCheckAsync(failed);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("Unhealthy", blobCheck.GetProperty("status").GetString());
        Assert.Equal(
            "The s3 blob store failed its check (StorageUnavailableException). The host's log has the error.",
            blobCheck.GetProperty("description").GetString());
        Assert.DoesNotContain(_server.ServiceUrl, blobCheck.GetRawText(), StringComparison.Ordinal);
    }

    private static async Task<JsonElement> ReadBlobCheckAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("checks").EnumerateArray()
            .Single(check => check.GetProperty("name").GetString() == "blob-store")
            .Clone();
    }
}

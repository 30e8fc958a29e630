using System.Net;
using System.Text.Json;
using Dtr.Storage.AzureBlob.Tests.Support;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// Runs the registry's readiness endpoint on a host whose blob store is the Azure Blob store on Azurite.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobHealthCheckTests
{
    private const string ReadyPath = "/healthz/ready";

    private readonly AzuriteFixture _server;

    public AzureBlobHealthCheckTests(AzuriteFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task Ready_AzureStore_Returns200()
    {
        await using var host = await RegistryHost.StartAsync(options => CopyOptions(AzuriteStores.CreateOptions(_server, "health"), options));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };

        using var response = await client.GetAsync(ReadyPath);
        var blobCheck = await ReadBlobCheckAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", blobCheck.GetProperty("status").GetString());
        Assert.Equal("The azureBlob blob store answered a listing request.", blobCheck.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Ready_ContainerDeleted_Returns503()
    {
        var containerName = "health-" + Guid.NewGuid().ToString("N")[..12];
        var container = AzuriteStores.CreateServiceClient(_server).GetBlobContainerClient(containerName);
        await container.CreateAsync();
        var storeOptions = AzuriteStores.CreateOptions(_server, "health", containerName);

        // Without the option the check cannot create the container again, so it fails until the test does.
        storeOptions.CreateContainerIfMissing = false;
        await using var host = await RegistryHost.StartAsync(options => CopyOptions(storeOptions, options));
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        using var before = await client.GetAsync(ReadyPath);
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);

        await container.DeleteAsync();
        using var failed = await client.GetAsync(ReadyPath);
        var blobCheck = await ReadBlobCheckAsync(failed);
        // The Blob service may reject a new container with ContainerBeingDeleted while it still deletes the old one.
        await WaitForContainerCreatedAsync(container);
        using var recovered = await client.GetAsync(ReadyPath);
        await container.DeleteAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, failed.StatusCode);
        Assert.Equal("Unhealthy", blobCheck.GetProperty("status").GetString());
        Assert.Equal(
            "The azureBlob blob store failed its check (InvalidOperationException). The host's log has the error.",
            blobCheck.GetProperty("description").GetString());
        Assert.DoesNotContain(_server.ServiceUri, blobCheck.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain(containerName, blobCheck.GetRawText(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, recovered.StatusCode);
    }

    private static async Task WaitForContainerCreatedAsync(Azure.Storage.Blobs.BlobContainerClient container)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await container.CreateAsync();
                return;
            }
            catch (Azure.RequestFailedException error) when (error.ErrorCode == "ContainerBeingDeleted" && attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }

    private static void CopyOptions(AzureBlobStorageOptions source, AzureBlobStorageOptions target)
    {
        target.ConnectionString = source.ConnectionString;
        target.ContainerName = source.ContainerName;
        target.Prefix = source.Prefix;
        target.CreateContainerIfMissing = source.CreateContainerIfMissing;
        target.BlockSizeBytes = source.BlockSizeBytes;
        target.CopyBlockSizeBytes = source.CopyBlockSizeBytes;
    }

    private static async Task<JsonElement> ReadBlobCheckAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("checks").EnumerateArray()
            .Single(check => check.GetProperty("name").GetString() == "blob-store")
            .Clone();
    }
}

using System.Net;
using System.Net.Sockets;
using Azure;
using Dtr.Resilience;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// Runs the Azure store's start-up check against Azurite: a missing container or a wrong account key is a permanent
/// failure whose message names the setting, and an endpoint that refuses connections is a transient one.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureBlobStartupCheckTests
{
    private readonly AzuriteFixture _server;

    public AzureBlobStartupCheckTests(AzuriteFixture server)
    {
        _server = server;
    }

    [Fact]
    public async Task Check_ExistingContainerPasses()
    {
        var options = AzuriteStores.CreateOptions(_server, "check");
        options.CreateContainerIfMissing = false;
        var store = AzuriteStores.CreateStore(options);

        await store.CheckAsync();
    }

    [Fact]
    public async Task Check_MissingContainerNamesContainerSetting()
    {
        var options = AzuriteStores.CreateOptions(_server, "check", UniqueContainerName());
        options.CreateContainerIfMissing = false;
        var store = AzuriteStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckAsync().AsTask());

        Assert.Equal(
            $"The blob container '{options.ContainerName}' does not exist at {_server.ServiceUri}. Create it, set "
            + "AzureBlobStorageOptions.ContainerName to an existing container, or set AzureBlobStorageOptions.CreateContainerIfMissing to true.",
            error.Message);
        var inner = Assert.IsType<RequestFailedException>(error.InnerException);
        Assert.Equal("ContainerNotFound", inner.ErrorCode);
    }

    [Fact]
    public async Task Check_CreatesMissingContainerWhenAllowed()
    {
        var options = AzuriteStores.CreateOptions(_server, "check", UniqueContainerName());
        var store = AzuriteStores.CreateStore(options);

        await store.CheckAsync();

        var container = AzuriteStores.CreateServiceClient(_server).GetBlobContainerClient(options.ContainerName);
        Assert.True((await container.ExistsAsync()).Value, $"The check did not create the container '{options.ContainerName}'.");
        await container.DeleteAsync();
    }

    [Fact]
    public async Task Check_WrongAccountKeyNamesCredentials()
    {
        var options = AzuriteStores.CreateOptions(_server, "check");
        options.CreateContainerIfMissing = false;
        options.ConnectionString = null;
        options.ServiceUri = _server.ServiceUri;
        options.AccountName = AzuriteFixture.AccountName;
        options.AccountKey = Convert.ToBase64String(new byte[64]);
        var store = AzuriteStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.CheckAsync().AsTask());

        // Azurite 3.37.0 rejects a wrong shared key with 403 AuthorizationFailure, where Azure returns AuthenticationFailed.
        Assert.StartsWith($"The Blob service at {_server.ServiceUri} denied access to the container 'registry' (AuthorizationFailure).", error.Message, StringComparison.Ordinal);
        Assert.Contains("AzureBlobStorageOptions.AccountKey", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Check_RefusedConnectionIsTransient(bool resilienceEnabled)
    {
        var options = AzuriteStores.CreateOptions(_server, "check");
        options.ConnectionString = null;
        options.ServiceUri = $"http://127.0.0.1:{GetClosedPort()}/{AzuriteFixture.AccountName}";
        options.AccountName = AzuriteFixture.AccountName;
        options.AccountKey = AzuriteFixture.AccountKey;
        options.Resilience.Enabled = resilienceEnabled;
        options.Resilience.MaxRetryAttempts = 1;
        options.Resilience.BaseDelay = TimeSpan.FromMilliseconds(5);
        var store = AzuriteStores.CreateStore(options);

        var error = await Assert.ThrowsAsync<StorageUnavailableException>(() => store.CheckAsync().AsTask());

        Assert.Equal("azure-blob", error.Component);
    }

    private static string UniqueContainerName() => "check-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Returns a 127.0.0.1 port that was free a moment ago, so a connection to it is refused.</summary>
    private static int GetClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

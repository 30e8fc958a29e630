using System.Globalization;
using Azure.Storage.Blobs;
using Dtr.Tests.Shared;

namespace Dtr.Storage.AzureBlob.Tests;

/// <summary>
/// Starts the blob service of Azurite 3.37.0, the Azure Storage emulator on Node, on a free 127.0.0.1 port with a
/// temporary data folder, and stops it by its process id. Installs Azurite with npm into <c>tests/tools</c> when it
/// is missing.
/// </summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    /// <summary>The emulator's fixed account name.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's fixed, publicly documented account key; it opens nothing but a local emulator.</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private static readonly NodeServerPackage Package = new("azurite", "3.37.0", "dist/src/blob/main.js");
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private LoopbackNodeServer? _server;

    /// <summary>The blob service endpoint, such as <c>http://127.0.0.1:41234/devstoreaccount1</c>.</summary>
    public string ServiceUri { get; private set; } = string.Empty;

    /// <summary>The port the blob service listens on.</summary>
    public int Port { get; private set; }

    /// <summary>A shared key connection string for the emulator's account.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={ServiceUri};";

    public async Task InitializeAsync()
    {
        // --disableTelemetry keeps Azurite from connecting to any outside address. --skipApiVersionCheck is needed
        // because Azure.Storage.Blobs 12.30.1 sends a newer API version than Azurite 3.37.0 accepts.
        _server = await LoopbackNodeServer.StartAsync(
            Package,
            (port, dataDirectory) =>
            [
                "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
                "--location", dataDirectory, "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
            ],
            StartTimeout);
        Port = _server.Port;
        ServiceUri = $"http://127.0.0.1:{Port}/{AccountName}";

        // Tests that authorize with a container SAS cannot create the shared container themselves.
        await new BlobServiceClient(ConnectionString).GetBlobContainerClient(AzuriteStores.ContainerName).CreateIfNotExistsAsync();
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        return Task.CompletedTask;
    }
}

/// <summary>Shares one Azurite process between the test classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}

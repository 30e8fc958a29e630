using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Azure.Storage.Blobs;

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

    private const string AzuriteVersion = "3.37.0";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _dataDirectory;

    /// <summary>The blob service endpoint, such as <c>http://127.0.0.1:41234/devstoreaccount1</c>.</summary>
    public string ServiceUri { get; private set; } = string.Empty;

    /// <summary>The port the blob service listens on.</summary>
    public int Port { get; private set; }

    /// <summary>A shared key connection string for the emulator's account.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={ServiceUri};";

    public async Task InitializeAsync()
    {
        var node = FindOnPath("node")
            ?? throw new InvalidOperationException("node was not found on PATH. The Azure Blob tests run Azurite on Node; install Node.js 20 and npm, for example with apt-get install nodejs npm.");
        var script = await EnsureAzuriteInstalledAsync();

        _dataDirectory = Directory.CreateTempSubdirectory("dtr-azurite-").FullName;
        Port = GetFreePort();
        var startInfo = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };

        // --disableTelemetry keeps Azurite from connecting to any outside address. --skipApiVersionCheck is needed
        // because Azure.Storage.Blobs 12.30.1 sends a newer API version than Azurite 3.37.0 accepts.
        string[] arguments =
        [
            script, "--blobHost", "127.0.0.1", "--blobPort", Port.ToString(CultureInfo.InvariantCulture),
            "--location", _dataDirectory, "--skipApiVersionCheck", "--loose", "--disableTelemetry", "--silent",
        ];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Starting {node} {script} failed.");
        _process.OutputDataReceived += (_, e) => AppendOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendOutput(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        ServiceUri = $"http://127.0.0.1:{Port}/{AccountName}";
        await WaitUntilListeningAsync(Port);

        // Tests that authorize with a container SAS cannot create the shared container themselves.
        await new BlobServiceClient(ConnectionString).GetBlobContainerClient(AzuriteStores.ContainerName).CreateIfNotExistsAsync();
    }

    public Task DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
        }

        if (_dataDirectory is not null && Directory.Exists(_dataDirectory))
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Returns the path of Azurite's blob service script, running npm install first when it is missing.</summary>
    private static async Task<string> EnsureAzuriteInstalledAsync()
    {
        var toolsDirectory = Path.Combine(FindRepositoryRoot(), "tests", "tools");
        var script = Path.Combine(toolsDirectory, "node_modules", "azurite", "dist", "src", "blob", "main.js");
        if (File.Exists(script))
        {
            return script;
        }

        var npm = FindOnPath("npm")
            ?? throw new InvalidOperationException($"Azurite is not installed at {script} and npm was not found on PATH. Install npm, or run: npm install --prefix tests/tools azurite@{AzuriteVersion}");
        Directory.CreateDirectory(toolsDirectory);
        var startInfo = new ProcessStartInfo(npm) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "install", "--prefix", toolsDirectory, "--no-audit", "--no-fund", $"azurite@{AzuriteVersion}" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var install = Process.Start(startInfo) ?? throw new InvalidOperationException("Starting npm failed.");
        var stdout = install.StandardOutput.ReadToEndAsync();
        var stderr = install.StandardError.ReadToEndAsync();
        await install.WaitForExitAsync();
        if (install.ExitCode != 0 || !File.Exists(script))
        {
            throw new InvalidOperationException($"npm install azurite@{AzuriteVersion} into {toolsDirectory} failed with exit code {install.ExitCode}:\n{await stdout}\n{await stderr}");
        }

        return script;
    }

    private async Task WaitUntilListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with code {_process.ExitCode} before it listened on port {port}. Output:\n{GetOutput()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"Azurite did not listen on 127.0.0.1:{port} within {StartTimeout.TotalSeconds} seconds. Output:\n{GetOutput()}");
    }

    private void AppendOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    private string GetOutput()
    {
        lock (_output)
        {
            return _output.ToString();
        }
    }

    private static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Dtr.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No folder above {AppContext.BaseDirectory} contains Dtr.slnx, so tests/tools cannot be found.");
    }

    private static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, name))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>Shares one Azurite process between the test classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}

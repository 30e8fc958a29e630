using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dtr.Storage.S3.Tests;

/// <summary>
/// Starts s3rver 3.7.1, a local S3-compatible server on Node, on a free 127.0.0.1 port with a temporary data folder
/// and one bucket, and stops it by its process id. Installs s3rver with npm into <c>tests/tools</c> when it is missing.
/// </summary>
public sealed class S3rverFixture : IAsyncLifetime
{
    public const string BucketName = "registry";
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    private const string S3rverVersion = "3.7.1";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _dataDirectory;

    /// <summary>The server's endpoint, such as <c>http://127.0.0.1:41234</c>.</summary>
    public string ServiceUrl { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var node = FindOnPath("node")
            ?? throw new InvalidOperationException("node was not found on PATH. The S3 tests run s3rver on Node; install Node.js 20 and npm, for example with apt-get install nodejs npm.");
        var script = await EnsureS3rverInstalledAsync();

        _dataDirectory = Directory.CreateTempSubdirectory("dtr-s3rver-").FullName;
        var port = GetFreePort();
        var startInfo = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { script, "-d", _dataDirectory, "-a", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--configure-bucket", BucketName, "--no-vhost-buckets", "--silent" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        // s3rver 3.7.1 encrypts ListObjectsV2 continuation tokens with DES, which Node 17 and later offer only through OpenSSL's legacy provider.
        startInfo.Environment["NODE_OPTIONS"] = "--openssl-legacy-provider";
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Starting {node} {script} failed.");
        _process.OutputDataReceived += (_, e) => AppendOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendOutput(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        ServiceUrl = $"http://127.0.0.1:{port}";
        await WaitUntilListeningAsync(port);
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

    /// <summary>Returns the path of s3rver's start script, running npm install first when it is missing.</summary>
    private static async Task<string> EnsureS3rverInstalledAsync()
    {
        var toolsDirectory = Path.Combine(FindRepositoryRoot(), "tests", "tools");
        var script = Path.Combine(toolsDirectory, "node_modules", "s3rver", "bin", "s3rver.js");
        if (File.Exists(script))
        {
            return script;
        }

        var npm = FindOnPath("npm")
            ?? throw new InvalidOperationException($"s3rver is not installed at {script} and npm was not found on PATH. Install npm, or run: npm install --prefix tests/tools s3rver@{S3rverVersion}");
        Directory.CreateDirectory(toolsDirectory);
        var startInfo = new ProcessStartInfo(npm) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "install", "--prefix", toolsDirectory, "--no-audit", "--no-fund", $"s3rver@{S3rverVersion}" })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var install = Process.Start(startInfo) ?? throw new InvalidOperationException("Starting npm failed.");
        var stdout = install.StandardOutput.ReadToEndAsync();
        var stderr = install.StandardError.ReadToEndAsync();
        await install.WaitForExitAsync();
        if (install.ExitCode != 0 || !File.Exists(script))
        {
            throw new InvalidOperationException($"npm install s3rver@{S3rverVersion} into {toolsDirectory} failed with exit code {install.ExitCode}:\n{await stdout}\n{await stderr}");
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
                throw new InvalidOperationException($"s3rver exited with code {_process.ExitCode} before it listened on port {port}. Output:\n{GetOutput()}");
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

        throw new TimeoutException($"s3rver did not listen on 127.0.0.1:{port} within {StartTimeout.TotalSeconds} seconds. Output:\n{GetOutput()}");
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

/// <summary>Shares one s3rver process between the test classes that use it.</summary>
[CollectionDefinition(Name)]
public sealed class S3rverCollection : ICollectionFixture<S3rverFixture>
{
    public const string Name = "s3rver";
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dtr.Tests.Shared;

/// <summary>
/// An npm package that contains a server, and the path of the server's start script inside the package folder,
/// such as <c>bin/s3rver.js</c>.
/// </summary>
internal sealed record NodeServerPackage(string Name, string Version, string ScriptPath)
{
    /// <summary>The package name and version in npm's <c>name@version</c> form.</summary>
    public string Specifier => $"{Name}@{Version}";
}

/// <summary>
/// Runs a server from an npm package on Node, on a free 127.0.0.1 port with a temporary data folder, and stops it by
/// its process id. Installs the package with npm into <c>tests/tools</c> when it is missing. The storage emulators
/// of the S3 and Azure Blob tests run on it.
/// </summary>
internal sealed class LoopbackNodeServer : IDisposable
{
    /// <summary>How long a test process waits for another one's npm install before it gives up.</summary>
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    private readonly NodeServerPackage _package;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private LoopbackNodeServer(NodeServerPackage package, string dataDirectory, int port)
    {
        _package = package;
        DataDirectory = dataDirectory;
        Port = port;
    }

    /// <summary>The server's temporary data folder, which <see cref="Dispose"/> deletes.</summary>
    public string DataDirectory { get; }

    /// <summary>The 127.0.0.1 port the server listens on.</summary>
    public int Port { get; }

    /// <summary>
    /// Starts the package's server and waits until it accepts TCP connections on its port. Stops the server and
    /// deletes its data folder again when it exits or does not listen within <paramref name="startTimeout"/>.
    /// </summary>
    /// <param name="package">The package that contains the server.</param>
    /// <param name="buildArguments">
    /// Builds the server's command-line arguments, which follow the script path, from the port and the data folder.
    /// The arguments must bind the server to 127.0.0.1 and that port.
    /// </param>
    /// <param name="startTimeout">How long the server may take to listen.</param>
    /// <param name="environment">Environment variables to set for the server process, or null for none.</param>
    /// <exception cref="InvalidOperationException">Node or npm is missing, the install failed, or the server exited.</exception>
    /// <exception cref="TimeoutException">The server did not listen within <paramref name="startTimeout"/>.</exception>
    public static async Task<LoopbackNodeServer> StartAsync(
        NodeServerPackage package,
        Func<int, string, IEnumerable<string>> buildArguments,
        TimeSpan startTimeout,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var node = FindOnPath("node")
            ?? throw new InvalidOperationException($"node was not found on PATH, and the tests run {package.Name} on Node. Install Node.js 20 and npm, for example with apt-get install nodejs npm.");
        var script = await EnsureInstalledAsync(package);

        var dataDirectory = Directory.CreateTempSubdirectory($"dtr-{package.Name}-").FullName;
        var server = new LoopbackNodeServer(package, dataDirectory, GetFreePort());
        try
        {
            server.Start(node, script, buildArguments(server.Port, dataDirectory), environment);
            await server.WaitUntilListeningAsync(startTimeout);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Kills the server's process tree and deletes its data folder.</summary>
    public void Dispose()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }

            _process.Dispose();
            _process = null;
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }

    private void Start(string node, string script, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? environment)
    {
        var startInfo = new ProcessStartInfo(node)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(script);
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        _process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Starting {node} {script} failed.");
        _process.OutputDataReceived += (_, e) => AppendOutput(e.Data);
        _process.ErrorDataReceived += (_, e) => AppendOutput(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Returns the path of the package's start script, running npm install first when it is missing.</summary>
    private static async Task<string> EnsureInstalledAsync(NodeServerPackage package)
    {
        var toolsDirectory = Path.Combine(FindRepositoryRoot(), "tests", "tools");
        var script = Path.Combine(toolsDirectory, "node_modules", package.Name, package.ScriptPath);
        if (File.Exists(script))
        {
            return script;
        }

        var npm = FindOnPath("npm")
            ?? throw new InvalidOperationException($"{package.Name} is not installed at {script} and npm was not found on PATH. Install npm, or run: npm install --prefix tests/tools {package.Specifier}");
        Directory.CreateDirectory(toolsDirectory);

        // dotnet test runs the S3 and Azure Blob test projects at the same time, and two npm installs into one
        // prefix at once leave a broken node_modules, so the installs take turns. The other one may have installed
        // this package meanwhile.
        using var installLock = await LockInstallAsync(toolsDirectory);
        if (File.Exists(script))
        {
            return script;
        }

        var startInfo = new ProcessStartInfo(npm) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "install", "--prefix", toolsDirectory, "--no-audit", "--no-fund", package.Specifier })
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var install = Process.Start(startInfo) ?? throw new InvalidOperationException("Starting npm failed.");
        var stdout = install.StandardOutput.ReadToEndAsync();
        var stderr = install.StandardError.ReadToEndAsync();
        await install.WaitForExitAsync();
        if (install.ExitCode != 0 || !File.Exists(script))
        {
            throw new InvalidOperationException($"npm install {package.Specifier} into {toolsDirectory} failed with exit code {install.ExitCode}:\n{await stdout}\n{await stderr}");
        }

        return script;
    }

    /// <summary>
    /// Opens the lock file of <c>tests/tools</c> for exclusive use, waiting while another test process holds it. On
    /// Unix, .NET implements <see cref="FileShare.None"/> with an advisory <c>flock</c> lock, which the kernel
    /// releases when the holding process exits.
    /// </summary>
    private static async Task<FileStream> LockInstallAsync(string toolsDirectory)
    {
        var lockPath = Path.Combine(toolsDirectory, ".install.lock");
        var deadline = DateTime.UtcNow + InstallTimeout;
        while (true)
        {
            try
            {
                return new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException exception)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    throw new TimeoutException(
                        $"Another process has held the install lock {lockPath} for more than {InstallTimeout.TotalMinutes} minutes. Look for a hung npm install or test process.",
                        exception);
                }

                await Task.Delay(200);
            }
        }
    }

    private async Task WaitUntilListeningAsync(TimeSpan startTimeout)
    {
        var deadline = DateTime.UtcNow + startTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"{_package.Name} exited with code {_process.ExitCode} before it listened on port {Port}. Output:\n{GetOutput()}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }

        throw new TimeoutException($"{_package.Name} did not listen on 127.0.0.1:{Port} within {startTimeout.TotalSeconds} seconds. Output:\n{GetOutput()}");
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

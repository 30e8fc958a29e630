using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// A registry for the end-to-end tests: the sample host started as a separate process on a free loopback port
/// with a temporary data directory, or, when <c>DTR_E2E_REGISTRY=host:port</c> is set, a registry that is
/// already running there (then no process is started and nothing is deleted). Subclasses add host arguments
/// and change the status of <c>GET /v2/</c> that counts as started.
/// </summary>
public class RegistryFixture : IAsyncLifetime
{
    /// <summary>The environment variable that points the tests at an already-running registry.</summary>
    public const string ExternalRegistryVariable = "DTR_E2E_REGISTRY";

    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);
    private const int StartAttempts = 3;
    private const int KeptOutputLines = 300;

    private readonly Queue<string> _hostOutput = new();
    private Process? _host;
    private DirectoryInfo? _dataDirectory;

    /// <summary>The registry address as <c>host:port</c>, as used in image references.</summary>
    public string Address { get; private set; } = "";

    /// <summary>A client whose base address is the registry's root URL.</summary>
    public HttpClient Http { get; private set; } = new();

    /// <summary>Runs skopeo against this registry over plain HTTP.</summary>
    internal Skopeo Skopeo { get; private set; } = null!;

    /// <summary>Arguments added to the sample host's command line after the address and the data folder.</summary>
    protected virtual IEnumerable<string> ExtraHostArguments => [];

    /// <summary>Whether <c>DTR_E2E_REGISTRY</c> may replace the started host with a running registry.</summary>
    protected virtual bool AcceptsExternalRegistry => true;

    /// <summary>The status of an anonymous <c>GET /v2/</c> once the registry is up: 200 unless it requires sign-in.</summary>
    protected virtual HttpStatusCode ReadyStatus => HttpStatusCode.OK;

    public async Task InitializeAsync()
    {
        var external = AcceptsExternalRegistry ? Environment.GetEnvironmentVariable(ExternalRegistryVariable) : null;
        if (!string.IsNullOrWhiteSpace(external))
        {
            Address = external.Trim();
            Http = CreateClient();
            Skopeo = new Skopeo(this);
            if (await GetBaseStatusAsync() != ReadyStatus)
            {
                throw new InvalidOperationException(
                    $"{ExternalRegistryVariable} is set to '{Address}', but GET http://{Address}/v2/ did not return {(int)ReadyStatus}. Start that registry or unset the variable.");
            }

            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartHostAsync();
                return;
            }
            catch (HostExitedException) when (attempt < StartAttempts)
            {
                // The free port found by FindFreePort can be taken by another process before the host binds it.
                await StopHostAsync();
            }
            catch
            {
                // Stop the host without waiting for DisposeAsync. Stopping twice is harmless.
                await StopHostAsync();
                throw;
            }
        }
    }

    public async Task DisposeAsync()
    {
        await StopHostAsync();
        Http.Dispose();
    }

    /// <summary>Describes the registry and, for a started host, its last output lines, for assertion messages.</summary>
    public string DescribeRegistry()
    {
        if (_host is null)
        {
            return $"Registry: external at {Address} ({ExternalRegistryVariable}); its log is not captured.";
        }

        lock (_hostOutput)
        {
            var exited = _host.HasExited ? $" (exited with code {_host.ExitCode})" : "";
            return $"Registry: sample host PID {_host.Id} at {Address}{exited}. Last {_hostOutput.Count} lines of its output:\n" +
                string.Join('\n', _hostOutput);
        }
    }

    private async Task StartHostAsync()
    {
        var hostAssembly = FindHostAssembly();
        var port = FindFreePort();
        Address = $"127.0.0.1:{port}";
        _dataDirectory = Directory.CreateTempSubdirectory("dtr-e2e-data-");
        lock (_hostOutput)
        {
            _hostOutput.Clear();
        }

        // Run with the same dotnet that runs the tests; the SDK sets DOTNET_HOST_PATH for its child processes.
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath ? hostPath : "dotnet";
        var startInfo = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(hostAssembly)!,
        };
        startInfo.ArgumentList.Add(hostAssembly);
        startInfo.ArgumentList.Add("--urls");
        startInfo.ArgumentList.Add($"http://{Address}");
        startInfo.ArgumentList.Add($"--Registry:DataDirectory={_dataDirectory.FullName}");

        // The image tools push and pull without signing in, so the host runs with authentication off. Subclasses
        // add arguments after it, and a later value of the same setting replaces this one.
        startInfo.ArgumentList.Add("--Registry:Auth:Enabled=false");
        foreach (var argument in ExtraHostArguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.Environment.Remove("ASPNETCORE_URLS");
        startInfo.Environment.Remove("DOTNET_URLS");
        startInfo.Environment.Remove("Registry__DataDirectory");

        _host = new Process { StartInfo = startInfo };
        _host.OutputDataReceived += (_, e) => KeepOutputLine(e.Data);
        _host.ErrorDataReceived += (_, e) => KeepOutputLine(e.Data);
        _host.Start();
        _host.BeginOutputReadLine();
        _host.BeginErrorReadLine();

        Http = CreateClient();
        Skopeo = new Skopeo(this);

        var deadline = Stopwatch.StartNew();
        HttpStatusCode? lastStatus = null;
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_host.HasExited)
            {
                throw new HostExitedException($"The sample host exited before it responded to GET /v2/.\n{DescribeRegistry()}");
            }

            lastStatus = await GetBaseStatusAsync();
            if (lastStatus == ReadyStatus)
            {
                return;
            }

            await Task.Delay(200);
        }

        var status = lastStatus is null ? "no response" : $"status {(int)lastStatus}";
        throw new TimeoutException(
            $"The sample host did not return {(int)ReadyStatus} for GET http://{Address}/v2/ within {StartupTimeout.TotalSeconds:F0} s (last: {status}).\n{DescribeRegistry()}");
    }

    private async Task StopHostAsync()
    {
        if (_host is not null)
        {
            if (!_host.HasExited)
            {
                _host.Kill(entireProcessTree: true);
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await _host.WaitForExitAsync(timeout.Token);
            _host.Dispose();
            _host = null;
        }

        if (_dataDirectory is not null)
        {
            _dataDirectory.Delete(recursive: true);
            _dataDirectory = null;
        }
    }

    private async Task<HttpStatusCode?> GetBaseStatusAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = await Http.GetAsync("/v2/", timeout.Token);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private HttpClient CreateClient()
    {
        Http.Dispose();
        return new HttpClient { BaseAddress = new Uri($"http://{Address}"), Timeout = TimeSpan.FromMinutes(5) };
    }

    private void KeepOutputLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_hostOutput)
        {
            _hostOutput.Enqueue(line);
            while (_hostOutput.Count > KeptOutputLines)
            {
                _hostOutput.Dequeue();
            }
        }
    }

    /// <summary>
    /// Returns the sample host's dll in its own build output, recorded at build time by the test project,
    /// with the copy that the project reference places next to the tests as a fallback.
    /// </summary>
    private static string FindHostAssembly()
    {
        var recorded = typeof(RegistryFixture).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .FirstOrDefault(a => a.Key == "SampleHostPath")?.Value;
        string[] candidates = [recorded ?? "", Path.Combine(AppContext.BaseDirectory, "Dtr.Sample.Host.dll")];
        foreach (var candidate in candidates)
        {
            if (candidate.Length > 0 && File.Exists(candidate) && File.Exists(Path.ChangeExtension(candidate, ".runtimeconfig.json")))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException(
            $"The sample host was not found at '{recorded}' or next to the tests. Build samples/Dtr.Sample.Host (dotnet build builds it with this project), " +
            $"or set {ExternalRegistryVariable}=host:port to test a running registry.");
    }

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class HostExitedException(string message) : Exception(message);
}

/// <summary>Runs every end-to-end test class one after another against one shared registry.</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "Registry";
}

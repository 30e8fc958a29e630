using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// The sample host running as a separate process on a free loopback port. It keeps the last lines of the host's
/// output for assertion messages and is killed with its child processes on dispose.
/// </summary>
internal sealed class SampleHostProcess : IAsyncDisposable
{
    private static readonly TimeSpan StartupTimeout = TimeSpan.FromSeconds(90);
    private const int StartAttempts = 3;
    private const int KeptOutputLines = 300;

    private readonly Queue<string> _output = new();
    private readonly Process _process;

    private SampleHostProcess(Process process, string address, string scheme)
    {
        _process = process;
        Address = address;
        Scheme = scheme;
    }

    /// <summary>The host's address as <c>host:port</c>, as used in image references.</summary>
    public string Address { get; }

    /// <summary>The URL scheme the host serves: <c>http</c>, or <c>https</c> when started with <c>https: true</c>.</summary>
    public string Scheme { get; }

    /// <summary>The host's root URL, such as <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseUrl => new($"{Scheme}://{Address}/");

    /// <summary>
    /// Starts the sample host with <paramref name="arguments"/> after <c>--urls</c>, and waits until an anonymous
    /// <c>GET /v2/</c> returns <paramref name="readyStatus"/>. When the host exits early, which happens when another
    /// process takes the free port first, it starts again on a new port, up to three times.
    /// </summary>
    /// <param name="addressArguments">Returns arguments that depend on the chosen address, such as <c>Registry:PublicBaseUrl</c>.</param>
    /// <param name="environment">Variables to set for the host; a null value removes the variable.</param>
    /// <param name="https">Whether the host serves HTTPS. The arguments must then turn its certificate on.</param>
    public static async Task<SampleHostProcess> StartAsync(
        IReadOnlyList<string> arguments,
        HttpStatusCode readyStatus,
        Func<string, IEnumerable<string>>? addressArguments = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        bool https = false)
    {
        for (var attempt = 1; ; attempt++)
        {
            var host = Start(arguments, addressArguments, environment, https ? "https" : "http");
            try
            {
                await host.WaitUntilReadyAsync(readyStatus);
                return host;
            }
            catch (HostExitedException) when (attempt < StartAttempts)
            {
                await host.DisposeAsync();
            }
            catch
            {
                await host.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>Describes the process and its last output lines, for assertion messages.</summary>
    public string Describe()
    {
        lock (_output)
        {
            var exited = _process.HasExited ? $" (exited with code {_process.ExitCode})" : "";
            return $"Sample host PID {_process.Id} at {Address}{exited}. Last {_output.Count} lines of its output:\n" +
                string.Join('\n', _output);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _process.WaitForExitAsync(timeout.Token);
        _process.Dispose();
    }

    private static SampleHostProcess Start(
        IReadOnlyList<string> arguments,
        Func<string, IEnumerable<string>>? addressArguments,
        IReadOnlyDictionary<string, string?>? environment,
        string scheme)
    {
        var hostAssembly = FindHostAssembly();
        var address = $"127.0.0.1:{FindFreePort()}";

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
        startInfo.ArgumentList.Add($"{scheme}://{address}");
        foreach (var argument in arguments.Concat(addressArguments?.Invoke(address) ?? []))
        {
            startInfo.ArgumentList.Add(argument);
        }

        // Variables of the machine running the tests must not move the host to another address or data folder.
        startInfo.Environment.Remove("ASPNETCORE_URLS");
        startInfo.Environment.Remove("DOTNET_URLS");
        startInfo.Environment.Remove("Registry__DataDirectory");
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                startInfo.Environment.Remove(name);
            }
            else
            {
                startInfo.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = startInfo };
        var host = new SampleHostProcess(process, address, scheme);
        process.OutputDataReceived += (_, e) => host.KeepOutputLine(e.Data);
        process.ErrorDataReceived += (_, e) => host.KeepOutputLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    private async Task WaitUntilReadyAsync(HttpStatusCode readyStatus)
    {
        // The readiness poll accepts any certificate, because it only waits for the port. Tests check the certificate
        // with the clients they drive.
        using var handler = new HttpClientHandler();
        if (Scheme == "https")
        {
            handler.ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator;
        }

        using var http = new HttpClient(handler) { BaseAddress = BaseUrl };
        var deadline = Stopwatch.StartNew();
        HttpStatusCode? lastStatus = null;
        while (deadline.Elapsed < StartupTimeout)
        {
            if (_process.HasExited)
            {
                throw new HostExitedException($"The sample host exited before it responded to GET /v2/.\n{Describe()}");
            }

            lastStatus = await GetBaseStatusAsync(http);
            if (lastStatus == readyStatus)
            {
                return;
            }

            await Task.Delay(200);
        }

        var status = lastStatus is null ? "no response" : $"status {(int)lastStatus}";
        throw new TimeoutException(
            $"The sample host did not return {(int)readyStatus} for GET {BaseUrl}v2/ within {StartupTimeout.TotalSeconds:F0} s (last: {status}).\n{Describe()}");
    }

    /// <summary>Returns the status of an anonymous <c>GET /v2/</c>, or null when the registry does not respond within 5 seconds.</summary>
    public static async Task<HttpStatusCode?> GetBaseStatusAsync(HttpClient http)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var response = await http.GetAsync("/v2/", timeout.Token);
            return response.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private void KeepOutputLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > KeptOutputLines)
            {
                _output.Dequeue();
            }
        }
    }

    /// <summary>
    /// Returns the sample host's dll in its own build output, recorded at build time by the test project,
    /// with the copy that the project reference places next to the tests as a fallback.
    /// </summary>
    internal static string FindHostAssembly()
    {
        var recorded = typeof(SampleHostProcess).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
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
            $"or set {RegistryFixture.ExternalRegistryVariable}=host:port to test a running registry.");
    }

    private static int FindFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class HostExitedException(string message) : Exception(message);
}

using System.Net;

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

    private SampleHostProcess? _host;
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
            UseAddress(external.Trim());
            if (await SampleHostProcess.GetBaseStatusAsync(Http) != ReadyStatus)
            {
                throw new InvalidOperationException(
                    $"{ExternalRegistryVariable} is set to '{Address}', but GET http://{Address}/v2/ did not return {(int)ReadyStatus}. Start that registry or unset the variable.");
            }

            return;
        }

        _dataDirectory = Directory.CreateTempSubdirectory("dtr-e2e-data-");

        // The image tools push and pull without signing in, so the host runs with authentication off. Subclasses
        // add arguments after it, and a later value of the same setting replaces this one.
        string[] arguments =
        [
            $"--Registry:DataDirectory={_dataDirectory.FullName}",
            "--Registry:Auth:Enabled=false",
            .. ExtraHostArguments,
        ];
        try
        {
            _host = await SampleHostProcess.StartAsync(arguments, ReadyStatus);
        }
        catch
        {
            // Delete the data folder without waiting for DisposeAsync. Deleting twice is harmless.
            await StopHostAsync();
            throw;
        }

        UseAddress(_host.Address);
    }

    public async Task DisposeAsync()
    {
        await StopHostAsync();
        Http.Dispose();
    }

    /// <summary>Describes the registry and, for a started host, its last output lines, for assertion messages.</summary>
    public string DescribeRegistry() =>
        _host is null
            ? $"Registry: external at {Address} ({ExternalRegistryVariable}); its log is not captured."
            : $"Registry: {_host.Describe()}";

    private void UseAddress(string address)
    {
        Address = address;
        Http.Dispose();
        Http = new HttpClient { BaseAddress = new Uri($"http://{Address}"), Timeout = TimeSpan.FromMinutes(5) };
        Skopeo = new Skopeo(Address, DescribeRegistry);
    }

    private async Task StopHostAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
            _host = null;
        }

        if (_dataDirectory is not null)
        {
            _dataDirectory.Delete(recursive: true);
            _dataDirectory = null;
        }
    }
}

/// <summary>Runs every end-to-end test class one after another against one shared registry.</summary>
[CollectionDefinition(Name)]
public sealed class RegistryCollection : ICollectionFixture<RegistryFixture>
{
    public const string Name = "Registry";
}

using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Logging;
using Dtr.Metadata;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.DependencyInjection;

/// <summary>
/// Prepares storage before the server takes requests: creates the data folder and brings the metadata schema up
/// to date.
/// </summary>
internal sealed class RegistryStartup : IHostedService
{
    private readonly IMetadataStore _metadata;
    private readonly RegistryOptions _options;
    private readonly ILogger<RegistryStartup> _logger;

    public RegistryStartup(IMetadataStore metadata, IOptions<RegistryOptions> options, ILogger<RegistryStartup> logger)
    {
        _metadata = metadata;
        _options = options.Value;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var dataDirectory = Path.GetFullPath(_options.DataDirectory!);
        if (!Directory.Exists(dataDirectory))
        {
            // Owner-only on Unix: the folder contains blobs of private repositories and the metadata database.
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dataDirectory);
            }
            else
            {
                Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }
        RegistryLog.DataDirectory(_logger, dataDirectory);

        await _metadata.MigrateAsync(cancellationToken);
        RegistryLog.MetadataMigrated(_logger);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

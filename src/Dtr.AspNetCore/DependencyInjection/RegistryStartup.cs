using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Logging;
using Dtr.Metadata;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Dtr.AspNetCore.DependencyInjection;

/// <summary>
/// Prepares storage before the server takes requests: creates the data folder, brings the metadata schema up to
/// date, and runs the blob store's <see cref="IBlobStoreStartupCheck"/> when it has one.
/// </summary>
internal sealed class RegistryStartup : IHostedService
{
    /// <summary>
    /// How long the blob store check may take before the host starts without its result. It bounds a service that
    /// accepts connections but never responds, which the resilience pipeline would retry for minutes.
    /// </summary>
    internal static readonly TimeSpan BlobStoreCheckTimeout = TimeSpan.FromSeconds(30);

    private readonly IMetadataStore _metadata;
    private readonly IBlobStore _blobs;
    private readonly RegistryOptions _options;
    private readonly ILogger<RegistryStartup> _logger;

    public RegistryStartup(IMetadataStore metadata, IBlobStore blobs, IOptions<RegistryOptions> options, ILogger<RegistryStartup> logger)
    {
        _metadata = metadata;
        _blobs = blobs;
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

        if (ITracingDecorator.Unwrap(_blobs) is IBlobStoreStartupCheck check)
        {
            await CheckBlobStoreAsync(check, cancellationToken);
        }
    }

    /// <summary>
    /// Runs the blob store check. A permanent failure propagates and stops the host. A transient one is logged, and
    /// the host starts, because requests that reach an unavailable store get 503 and clients retry them.
    /// </summary>
    private async Task CheckBlobStoreAsync(IBlobStoreStartupCheck check, CancellationToken cancellationToken)
    {
        var storeType = _blobs.GetType().Name;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(BlobStoreCheckTimeout);
        try
        {
            await check.CheckAsync(timeout.Token);
            RegistryLog.BlobStoreChecked(_logger, storeType);
        }
        catch (ExecutionRejectedException error)
        {
            RegistryLog.BlobStoreCheckTransientFailure(_logger, storeType, error);
        }
        catch (OperationCanceledException error) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            RegistryLog.BlobStoreCheckTimedOut(_logger, storeType, BlobStoreCheckTimeout.TotalSeconds, error);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dtr.Names;
using Dtr.Scanning.Service;

namespace Dtr.Scanning.Tests.Service;

/// <summary>The scan duration histogram and the queue length gauge, read from a real worker and SQLite store.</summary>
public sealed class ScanningMetricsTests : IDisposable
{
    private static readonly RepositoryName Repository = RepositoryName.Parse("alice/app");
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);
    private readonly string _folder = Directory.CreateTempSubdirectory("dtr-scan-metrics-").FullName;

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Worker_RecordsQueueLengthAndDuration()
    {
        await using var host = await ScanningTestHost.StartAsync(options => options.Enabled = false, folder: _folder);
        var (digest, _) = await host.PushImageAsync(Repository, TestArtifacts.Config(), TestArtifacts.DebianLayer("2.36-9"));
        await host.Get<ScanQueue>().EnqueueAsync(Repository, digest, ScanReason.Request, CancellationToken.None);
        var measurements = new ConcurrentQueue<(string Instrument, double Value, object? Outcome)>();
        using var listener = Listen(host.Get<ScanningMetrics>().Meter, measurements);
        var worker = host.Get<ScanWorker>();
        worker.PollInterval = TimeSpan.FromMilliseconds(50);
        await worker.StartAsync(CancellationToken.None);

        // While scanning is off the job stays queued, and the gauge reports it.
        await WaitUntilAsync(listener, measurements, "dtr.scan.queue.length", value => value == 1);

        var monitor = (Dtr.Tests.Shared.TestOptionsMonitor<ScanningOptions>)host.Get<Microsoft.Extensions.Options.IOptionsMonitor<ScanningOptions>>();
        var enabled = host.Get<Microsoft.Extensions.Options.IOptions<ScanningOptions>>().Value;
        enabled.Enabled = true;
        monitor.Change(enabled);

        await WaitUntilAsync(listener, measurements, "dtr.scan.duration", value => value > 0);
        await WaitUntilAsync(listener, measurements, "dtr.scan.queue.length", value => value == 0);
        await worker.StopAsync(CancellationToken.None);

        var duration = Assert.Single(measurements, m => m.Instrument == "dtr.scan.duration");
        Assert.Equal("succeeded", duration.Outcome);
    }

    private static MeterListener Listen(Meter meter, ConcurrentQueue<(string, double, object?)> measurements)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, Outcome(tags))));
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, Outcome(tags))));
        listener.Start();
        return listener;
    }

    private static object? Outcome(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        foreach (var tag in tags)
        {
            if (tag.Key == ScanningMetrics.OutcomeTag)
            {
                return tag.Value;
            }
        }

        return null;
    }

    /// <summary>Reads the gauge every 50 ms until the latest measurement of <paramref name="instrument"/> matches.</summary>
    private static async Task WaitUntilAsync(
        MeterListener listener,
        ConcurrentQueue<(string Instrument, double Value, object? Outcome)> measurements,
        string instrument,
        Func<double, bool> match)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (true)
        {
            listener.RecordObservableInstruments();
            var latest = measurements.LastOrDefault(m => m.Instrument == instrument);
            if (latest.Instrument is not null && match(latest.Value))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"After {WaitLimit.TotalSeconds} s, no measurement of {instrument} matched.");
            await Task.Delay(50);
        }
    }
}

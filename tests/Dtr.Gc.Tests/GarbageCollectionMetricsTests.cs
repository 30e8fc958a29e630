using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.Gc.Tests;

/// <summary>The run and freed-bytes counters of garbage collection.</summary>
public sealed class GarbageCollectionMetricsTests
{
    private static readonly RepositoryName App = RepositoryName.Parse("team/app");

    [Fact]
    public async Task Runs_CountByStatusAndBytesFreed()
    {
        await using var host = await GcTestHost.StartAsync();
        var layer = GcTestHost.Bytes("deleted layer");
        var config = GcTestHost.Bytes("deleted config");
        var image = await host.PushImageAsync(App, config, [layer], "v1");
        Assert.True(await host.Metadata.DeleteManifestAsync(App, image.Digest));
        host.PassGracePeriod();
        var measurements = new ConcurrentQueue<(string Instrument, long Value, Dictionary<string, object?> Tags)>();
        using var listener = Listen(host, measurements);

        var dry = await host.Collector.RunAsync(new GarbageCollectionRequest { DryRun = true });
        var real = await host.Collector.RunAsync(new GarbageCollectionRequest());

        Assert.Equal(GarbageCollectionStatus.Completed, dry.Status);
        Assert.Equal(GarbageCollectionStatus.Completed, real.Status);
        var runs = measurements.Where(m => m.Instrument == "dtr.gc.runs").ToList();
        Assert.Equal(2, runs.Count);
        Assert.All(runs, run => Assert.Equal("completed", run.Tags["dtr.gc.status"]));
        Assert.Equal([true, false], runs.Select(run => run.Tags["dtr.gc.dry_run"]));
        var freed = Assert.Single(measurements, m => m.Instrument == "dtr.gc.bytes_freed");
        Assert.Equal(layer.Length + config.Length, freed.Value);
        Assert.Equal(real.BytesFreed, freed.Value);
    }

    private static MeterListener Listen(GcTestHost host, ConcurrentQueue<(string, long, Dictionary<string, object?>)> measurements)
    {
        var meter = host.Services.GetRequiredService<GarbageCollectionMetrics>().Meter;
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
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            measurements.Enqueue((instrument.Name, value, tags.ToArray().ToDictionary(tag => tag.Key, tag => tag.Value))));
        listener.Start();
        return listener;
    }
}

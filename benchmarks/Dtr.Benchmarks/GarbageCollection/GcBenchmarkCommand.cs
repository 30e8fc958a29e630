using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using Dtr.AspNetCore.Configuration;
using Dtr.Gc;
using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.Benchmarks.GarbageCollection;

/// <summary>
/// The <c>gc</c> command: seeds a registry with garbage on one storage backend, runs one garbage collection that
/// removes untagged manifests, and prints its wall time, this process's memory during the run, and what it removed
/// next to what the seed plan expects.
/// </summary>
internal static class GcBenchmarkCommand
{
    private const string Sqlite = "sqlite";
    private const string PostgresS3 = "postgres-s3";
    private const string BothPhases = "both";
    private const string SeedPhase = "seed";
    private const string RunPhase = "run";

    /// <summary>Parses the arguments after <c>gc</c> and runs the benchmark; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args)
    {
        var defaults = GcSeedShape.Default;
        var backend = new Option<string>("--backend")
        {
            Description = "The stores to measure: sqlite (filesystem blobs and SQLite in one folder) or postgres-s3 (PostgreSQL and an S3 service such as s3rver).",
            DefaultValueFactory = _ => Sqlite,
        };
        backend.AcceptOnlyFromAmong(Sqlite, PostgresS3);
        var dataDirectory = new Option<DirectoryInfo?>("--data-dir")
        {
            Description = "The folder of the sqlite backend's blobs and database. Default: a new temporary folder, deleted at the end.",
        };
        var postgres = new Option<string?>("--postgres") { Description = "The Npgsql connection string of an empty database (postgres-s3 only)." };
        var s3Url = new Option<string?>("--s3-url") { Description = "The S3 service URL, such as http://127.0.0.1:4569 (postgres-s3 only)." };
        s3Url.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !Uri.TryCreate(value, UriKind.Absolute, out _))
            {
                result.AddError($"--s3-url '{value}' is not an absolute URL. Pass one such as http://127.0.0.1:4569.");
            }
        });
        var s3Bucket = new Option<string>("--s3-bucket") { Description = "The S3 bucket, which must exist and be empty.", DefaultValueFactory = _ => "registry" };
        var s3AccessKey = new Option<string>("--s3-access-key") { Description = "The S3 access key.", DefaultValueFactory = _ => "S3RVER" };
        var s3SecretKey = new Option<string>("--s3-secret-key") { Description = "The S3 secret key.", DefaultValueFactory = _ => "S3RVER" };
        var repositories = new Option<int>("--repositories") { Description = "Repositories to seed.", DefaultValueFactory = _ => defaults.Repositories };
        var manifests = new Option<int>("--manifests-per-repository") { Description = "Image manifests per repository.", DefaultValueFactory = _ => defaults.ManifestsPerRepository };
        var blobs = new Option<int>("--blobs") { Description = "Blobs in the blob store in all, referenced or not.", DefaultValueFactory = _ => defaults.Blobs };
        var untagged = new Option<int>("--untagged-percent") { Description = "Share of each repository's manifests, the oldest, left without a tag, in percent.", DefaultValueFactory = _ => defaults.UntaggedPercent };
        var seedConcurrency = new Option<int>("--seed-concurrency") { Description = "Store calls in flight at once while seeding.", DefaultValueFactory = _ => 16 };
        var batchSize = new Option<int?>("--batch-size") { Description = "GarbageCollectionOptions.BatchSize for the run. Default: the option's default." };
        var deleteConcurrency = new Option<int?>("--delete-concurrency") { Description = "GarbageCollectionOptions.DeleteConcurrency for the run. Default: the option's default." };
        var s3SeedUploads = new Option<bool>("--s3-seed-uploads")
        {
            Description = "On postgres-s3, seed blobs through the blob store's upload protocol (8 S3 requests each) instead of one PutObject each at the blob's key.",
        };
        var phase = new Option<string>("--phase")
        {
            Description = "What to do: seed, then run (both); only seed (seed); or only run over a registry that an earlier seed phase with the same shape left (run). " +
                "A separate run phase measures a process that did not seed. Give the seed phase --data-dir on sqlite, so its data stays.",
            DefaultValueFactory = _ => BothPhases,
        };
        phase.AcceptOnlyFromAmong(BothPhases, SeedPhase, RunPhase);

        var command = new RootCommand("Measures one garbage collection run over a seeded registry (see benchmarks/README.md).")
        {
            backend, dataDirectory, postgres, s3Url, s3Bucket, s3AccessKey, s3SecretKey,
            repositories, manifests, blobs, untagged, seedConcurrency, batchSize, deleteConcurrency, s3SeedUploads, phase,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var settings = new GcBenchmarkSettings(
                result.GetValue(backend)!,
                result.GetValue(dataDirectory)?.FullName,
                result.GetValue(postgres),
                result.GetValue(s3Url) is { } url ? new Uri(url) : null,
                result.GetValue(s3Bucket)!,
                result.GetValue(s3AccessKey)!,
                result.GetValue(s3SecretKey)!,
                new GcSeedShape(result.GetValue(repositories), result.GetValue(manifests), result.GetValue(blobs), result.GetValue(untagged), defaults.StaleUploadsPerRepository),
                result.GetValue(seedConcurrency),
                result.GetValue(batchSize),
                result.GetValue(deleteConcurrency),
                result.GetValue(s3SeedUploads),
                result.GetValue(phase)!);
            return await RunAsync(settings, cancellationToken);
        });
        return command.Parse(args).InvokeAsync();
    }

    private static async Task<int> RunAsync(GcBenchmarkSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Backend == PostgresS3 && (settings.PostgresConnectionString is null || settings.S3Url is null))
        {
            Console.Error.WriteLine("error: --backend postgres-s3 needs --postgres and --s3-url. benchmarks/gc/run.sh starts both services and passes them.");
            return 1;
        }

        if (settings.Backend == Sqlite && settings.Phase == RunPhase && settings.DataDirectory is null)
        {
            Console.Error.WriteLine("error: --phase run on sqlite needs --data-dir, the folder that an earlier --phase seed filled.");
            return 1;
        }

        var ownsDataDirectory = settings.DataDirectory is null;
        var dataDirectory = settings.DataDirectory ?? Path.Combine(Path.GetTempPath(), "dtr-gc-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDirectory);
        try
        {
            await using var services = BuildServices(settings, dataDirectory);
            return await MeasureAsync(settings, services, cancellationToken);
        }
        finally
        {
            if (ownsDataDirectory)
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>Registers the registry on the chosen backend, with a zero grace period for collection.</summary>
    internal static ServiceProvider BuildServices(GcBenchmarkSettings settings, string dataDirectory)
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddSimpleConsole(console => console.SingleLine = true).SetMinimumLevel(LogLevel.Warning));
        var registry = services.AddDockerRegistry(options => options.DataDirectory = dataDirectory);
        if (settings.Backend == PostgresS3)
        {
            registry.AddPostgreSqlMetadata(options => options.ConnectionString = settings.PostgresConnectionString);
            registry.AddS3Storage(options =>
            {
                options.ServiceUrl = settings.S3Url!.ToString();
                options.ForcePathStyle = true;
                options.Region = "us-east-1";
                options.Bucket = settings.S3Bucket;
                options.AccessKey = settings.S3AccessKey;
                options.SecretKey = settings.S3SecretKey;

                // s3rver stores the framing of chunk-signed uploads inside the object.
                options.UseChunkEncoding = false;
            });
        }

        if (!services.Any(service => service.ServiceType == typeof(IGarbageCollector)))
        {
            GarbageCollectionServices.Add(services);
        }

        // AddDockerRegistry gives the collector RegistryOptions.GarbageCollection as its options, so they are set there.
        services.Configure<RegistryOptions>(options =>
        {
            // Everything seeded before the run is garbage at once, so no clock has to move.
            var collection = options.GarbageCollection;
            collection.GracePeriod = TimeSpan.Zero;
            collection.BatchSize = settings.BatchSize ?? collection.BatchSize;
            collection.DeleteConcurrency = settings.DeleteConcurrency ?? collection.DeleteConcurrency;
        });
        return services.BuildServiceProvider();
    }

    private static async Task<int> MeasureAsync(GcBenchmarkSettings settings, ServiceProvider services, CancellationToken cancellationToken)
    {
        var collector = services.GetService<IGarbageCollector>();
        if (collector is null && settings.Phase != SeedPhase)
        {
            Console.Error.WriteLine("error: no IGarbageCollector is registered by AddDockerRegistry(), so there is no collector to measure. Run with --phase seed to seed only.");
            return 1;
        }

        var metadata = services.GetRequiredService<IMetadataStore>();
        var blobStore = services.GetRequiredService<IBlobStore>();
        await metadata.MigrateAsync(cancellationToken);

        TimeSpan? seeding = null;
        if (settings.Phase != RunPhase)
        {
            seeding = await SeedAsync(settings, services, cancellationToken);
            if (settings.Phase == SeedPhase)
            {
                return 0;
            }

            // The run keeps what was written at or after its start, and blob stores may round write times to the second.
            await Task.Delay(TimeSpan.FromSeconds(1.5), cancellationToken);
        }

        // Only the expected counts stay, so the plan's digests and manifest lists are not part of the memory baseline.
        var expected = new GcSeedPlan(settings.Shape).Expected;

        var sampler = MemorySampler.Start();
        var wallTime = Stopwatch.StartNew();
        var run = await collector!.RunAsync(new GarbageCollectionRequest { DeleteUntagged = true, Trigger = GarbageCollectionTrigger.Manual }, cancellationToken);
        wallTime.Stop();
        var memory = sampler.Stop();

        long blobsLeft = 0;
        await foreach (var _ in blobStore.ListAsync(cancellationToken))
        {
            blobsLeft++;
        }

        var matches = Report(settings, expected, seeding, run, wallTime.Elapsed, memory, blobsLeft);
        return run.Status == GarbageCollectionStatus.Completed && matches ? 0 : 2;
    }

    /// <summary>Seeds the plan of <paramref name="settings"/> and returns how long it took.</summary>
    private static async Task<TimeSpan> SeedAsync(GcBenchmarkSettings settings, ServiceProvider services, CancellationToken cancellationToken)
    {
        var shape = settings.Shape;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Seeding {shape.Repositories * shape.ManifestsPerRepository} manifests in {shape.Repositories} repositories over {shape.Blobs} blobs..."));
        var plan = new GcSeedPlan(shape);
        var stopwatch = Stopwatch.StartNew();
        using var s3Seeder = settings.Backend == PostgresS3 && !settings.S3SeedUploads
            ? new S3BlobSeeder(settings.S3Url!, settings.S3Bucket, settings.S3AccessKey, settings.S3SecretKey)
            : null;
        var seeder = new GcSeeder(
            services.GetRequiredService<IMetadataStore>(),
            services.GetRequiredService<IBlobStore>(),
            settings.SeedConcurrency,
            services.GetRequiredService<TimeProvider>(),
            Console.WriteLine,
            s3Seeder is null ? null : s3Seeder.WriteAsync);
        await seeder.SeedAsync(plan, cancellationToken);
        stopwatch.Stop();

        var expected = plan.Expected;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"Seeded in {stopwatch.Elapsed.TotalSeconds:F1} s. A run must remove {expected.Manifests} manifests, {expected.BlobLinks} blob links, {expected.Blobs} blobs ({expected.BytesFreed} bytes) and {expected.Uploads} uploads."));
        return stopwatch.Elapsed;
    }

    /// <summary>Prints the figures and returns whether every count matched the plan.</summary>
    private static bool Report(GcBenchmarkSettings settings, GcExpectation expected, TimeSpan? seeding, GarbageCollectionRun run, TimeSpan wallTime, MemoryFigures memory, long blobsLeft)
    {
        var shape = settings.Shape;
        var output = Console.Out;
        var invariant = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(invariant, $"Backend:               {settings.Backend}"));
        output.WriteLine(string.Create(invariant, $"Machine:               {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, {(GCSettings.IsServerGC ? "server" : "workstation")} GC"));
        var seedTime = seeding is { } elapsed ? string.Create(invariant, $"in {elapsed.TotalSeconds:F1} s") : "by an earlier --phase seed";
        output.WriteLine(string.Create(invariant, $"Seeded:                {shape.Repositories * shape.ManifestsPerRepository} manifests in {shape.Repositories} repositories, {shape.Blobs} blobs, {expected.Uploads} stale uploads, {seedTime}"));
        output.WriteLine(string.Create(invariant, $"Run:                   {run.Id}, status {run.Status}, {run.Errors.Count} errors"));
        foreach (var error in run.Errors)
        {
            output.WriteLine($"  error: {error}");
        }

        output.WriteLine(string.Create(invariant, $"Wall time:             {wallTime.TotalSeconds:F2} s"));
        output.WriteLine(string.Create(invariant, $"Peak working set:      {MiB(memory.PeakWorkingSet)} MiB ({MiB(memory.PeakWorkingSet - memory.BaselineWorkingSet)} MiB above {MiB(memory.BaselineWorkingSet)} MiB baseline before the run, {memory.PeakWorkingSetSource})"));
        output.WriteLine(string.Create(invariant, $"Peak GC heap:          {MiB(memory.PeakGcHeap)} MiB in use ({MiB(memory.PeakGcHeap - memory.BaselineGcHeap)} MiB above {MiB(memory.BaselineGcHeap)} MiB baseline before the run), {MiB(memory.PeakGcCommitted)} MiB committed, sampled every 10 ms"));
        output.WriteLine(string.Create(invariant, $"Allocated during run:  {MiB(memory.Allocated)} MiB; collections gen0 {memory.Collections.Gen0}, gen1 {memory.Collections.Gen1}, gen2 {memory.Collections.Gen2}"));

        var matches = true;
        output.WriteLine("Removed (expected):");
        matches &= ReportCount("manifests", run.ManifestsDeleted, expected.Manifests);
        matches &= ReportCount("blob links", run.BlobLinksDeleted, expected.BlobLinks);
        matches &= ReportCount("blobs", run.BlobsDeleted, expected.Blobs);
        matches &= ReportCount("bytes freed", run.BytesFreed, expected.BytesFreed);
        matches &= ReportCount("uploads", run.UploadsPurged, expected.Uploads);
        matches &= ReportCount("blobs left in store", blobsLeft, expected.BlobsLeft);
        output.WriteLine(matches ? "Every count matches the seed plan." : "MISMATCH: some counts differ from the seed plan (marked above).");
        return matches;
    }

    private static bool ReportCount(string name, long actual, long expected)
    {
        var matches = actual == expected;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {name,-20} {actual,12} ({expected}){(matches ? "" : "  <-- differs")}"));
        return matches;
    }

    private static string MiB(long bytes) => (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture);
}

/// <summary>The options of one <c>gc</c> command.</summary>
/// <param name="Backend"><c>sqlite</c> or <c>postgres-s3</c>.</param>
/// <param name="DataDirectory">The sqlite backend's folder, or null for a new temporary one.</param>
/// <param name="PostgresConnectionString">The PostgreSQL database of the postgres-s3 backend.</param>
/// <param name="S3Url">The S3 service of the postgres-s3 backend.</param>
/// <param name="S3Bucket">The S3 bucket.</param>
/// <param name="S3AccessKey">The S3 access key.</param>
/// <param name="S3SecretKey">The S3 secret key.</param>
/// <param name="Shape">The registry to seed.</param>
/// <param name="SeedConcurrency">Store calls in flight at once while seeding.</param>
/// <param name="BatchSize">The collector's batch size, or null for its default.</param>
/// <param name="DeleteConcurrency">The collector's parallel blob deletes, or null for its default.</param>
/// <param name="S3SeedUploads">Whether the postgres-s3 backend seeds blobs through uploads instead of single PutObject requests.</param>
/// <param name="Phase"><c>both</c>, <c>seed</c> or <c>run</c>.</param>
internal sealed record GcBenchmarkSettings(
    string Backend,
    string? DataDirectory,
    string? PostgresConnectionString,
    Uri? S3Url,
    string S3Bucket,
    string S3AccessKey,
    string S3SecretKey,
    GcSeedShape Shape,
    int SeedConcurrency,
    int? BatchSize,
    int? DeleteConcurrency,
    bool S3SeedUploads,
    string Phase)
{
    /// <summary>The sqlite backend with <paramref name="shape"/> and every other option at its default.</summary>
    public static GcBenchmarkSettings ForSqlite(string dataDirectory, GcSeedShape shape) =>
        new("sqlite", dataDirectory, null, null, "registry", "S3RVER", "S3RVER", shape, 16, null, null, S3SeedUploads: false, Phase: "both");
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Garbage collection on two sample hosts that share PostgreSQL: one run at a time across both, cancellation through
/// either host, and one list of runs.
/// </summary>
[Collection(ScaledOutRegistryCollection.Name)]
public sealed class ScaledOutGarbageCollectionTests(ScaledOutRegistryFixture fixture)
{
    /// <summary>The name of the lease that lets one run go on at a time across hosts.</summary>
    private const string CollectionLease = "garbage-collection";

    private ScaledOutHost HostA => fixture.OpenA;
    private ScaledOutHost HostB => fixture.OpenB;

    [Fact]
    public async Task RunOnOneHost_ConflictsOnBoth()
    {
        await using var third = ThirdHost.Connect(fixture.OpenConnectionString);
        var running = await third.BeginRunAsync();
        try
        {
            foreach (var host in new[] { HostA, HostB })
            {
                using var response = await host.Http.PostAsJsonAsync("/api/v0/gc/runs", new { dryRun = true });
                var problem = await ReadJsonAsync(response, HttpStatusCode.Conflict, host);
                Assert.Equal(running, problem["runningRunId"]?.GetValue<string>());
            }

            // Either host may cancel the run, and both then show the request.
            using var cancel = await HostA.Http.PostAsync($"/api/v0/gc/runs/{running}/cancel", null);
            var cancelled = await ReadJsonAsync(cancel, HttpStatusCode.Accepted, HostA);
            Assert.True(cancelled["cancelRequested"]!.GetValue<bool>());
            using var readOnB = await HostB.Http.GetAsync($"/api/v0/gc/runs/{running}");
            var runOnB = await ReadJsonAsync(readOnB, HttpStatusCode.OK, HostB);
            Assert.True(runOnB["cancelRequested"]!.GetValue<bool>());
            Assert.Equal("running", runOnB["status"]!.GetValue<string>());
        }
        finally
        {
            await third.EndRunAsync(running);
        }

        // With the lease free again, a host starts a run of its own.
        var id = await RunToEndAsync(HostB);
        using var read = await HostA.Http.GetAsync($"/api/v0/gc/runs/{id}");
        var run = await ReadJsonAsync(read, HttpStatusCode.OK, HostA);
        Assert.Equal("completed", run["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task ListRuns_SameOnBothHosts()
    {
        var onA = await RunToEndAsync(HostA);
        var onB = await RunToEndAsync(HostB);

        var listedByA = await ListRunIdsAsync(HostA);
        var listedByB = await ListRunIdsAsync(HostB);

        Assert.Equal(listedByA, listedByB);
        Assert.Contains(onA, listedByA);
        Assert.Contains(onB, listedByA);
        Assert.True(listedByA.IndexOf(onB) < listedByA.IndexOf(onA), $"The newer run {onB} is listed after {onA}: {string.Join(", ", listedByA)}.");
    }

    /// <summary>Starts a dry run on a host, waits for it to end, asserts that it completed and returns its id.</summary>
    private static async Task<string> RunToEndAsync(ScaledOutHost host)
    {
        using var start = await host.Http.PostAsJsonAsync("/api/v0/gc/runs", new { dryRun = true });
        var id = (await ReadJsonAsync(start, HttpStatusCode.Accepted, host))["id"]!.GetValue<string>();

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
        while (true)
        {
            using var response = await host.Http.GetAsync($"/api/v0/gc/runs/{id}");
            var run = await ReadJsonAsync(response, HttpStatusCode.OK, host);
            var status = run["status"]!.GetValue<string>();
            if (status != "running")
            {
                Assert.True(status == "completed", $"The run ended as {run}\n{host.Describe()}");
                return id;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The run {id} was still running after 2 minutes.\n{host.Describe()}");
            await Task.Delay(100);
        }
    }

    private static async Task<List<string>> ListRunIdsAsync(ScaledOutHost host)
    {
        using var response = await host.Http.GetAsync("/api/v0/gc/runs?n=100");
        var list = await ReadJsonAsync(response, HttpStatusCode.OK, host);
        return list["runs"]!.AsArray().Select(run => run!["id"]!.GetValue<string>()).ToList();
    }

    private static async Task<JsonNode> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode expected, ScaledOutHost host)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} on {host.Name} returned {(int)response.StatusCode} {body}\n{host.Describe()}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>
    /// The PostgreSQL store of a third host in the middle of a run: it holds the collection lease and has its run
    /// recorded as running, for as long as the test needs. A real run on these small registries ends too soon for
    /// a request to another host to meet it.
    /// </summary>
    private sealed class ThirdHost : IAsyncDisposable
    {
        private readonly ServiceProvider _services;

        private ThirdHost(ServiceProvider services) => _services = services;

        private IGarbageCollectionStore Runs => _services.GetRequiredService<IGarbageCollectionStore>();

        private ILeaseStore Leases => _services.GetRequiredService<ILeaseStore>();

        public static ThirdHost Connect(string connectionString)
        {
            var services = new ServiceCollection();
            services.AddLogging();
            services.AddDockerRegistry(options => options.DataDirectory = Path.GetTempPath())
                .AddPostgreSqlMetadata(options => options.ConnectionString = connectionString);
            return new ThirdHost(services.BuildServiceProvider());
        }

        /// <summary>Takes the collection lease, records a running run and returns its id.</summary>
        public async Task<string> BeginRunAsync()
        {
            var now = DateTimeOffset.UtcNow;
            var id = "third-host-" + Guid.NewGuid().ToString("N");
            Assert.True(await Leases.TryAcquireLeaseAsync(CollectionLease, id, now, now.AddMinutes(5)), "Another run holds the collection lease.");
            await Runs.CreateRunAsync(new GarbageCollectionRun
            {
                Id = id,
                Status = GarbageCollectionStatus.Running,
                StartedAt = now,
                HeartbeatAt = now,
                Host = "third-host",
            });
            return id;
        }

        /// <summary>Records the run as cancelled and releases the lease.</summary>
        public async Task EndRunAsync(string id)
        {
            var run = await Runs.GetRunAsync(id);
            Assert.NotNull(run);
            await Runs.UpdateRunAsync(run with { Status = GarbageCollectionStatus.Cancelled, EndedAt = DateTimeOffset.UtcNow });
            await Leases.ReleaseLeaseAsync(CollectionLease, id);
        }

        public ValueTask DisposeAsync() => _services.DisposeAsync();
    }
}

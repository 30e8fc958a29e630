using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Digests;
using Dtr.Metadata;
using Dtr.Storage;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.GarbageCollection;

public sealed class GcApiTests : IClassFixture<GcManagementFactory>, IDisposable
{
    /// <summary>The name of the lease that lets one run go on at a time across hosts.</summary>
    private const string CollectionLease = "garbage-collection";

    private readonly GcManagementFactory _factory;
    private readonly ManagementClient _admin;
    private readonly RegistryClient _registry;

    public GcApiTests(GcManagementFactory factory)
    {
        _factory = factory;
        _admin = factory.CreateAdminClient();
        _registry = factory.CreateAdminRegistryClient();
    }

    public void Dispose()
    {
        _admin.Dispose();
        _registry.Dispose();
    }

    public static TheoryData<string, string> Routes => new()
    {
        { "POST", "/gc/runs" },
        { "GET", "/gc/runs" },
        { "GET", "/gc/runs/some-run" },
        { "GET", "/gc/runs/some-run/items" },
        { "POST", "/gc/runs/some-run/cancel" },
        { "GET", "/gc/reclaimable" },
    };

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Anonymous_Is401(string method, string path)
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.SendAsync(new HttpMethod(method), path);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task NonAdministrator_Is403(string method, string path)
    {
        var name = "user" + Guid.NewGuid().ToString("N")[..8];
        await _admin.CreateUserAsync(name);
        using var user = _factory.CreateManagementClient(name, PasswordOf(name));

        using var response = await user.SendAsync(new HttpMethod(method), path);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Forbidden);
        Assert.Contains("system administrators", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartRun_Returns202WithRun()
    {
        using var response = await _admin.PostAsync("/gc/runs", new { dryRun = true, deleteUntagged = true, maxDurationMinutes = 5 });

        var started = await ReadJsonAsync(response, HttpStatusCode.Accepted);
        var id = started.GetProperty("id").GetString();
        Assert.False(string.IsNullOrEmpty(id));
        Assert.Equal($"{Prefix}/gc/runs/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal("running", started.GetProperty("status").GetString());
        Assert.Equal("manual", started.GetProperty("trigger").GetString());
        Assert.True(started.GetProperty("dryRun").GetBoolean());
        Assert.True(started.GetProperty("deleteUntagged").GetBoolean());
        Assert.Equal(5, started.GetProperty("maxDurationMinutes").GetDouble());
        Assert.Equal(ManagementFactory.AdminName, started.GetProperty("requestedBy").GetString());
        Assert.False(started.GetProperty("cancelRequested").GetBoolean());

        var run = await GcApi.WaitAsync(_admin, id!);
        Assert.Equal("completed", run.GetProperty("status").GetString());
        Assert.Equal(id, run.GetProperty("id").GetString());
        Assert.True(run.GetProperty("endedAt").GetDateTimeOffset() >= run.GetProperty("startedAt").GetDateTimeOffset());
        Assert.Equal(JsonValueKind.Array, run.GetProperty("errors").ValueKind);
        Assert.Equal(0, run.GetProperty("errors").GetArrayLength());
        foreach (var count in new[] { "manifestsDeleted", "blobLinksDeleted", "blobsDeleted", "bytesFreed", "uploadsPurged" })
        {
            Assert.True(run.GetProperty(count).GetInt64() >= 0, $"{count} is {run.GetProperty(count)}.");
        }
    }

    [Fact]
    public async Task StartRun_WithoutBodyTakesDefaults()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/gc/runs");
        request.Headers.Authorization = _admin.Authorization;

        using var response = await _admin.Http.SendAsync(request);

        var started = await ReadJsonAsync(response, HttpStatusCode.Accepted);
        Assert.False(started.GetProperty("dryRun").GetBoolean());
        Assert.False(started.GetProperty("deleteUntagged").GetBoolean());
        Assert.Equal(JsonValueKind.Null, started.GetProperty("maxDurationMinutes").ValueKind);
        await GcApi.WaitAsync(_admin, started.GetProperty("id").GetString()!);
    }

    [Theory]
    [InlineData("""{"dryRun":"yes"}""", "dryRun")]
    [InlineData("""{"deleteUntagged":1}""", "deleteUntagged")]
    [InlineData("""{"maxDurationMinutes":0}""", "maxDurationMinutes")]
    [InlineData("""{"maxDurationMinutes":-5}""", "maxDurationMinutes")]
    [InlineData("""{"maxDurationMinutes":43201}""", "maxDurationMinutes")]
    [InlineData("""{"maxDurationMinutes":2147483647}""", "maxDurationMinutes")]
    [InlineData("""{"maxDurationMinutes":1.5}""", "maxDurationMinutes")]
    [InlineData("""{"maxDurationMinutes":"10"}""", "maxDurationMinutes")]
    [InlineData("""{"deleteAll":true}""", "deleteAll")]
    [InlineData("""[true]""", "$")]
    [InlineData("""{"dryRun":""", "$")]
    public async Task StartRun_InvalidBodyIs400(string body, string field)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/gc/runs")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = _admin.Authorization;

        using var response = await _admin.Http.SendAsync(request);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var keys = problem.GetProperty("errors").EnumerateObject().Select(error => error.Name).ToList();
        Assert.Contains(keys, key => key.Contains(field, StringComparison.Ordinal));
    }

    [Fact]
    public async Task StartRun_NonJsonBodyIs415()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/gc/runs") { Content = new StringContent("dryRun=true") };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/x-www-form-urlencoded");
        request.Headers.Authorization = _admin.Authorization;

        using var response = await _admin.Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task StartRun_WhileAnotherRunsIs409()
    {
        var running = await CreateRunningRunAsync();
        try
        {
            using var response = await _admin.PostAsync("/gc/runs", new { dryRun = true });

            var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
            Assert.Equal(running, problem.GetProperty("runningRunId").GetString());
            Assert.Contains(running, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            await EndRunningRunAsync(running);
        }
    }

    [Fact]
    public async Task Cancel_RunningRunIs202()
    {
        var running = await CreateRunningRunAsync();
        try
        {
            using var response = await _admin.PostAsync($"/gc/runs/{running}/cancel", null);

            var run = await ReadJsonAsync(response, HttpStatusCode.Accepted);
            Assert.Equal(running, run.GetProperty("id").GetString());
            Assert.True(run.GetProperty("cancelRequested").GetBoolean());
            using var read = await _admin.GetAsync($"/gc/runs/{running}");
            Assert.True((await ReadJsonAsync(read)).GetProperty("cancelRequested").GetBoolean());
        }
        finally
        {
            await EndRunningRunAsync(running);
        }
    }

    [Fact]
    public async Task Cancel_EndedRunIs409()
    {
        var run = await GcApi.RunAsync(_admin, new { dryRun = true });
        var id = run.GetProperty("id").GetString();

        using var response = await _admin.PostAsync($"/gc/runs/{id}/cancel", null);

        var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.Contains("completed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_UnknownRunIs404()
    {
        using var response = await _admin.PostAsync("/gc/runs/no-such-run/cancel", null);

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task GetRun_UnknownIs404()
    {
        using var run = await _admin.GetAsync("/gc/runs/no-such-run");
        using var items = await _admin.GetAsync("/gc/runs/no-such-run/items");

        await AssertProblemAsync(run, HttpStatusCode.NotFound);
        await AssertProblemAsync(items, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ListRuns_PagesNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var run = await GcApi.RunAsync(_admin, new { dryRun = true });
            ids.Add(run.GetProperty("id").GetString()!);
        }

        using var first = await _admin.GetAsync("/gc/runs?n=2");
        var firstPage = ReadRunIds(await ReadJsonAsync(first));
        var next = GcApi.NextPath(first);
        Assert.NotNull(next);
        using var second = await _admin.GetAsync(next);
        var secondPage = ReadRunIds(await ReadJsonAsync(second));

        Assert.Equal(2, firstPage.Count);
        Assert.Equal([ids[2], ids[1]], firstPage);
        Assert.Equal(ids[0], secondPage[0]);
        Assert.DoesNotContain(secondPage, firstPage.Contains);
    }

    [Fact]
    public async Task ListRuns_InvalidPageSizeIs400()
    {
        using var response = await _admin.GetAsync("/gc/runs?n=zero");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("n", out _));
    }

    [Fact]
    public async Task Items_DryRunMatchesRealRun()
    {
        var repository = "admin/items-" + Guid.NewGuid().ToString("N")[..8];
        var kept = await _registry.PushImageAsync(repository, "kept", seed: 701);
        var deleted = await _registry.PushImageAsync(repository, "deleted", seed: 702);
        var deletedBlobs = BlobsOf(deleted);
        using (var delete = await _registry.DeleteAsync($"/v2/{repository}/manifests/{deleted.Digest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var dryRun = await GcApi.RunAsync(_admin, new { dryRun = true });
        var dryItems = await GcApi.ListItemsAsync(_admin, dryRun.GetProperty("id").GetString()!, pageSize: 1);
        foreach (var blob in deletedBlobs)
        {
            using var stillThere = await _registry.GetAsync($"/v2/{repository}/blobs/{blob}");
            Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        }

        var realRun = await GcApi.RunAsync(_admin, new { dryRun = false });
        var realItems = await GcApi.ListItemsAsync(_admin, realRun.GetProperty("id").GetString()!, pageSize: 1000);

        var ours = (List<JsonElement> items) => items
            .Where(item => item.GetProperty("repository").GetString() == repository || deletedBlobs.Contains(item.GetProperty("digest").GetString()!))
            .Select(GcApi.Describe)
            .Order(StringComparer.Ordinal)
            .ToList();
        var expected = deletedBlobs.Select(blob => $"blobLink {repository} {blob}")
            .Concat(deletedBlobs.Select(blob => $"blob  {blob}"))
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.Equal(expected, ours(dryItems));
        Assert.Equal(expected, ours(realItems));
        Assert.True(realRun.GetProperty("blobsDeleted").GetInt64() >= 2, $"The real run was {realRun}.");
        Assert.True(realRun.GetProperty("bytesFreed").GetInt64() >= 2, $"The real run was {realRun}.");
        Assert.True(dryRun.GetProperty("blobsDeleted").GetInt64() >= 2, $"The dry run was {dryRun}.");

        foreach (var blob in deletedBlobs)
        {
            using var gone = await _registry.GetAsync($"/v2/{repository}/blobs/{blob}");
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        foreach (var blob in BlobsOf(kept))
        {
            using var keptBlob = await _registry.GetAsync($"/v2/{repository}/blobs/{blob}");
            Assert.Equal(HttpStatusCode.OK, keptBlob.StatusCode);
        }
    }

    [Fact]
    public async Task Items_KindFilterAndPositions()
    {
        var repository = "admin/kinds-" + Guid.NewGuid().ToString("N")[..8];
        var deleted = await _registry.PushImageAsync(repository, "deleted", seed: 711);
        using (var delete = await _registry.DeleteAsync($"/v2/{repository}/manifests/{deleted.Digest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        var run = await GcApi.RunAsync(_admin, new { dryRun = true });
        var id = run.GetProperty("id").GetString()!;
        var all = await GcApi.ListItemsAsync(_admin, id, pageSize: 2);
        var blobs = await GcApi.ListItemsAsync(_admin, id, pageSize: 1, kind: "blob");

        var positions = all.Select(item => item.GetProperty("position").GetInt64()).ToList();
        Assert.Equal(positions.Order().ToList(), positions);
        Assert.Equal(positions.Count, positions.Distinct().Count());
        Assert.NotEmpty(blobs);
        Assert.All(blobs, item => Assert.Equal("blob", item.GetProperty("kind").GetString()));
        Assert.Equal(all.Count(item => item.GetProperty("kind").GetString() == "blob"), blobs.Count);
        Assert.All(all, item => Assert.Contains(item.GetProperty("kind").GetString(), new[] { "manifest", "blobLink", "blob", "upload" }));
    }

    [Theory]
    [InlineData("?kind=layer", "kind")]
    [InlineData("?kind=blob&kind=manifest", "kind")]
    [InlineData("?last=-1", "last")]
    [InlineData("?last=abc", "last")]
    [InlineData("?n=0", "n")]
    public async Task Items_InvalidQueryIs400(string query, string field)
    {
        var run = await GcApi.RunAsync(_admin, new { dryRun = true });

        using var response = await _admin.GetAsync($"/gc/runs/{run.GetProperty("id").GetString()}/items{query}");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem was {problem}.");
    }

    [Fact]
    public async Task Reclaimable_CountsDeletedImage()
    {
        var repository = "admin/reclaim-" + Guid.NewGuid().ToString("N")[..8];
        var image = await _registry.PushImageAsync(repository, "v1", seed: 721);
        using (var delete = await _registry.DeleteAsync($"/v2/{repository}/manifests/{image.Digest}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, delete.StatusCode);
        }

        using var response = await _admin.GetAsync("/gc/reclaimable?deleteUntagged=true");

        var estimate = await ReadJsonAsync(response);
        Assert.True(estimate.GetProperty("deleteUntagged").GetBoolean());
        Assert.True(estimate.GetProperty("blobs").GetInt64() >= 2, $"The estimate was {estimate}.");
        Assert.True(estimate.GetProperty("bytes").GetInt64() >= 64, $"The estimate was {estimate}.");
        Assert.True(estimate.GetProperty("manifests").GetInt64() >= 0, $"The estimate was {estimate}.");
        Assert.True(estimate.GetProperty("staleUploads").GetInt64() >= 0, $"The estimate was {estimate}.");
        Assert.NotEqual(default, estimate.GetProperty("computedAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("?deleteUntagged=maybe")]
    [InlineData("?deleteUntagged=true&deleteUntagged=false")]
    public async Task Reclaimable_InvalidQueryIs400(string query)
    {
        using var response = await _admin.GetAsync("/gc/reclaimable" + query);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("deleteUntagged", out _), $"The problem was {problem}.");
    }

    [Fact]
    public async Task RepositoryDelete_BlobsGoAtNextRun()
    {
        var repository = "admin/cascade-" + Guid.NewGuid().ToString("N")[..8];
        var image = await _registry.PushImageAsync(repository, "v1", seed: 731);
        var blobs = BlobsOf(image);

        using (var delete = await _admin.DeleteAsync($"/repositories/{repository}"))
        {
            await AssertStatusAsync(delete, HttpStatusCode.NoContent, "deleting the repository");
        }

        var store = _factory.Services.GetRequiredService<IBlobStore>();
        foreach (var blob in blobs)
        {
            Assert.NotNull(await store.StatAsync(Digest.Parse(blob)));
        }

        var run = await GcApi.RunAsync(_admin, new { dryRun = false });
        var items = await GcApi.ListItemsAsync(_admin, run.GetProperty("id").GetString()!, pageSize: 1000, kind: "blob");

        foreach (var blob in blobs)
        {
            Assert.Contains(items, item => item.GetProperty("digest").GetString() == blob);
            Assert.Null(await store.StatAsync(Digest.Parse(blob)));
        }
    }

    [Fact]
    public async Task OpenApi_ListsGcRoutes()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync("/openapi.json");

        var document = await ReadJsonAsync(response);
        var paths = document.GetProperty("paths");
        Assert.True(paths.GetProperty("/api/v0/gc/runs").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/api/v0/gc/runs").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/v0/gc/runs/{id}").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/v0/gc/runs/{id}/items").TryGetProperty("get", out _));
        Assert.True(paths.GetProperty("/api/v0/gc/runs/{id}/cancel").TryGetProperty("post", out _));
        Assert.True(paths.GetProperty("/api/v0/gc/reclaimable").TryGetProperty("get", out _));
    }

    /// <summary>
    /// Records a running run of another host and gives it the collection lease, as a host in the middle of a run
    /// would, and returns its id.
    /// </summary>
    private async Task<string> CreateRunningRunAsync()
    {
        var now = DateTimeOffset.UtcNow;
        var id = "other-host-" + Guid.NewGuid().ToString("N");
        var runs = _factory.Services.GetRequiredService<IGarbageCollectionStore>();
        var leases = _factory.Services.GetRequiredService<ILeaseStore>();
        await runs.CreateRunAsync(new GarbageCollectionRun
        {
            Id = id,
            Status = GarbageCollectionStatus.Running,
            StartedAt = now,
            HeartbeatAt = now,
            Host = "other-host",
        });
        Assert.True(await leases.TryAcquireLeaseAsync(CollectionLease, id, now, now.AddMinutes(5)), "Another run holds the collection lease.");
        return id;
    }

    private async Task EndRunningRunAsync(string id)
    {
        var runs = _factory.Services.GetRequiredService<IGarbageCollectionStore>();
        var leases = _factory.Services.GetRequiredService<ILeaseStore>();
        var run = await runs.GetRunAsync(id);
        Assert.NotNull(run);
        await runs.UpdateRunAsync(run with { Status = GarbageCollectionStatus.Cancelled, EndedAt = DateTimeOffset.UtcNow });
        await leases.ReleaseLeaseAsync(CollectionLease, id);
    }

    private static List<string> ReadRunIds(JsonElement list) =>
        list.GetProperty("runs").EnumerateArray().Select(run => run.GetProperty("id").GetString()!).ToList();

    /// <summary>Returns the digests of an image manifest's config and layers.</summary>
    private static List<string> BlobsOf(TestManifest manifest)
    {
        using var document = JsonDocument.Parse(manifest.Bytes);
        var root = document.RootElement;
        return [root.GetProperty("config").GetProperty("digest").GetString()!, .. root.GetProperty("layers").EnumerateArray().Select(layer => layer.GetProperty("digest").GetString()!)];
    }
}

using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.GarbageCollection;

/// <summary>
/// A host with authentication on, basic authentication allowed on /v2 so tests can push as the administrator, and a
/// zero grace period, so a run removes what a test deleted a moment before.
/// </summary>
public sealed class GcManagementFactory : ManagementFactory
{
    public GcManagementFactory()
        : base(new Dictionary<string, string?>
        {
            ["Registry:Admin:Password"] = AdminPassword,
            ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
            ["Registry:Auth:FailedLoginLimit"] = "100000",
            ["Registry:CreateRepositoryOnPush"] = "true",
            ["Registry:GarbageCollection:GracePeriod"] = "00:00:00",
        })
    {
    }

    /// <summary>Creates a /v2 client that signs in as the administrator with HTTP basic authentication.</summary>
    public RegistryClient CreateAdminRegistryClient()
    {
        var client = CreateRegistryClient();
        client.Http.DefaultRequestHeaders.Authorization = BasicHeader(AdminName, AdminPassword);
        return client;
    }
}

/// <summary>Steps of the garbage collection API that the tests share.</summary>
public static class GcApi
{
    /// <summary>Starts a run, asserting 202, and returns its JSON.</summary>
    public static async Task<JsonElement> StartAsync(ManagementClient client, object? body)
    {
        using var response = await client.PostAsync("/gc/runs", body);
        return await ReadJsonAsync(response, HttpStatusCode.Accepted);
    }

    /// <summary>Polls a run until it is no longer running and returns its final JSON.</summary>
    public static async Task<JsonElement> WaitAsync(ManagementClient client, string runId)
    {
        // Runs on these small registries end within moments; the limit only stops a hung run from hanging the suite.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            using var response = await client.GetAsync($"/gc/runs/{runId}");
            var run = await ReadJsonAsync(response);
            if (run.GetProperty("status").GetString() != "running")
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The run {runId} was still running after 60 s.");
            await Task.Delay(50);
        }
    }

    /// <summary>Starts a run, waits for its end, asserts that it completed and returns its final JSON.</summary>
    public static async Task<JsonElement> RunAsync(ManagementClient client, object? body)
    {
        var started = await StartAsync(client, body);
        var run = await WaitAsync(client, started.GetProperty("id").GetString()!);
        Assert.True(run.GetProperty("status").GetString() == "completed", $"The run ended as {run}.");
        return run;
    }

    /// <summary>Reads every item of a run, following the <c>Link</c> headers from pages of <paramref name="pageSize"/>.</summary>
    public static async Task<List<JsonElement>> ListItemsAsync(ManagementClient client, string runId, int pageSize, string? kind = null)
    {
        var items = new List<JsonElement>();
        var path = $"/gc/runs/{runId}/items?n={pageSize}" + (kind is null ? "" : "&kind=" + kind);
        while (path is not null)
        {
            using var response = await client.GetAsync(path);
            var page = await ReadJsonAsync(response);
            var pageItems = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(pageItems.Count <= pageSize, $"A page of n={pageSize} had {pageItems.Count} items.");
            items.AddRange(pageItems);
            path = NextPath(response);
        }

        return items;
    }

    /// <summary>Returns the path after the API prefix of a response's <c>rel="next"</c> link, or null when it has none.</summary>
    public static string? NextPath(HttpResponseMessage response)
    {
        var link = RegistryClient.Header(response, "Link");
        if (link is null)
        {
            return null;
        }

        var target = link[(link.IndexOf('<', StringComparison.Ordinal) + 1)..link.IndexOf('>', StringComparison.Ordinal)];
        Assert.StartsWith(Prefix, target, StringComparison.Ordinal);
        return target[Prefix.Length..];
    }

    /// <summary>Returns an item's kind, repository and digest as one comparable string.</summary>
    public static string Describe(JsonElement item) =>
        $"{item.GetProperty("kind").GetString()} {item.GetProperty("repository")} {item.GetProperty("digest")}";
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Walks through the access model with skopeo and then reads it back from <c>GET /api/v0/audit</c>: the
/// administrator's set-up, a team member's push, an outsider's rejected push and the administrator's tag deletion
/// must each appear with actor, client address, repository, action, result and time, newest first, and the
/// filters and paging must select from them.
/// </summary>
[Collection(SecuredRegistryCollection.Name)]
public sealed class AuditWalkthroughTests(SecuredRegistryFixture registry)
{
    private const string Organization = "auditing";
    private const string Team = "builders";
    private const string RepositoryName = "app";
    private const string Repository = $"{Organization}/{RepositoryName}";
    private const string Developer = "auditdev";
    private const string Outsider = "auditoutsider";

    private readonly string _developerPassword = NewPassword();
    private readonly string _outsiderPassword = NewPassword();

    [Fact]
    public async Task Walkthrough_IsInAuditLog()
    {
        using var work = new TemporaryDirectory();
        var layout = work.Combine("busybox-layout");
        TestImages.WriteBusyboxLayout(layout, "v1");
        var started = DateTimeOffset.UtcNow.AddSeconds(-1);

        // 1. The administrator sets up the organization, team, users and a private repository, and grants the team
        // read-write access.
        using (var admin = registry.AdminApi())
        {
            await admin.CreateOrganizationAsync(Organization);
            await admin.CreateTeamAsync(Organization, Team);
            await admin.CreateUserAsync(Developer, _developerPassword);
            await admin.AddTeamMemberAsync(Organization, Team, Developer);
            await admin.CreateUserAsync(Outsider, _outsiderPassword);
            await admin.CreateRepositoryAsync(Organization, RepositoryName, "private");
            await admin.SetTeamAccessAsync(Organization, RepositoryName, Team, "read-write");
        }

        // 2. The team member pushes two tags, and the outsider's push is rejected.
        await registry.Skopeo.CopyAsync($"oci:{layout}:v1", registry.Skopeo.Reference(Repository, "v1"), "--dest-creds", $"{Developer}:{_developerPassword}");
        await registry.Skopeo.CopyAsync($"oci:{layout}:v1", registry.Skopeo.Reference(Repository, "old"), "--dest-creds", $"{Developer}:{_developerPassword}");
        var outsiderPush = await registry.Skopeo.TryCopyAsync(
            $"oci:{layout}:v1", registry.Skopeo.Reference(Repository, "outsider"), "--dest-creds", $"{Outsider}:{_outsiderPassword}");
        Assert.False(outsiderPush.Succeeded, $"skopeo pushed {Repository}:outsider as {Outsider}, who has no access.\n{outsiderPush.Describe()}");

        // 3. The administrator deletes a tag.
        using (var admin = registry.AdminApi())
        {
            await admin.SendAsync(HttpMethod.Delete, $"repositories/{Repository}/tags/old", null);
        }

        // The writer stores entries in batches in the background, so wait for the last action to appear.
        var tagDeletion = await WaitForEntryAsync("action=DELETE%20/api/v0/repositories/{namespace}/{repo}/tags/{tag}");
        var entries = await ListAsync($"since={Uri.EscapeDataString(started.ToString("O", CultureInfo.InvariantCulture))}");

        AssertNewestFirst(entries);
        var adminActions = new[]
        {
            ("POST /api/v0/organizations", "/api/v0/organizations", (string?)null, 201),
            ("POST /api/v0/organizations/{org}/teams", $"/api/v0/organizations/{Organization}/teams", null, 201),
            ("PUT /api/v0/organizations/{org}/teams/{team}/members/{user}", $"/api/v0/organizations/{Organization}/teams/{Team}/members/{Developer}", null, 204),
            ("POST /api/v0/repositories/{namespace}", $"/api/v0/repositories/{Organization}", Repository, 201),
            ("PUT /api/v0/repositories/{namespace}/{repo}/teamAccess/{team}", $"/api/v0/repositories/{Repository}/teamAccess/{Team}", Repository, 200),
            ("DELETE /api/v0/repositories/{namespace}/{repo}/tags/{tag}", $"/api/v0/repositories/{Repository}/tags/old", Repository, 204),
        };
        foreach (var (action, path, repository, status) in adminActions)
        {
            var entry = FindSingle(entries, e => Text(e, "action") == action && Text(e, "detail") == path, action);
            AssertEntry(entry, registry.AdminUserName, repository, action, "succeeded", started);
            Assert.True(entry["status"]!.GetValue<int>() == status, $"The entry for {action} has status {entry["status"]}; expected {status}.");
        }

        // The path of a user's creation does not name the user, so the two creations differ only in time.
        var userCreations = entries.Where(e => Text(e, "action") == "POST /api/v0/users").ToList();
        Assert.True(userCreations.Count == 2, $"The audit log has {userCreations.Count} user creations; expected {Developer} and {Outsider}.\n{Describe(entries)}");
        Assert.All(userCreations, entry => AssertEntry(entry, registry.AdminUserName, null, "POST /api/v0/users", "succeeded", started));

        var pushes = entries.Where(e => Text(e, "action") == "manifest.push" && Text(e, "actor") == Developer).ToList();
        Assert.True(pushes.Count == 2, $"The audit log has {pushes.Count} manifest pushes by {Developer}; expected v1 and old.\n{Describe(entries)}");
        Assert.Equal(["old", "v1"], pushes.Select(e => Text(e, "detail")));
        Assert.All(pushes, push => AssertEntry(push, Developer, Repository, "manifest.push", "succeeded", started));

        // skopeo remembers where it saw each blob (its blob-info cache), so after other tests pushed the same busybox
        // layer it may also try to read or mount it from their repositories, which is denied and recorded there.
        var outsiderEntries = entries.Where(e => Text(e, "actor") == Outsider).ToList();
        Assert.All(outsiderEntries, entry => Assert.Equal("denied", Text(entry, "result")));
        var denials = outsiderEntries.Where(e => Text(e, "repository") == Repository).ToList();
        Assert.True(denials.Count > 0, $"The audit log has no denial of {Outsider} on {Repository}, whose push was rejected.\n{Describe(entries)}");
        Assert.All(denials, denial => AssertEntry(denial, Outsider, Repository, Text(denial, "action")!, "denied", started));
        Assert.All(denials, denial => Assert.Contains(denial["status"]!.GetValue<int>(), new[] { 401, 403 }));
        Assert.True(denials.Count <= 3, $"The audit log has {denials.Count} denials for one rejected push; expected at most one for each of the two blobs and the manifest.\n{Describe(denials)}");

        // 4. Each filter selects from the walkthrough's entries only what it names.
        var byActor = await ListAsync("actor=" + Developer);
        Assert.True(byActor.All(e => Text(e, "actor") == Developer), $"actor={Developer} returned:\n{Describe(byActor)}");
        Assert.Equal(entries.Where(e => Text(e, "actor") == Developer).Select(Sequence), byActor.Select(Sequence));
        var byRepository = await ListAsync("repository=" + Repository);
        Assert.True(byRepository.All(e => Text(e, "repository") == Repository), $"repository={Repository} returned:\n{Describe(byRepository)}");
        Assert.Equal(entries.Count(e => Text(e, "repository") == Repository), byRepository.Count);
        var byAction = await ListAsync("action=manifest.push&repository=" + Repository);
        Assert.Equal(pushes.Select(e => Text(e, "detail")), byAction.Select(e => Text(e, "detail")));
        var byResult = await ListAsync("result=denied&repository=" + Repository);
        Assert.Equal(denials.Select(Sequence), byResult.Select(Sequence));
        var lastSequence = Sequence(tagDeletion);
        var untilStart = await ListAsync($"until={Uri.EscapeDataString(started.ToString("O", CultureInfo.InvariantCulture))}&repository={Repository}");
        Assert.Empty(untilStart);
        var sincePush = await ListAsync($"since={Uri.EscapeDataString(Time(pushes[^1]).ToString("O", CultureInfo.InvariantCulture))}&repository={Repository}");
        Assert.DoesNotContain(sincePush, e => Text(e, "action") == "POST /api/v0/repositories/{namespace}");
        Assert.Contains(sincePush, e => Sequence(e) == lastSequence);

        // 5. Pages of two, followed through the Link header, return the same entries as one page.
        var paged = await ListAllPagesAsync($"repository={Repository}&n=2");
        Assert.Equal(byRepository.Select(Sequence), paged.Select(Sequence));
    }

    private static void AssertEntry(JsonNode entry, string actor, string? repository, string action, string result, DateTimeOffset started)
    {
        var description = entry.ToJsonString();
        Assert.True(Text(entry, "actor") == actor, $"Expected actor {actor}: {description}");
        Assert.True(Text(entry, "repository") == repository, $"Expected repository {repository ?? "null"}: {description}");
        Assert.True(Text(entry, "action") == action, $"Expected action {action}: {description}");
        Assert.True(Text(entry, "result") == result, $"Expected result {result}: {description}");
        Assert.True(Text(entry, "clientAddress") == "127.0.0.1", $"Expected client address 127.0.0.1: {description}");
        var time = Time(entry);
        Assert.True(time >= started, $"Expected a time after the walkthrough started at {started:O}: {description}");
        Assert.True(time <= DateTimeOffset.UtcNow.AddSeconds(1), $"Expected a time before now: {description}");
    }

    private static void AssertNewestFirst(List<JsonNode> entries)
    {
        var sequences = entries.Select(Sequence).ToList();
        Assert.True(sequences.SequenceEqual(sequences.OrderDescending()), $"The entries are not newest first:\n{Describe(entries)}");
        var times = entries.Select(Time).ToList();
        Assert.True(times.SequenceEqual(times.OrderDescending()), $"The entry times do not fall from first to last:\n{Describe(entries)}");
    }

    private static JsonNode FindSingle(List<JsonNode> entries, Func<JsonNode, bool> match, string what)
    {
        var found = entries.Where(match).ToList();
        Assert.True(found.Count == 1, $"The audit log has {found.Count} entries for {what}; expected exactly one.\n{Describe(entries)}");
        return found[0];
    }

    private HttpClient AdminHttp()
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://{registry.Address}"), Timeout = TimeSpan.FromMinutes(1) };
        http.DefaultRequestHeaders.Authorization = ManagementApiClient.BasicAuthorization(registry.AdminUserName, registry.AdminPassword);
        return http;
    }

    private async Task<List<JsonNode>> ListAsync(string query)
    {
        using var http = AdminHttp();
        var (entries, _) = await GetPageAsync(http, "/api/v0/audit?" + query);
        return entries;
    }

    /// <summary>Follows the <c>Link: rel="next"</c> header from the first page to the last and returns all entries.</summary>
    private async Task<List<JsonNode>> ListAllPagesAsync(string query)
    {
        using var http = AdminHttp();
        var all = new List<JsonNode>();
        string? next = "/api/v0/audit?" + query;
        for (var page = 0; next is not null; page++)
        {
            Assert.True(page < 100, $"The audit log for {query} did not end after 100 pages.");
            var (entries, link) = await GetPageAsync(http, next);
            Assert.True(entries.Count <= 2, $"A page of n=2 has {entries.Count} entries.");
            all.AddRange(entries);
            next = link;
        }

        return all;
    }

    /// <summary>Returns one page of entries and the path of the next page, or null on the last page.</summary>
    private async Task<(List<JsonNode> Entries, string? Next)> GetPageAsync(HttpClient http, string pathAndQuery)
    {
        using var response = await http.GetAsync(pathAndQuery);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET {pathAndQuery} returned {(int)response.StatusCode}; expected 200.\n{body}\n{registry.DescribeRegistry()}");
        var entries = JsonNode.Parse(body)!["entries"]!.AsArray().Select(e => e!).ToList();
        if (!response.Headers.TryGetValues("Link", out var links))
        {
            return (entries, null);
        }

        var link = links.Single();
        var start = link.IndexOf('<', StringComparison.Ordinal) + 1;
        var target = new Uri(new Uri($"http://{registry.Address}"), link[start..link.IndexOf('>', StringComparison.Ordinal)]);
        return (entries, target.PathAndQuery);
    }

    private async Task<JsonNode> WaitForEntryAsync(string query)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var entries = await ListAsync(query);
            if (entries.Count > 0)
            {
                return entries[0];
            }

            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"No audit entry matches '{query}' after 20 seconds.\n{registry.DescribeRegistry()}");
            await Task.Delay(100);
        }
    }

    private static string? Text(JsonNode entry, string field) => entry[field]?.GetValue<string>();

    private static long Sequence(JsonNode entry) => entry["sequence"]!.GetValue<long>();

    private static DateTimeOffset Time(JsonNode entry) => entry["time"]!.GetValue<DateTimeOffset>();

    private static string Describe(IEnumerable<JsonNode> entries) => string.Join('\n', entries.Select(e => e.ToJsonString()));

    private static string NewPassword() => "Pw-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(12)).ToLowerInvariant();
}

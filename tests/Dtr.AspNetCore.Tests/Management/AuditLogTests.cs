using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class AuditLogTests : IClassFixture<AuditLogTests.AuditFactory>
{
    private readonly AuditFactory _factory;

    public AuditLogTests(AuditFactory factory) => _factory = factory;

    [Fact]
    public async Task ManagementChange_IsRecorded()
    {
        using var admin = _factory.CreateAdminClient();

        await admin.CreateUserAsync("audit-created");

        var entry = await WaitForEntryAsync(admin, "actor=admin&action=POST%20/api/v0/users", entry => Field(entry, "detail") == "/api/v0/users");
        Assert.Equal("admin", Field(entry, "actor"));
        Assert.Equal("succeeded", Field(entry, "result"));
        Assert.Equal(201, entry.GetProperty("status").GetInt32());
        Assert.Null(Field(entry, "repository"));
        Assert.True(entry.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
        Assert.DoesNotContain(PasswordOf("audit-created"), entry.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeniedChange_IsRecorded()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-plain");
        using var plain = _factory.CreateManagementClient("audit-plain", PasswordOf("audit-plain"));
        using var wrongPassword = _factory.CreateManagementClient("audit-plain", "wrong-password");

        using var forbidden = await plain.PostAsync("/users", new { name = "audit-never", password = "never-password-1" });
        using var unauthorized = await wrongPassword.DeleteAsync("/users/audit-plain");

        await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden);
        await AssertProblemAsync(unauthorized, HttpStatusCode.Unauthorized);
        var denied = await WaitForEntryAsync(admin, "actor=audit-plain&result=denied", _ => true);
        Assert.Equal("POST /api/v0/users", Field(denied, "action"));
        Assert.Equal(403, denied.GetProperty("status").GetInt32());
        var anonymous = await WaitForEntryAsync(admin, "result=denied", entry => Field(entry, "detail") == "/api/v0/users/audit-plain");
        Assert.Null(Field(anonymous, "actor"));
        Assert.Equal(401, anonymous.GetProperty("status").GetInt32());
        Assert.DoesNotContain("wrong-password", anonymous.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PushAndDeniedPull_AreRecorded()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-pusher");
        await admin.CreateUserAsync("audit-reader");
        await admin.CreateRepositoryAsync("audit-pusher", "app");
        using var pusher = _factory.CreateRegistryClient("audit-pusher", PasswordOf("audit-pusher"));
        using var reader = _factory.CreateRegistryClient("audit-reader", PasswordOf("audit-reader"));

        await pusher.PushImageAsync("audit-pusher/app", "v1");
        using var pull = await reader.GetAsync("/v2/audit-pusher/app/manifests/v1");

        await RegistryClient.AssertErrorAsync(pull, HttpStatusCode.Forbidden, "DENIED");
        var push = await WaitForEntryAsync(admin, "repository=audit-pusher/app&action=manifest.push", _ => true);
        Assert.Equal("audit-pusher", Field(push, "actor"));
        Assert.Equal("succeeded", Field(push, "result"));
        Assert.Equal(201, push.GetProperty("status").GetInt32());
        Assert.Equal("v1", Field(push, "detail"));
        Assert.Equal("127.0.0.1", Field(push, "clientAddress"));
        var denial = await WaitForEntryAsync(admin, "repository=audit-pusher/app&result=denied", _ => true);
        Assert.Equal("audit-reader", Field(denial, "actor"));
        Assert.Equal("access.denied", Field(denial, "action"));
        Assert.Equal(403, denial.GetProperty("status").GetInt32());
        Assert.Contains("pull", Field(denial, "detail"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScopeAndCsrfDenials_NameActor()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-browser");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("audit-browser", PasswordOf("audit-browser"));
        var pullToken = await RequestBearerAsync(admin, "audit-browser", "repository:audit-browser/app:pull");

        using var withoutCsrf = await browser.SendAsync(HttpMethod.Post, "/organizations", new { name = "audit-nocsrf" });
        using var crossSite = await SendCrossSiteAsync(browser, "/organizations/audit-crosssite");
        using var scoped = await SendBearerAsync(admin, HttpMethod.Delete, "/organizations/audit-scoped", pullToken);

        await AssertProblemAsync(withoutCsrf, HttpStatusCode.Forbidden);
        await AssertProblemAsync(crossSite, HttpStatusCode.Forbidden);
        await AssertProblemAsync(scoped, HttpStatusCode.Forbidden);
        foreach (var path in new[] { "/api/v0/organizations", "/api/v0/organizations/audit-crosssite", "/api/v0/organizations/audit-scoped" })
        {
            var entry = await WaitForEntryAsync(admin, "actor=audit-browser&result=denied", entry => Field(entry, "detail") == path);
            Assert.Equal(403, entry.GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task RepositoryCreation_NamesRepository()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-owner");

        await admin.CreateRepositoryAsync("audit-owner", "created");

        var entry = await WaitForEntryAsync(admin, "action=POST%20/api/v0/repositories/{namespace}", entry => Field(entry, "detail") == "/api/v0/repositories/audit-owner");
        Assert.Equal("audit-owner/created", Field(entry, "repository"));
        Assert.Equal("succeeded", Field(entry, "result"));
    }

    [Fact]
    public async Task EachChangeAndDenial_RecordedOnce()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-once-owner");
        await admin.CreateUserAsync("audit-once-reader");
        await admin.CreateRepositoryAsync("audit-once-owner", "app", visibility: "public");
        using var owner = _factory.CreateRegistryClient("audit-once-owner", PasswordOf("audit-once-owner"));
        using var reader = _factory.CreateRegistryClient("audit-once-reader", PasswordOf("audit-once-reader"));
        var manifest = await owner.PushImageAsync("audit-once-owner/app", "v1");
        await admin.CreateOrganizationAsync("audit-once");

        using var deleted = await admin.DeleteAsync("/organizations/audit-once");
        using var deniedPush = await reader.PutManifestAsync("audit-once-owner/app", "v2", manifest.Bytes, manifest.MediaType);
        using var deniedDelete = await reader.SendAsync(HttpMethod.Delete, $"/v2/audit-once-owner/app/manifests/{manifest.Digest}");
        // The writer stores entries in the order they were recorded, so once this later entry is stored, so are the
        // ones above, and any duplicate of them would be too.
        await admin.CreateUserAsync("audit-once-marker");
        await WaitForEntryAsync(admin, "action=POST%20/api/v0/users", entry => Field(entry, "detail") == "/api/v0/users" && Field(entry, "actor") == "admin");

        await AssertStatusAsync(deleted, HttpStatusCode.NoContent, "DELETE /organizations/audit-once");
        await RegistryClient.AssertErrorAsync(deniedPush, HttpStatusCode.Forbidden, "DENIED");
        await RegistryClient.AssertErrorAsync(deniedDelete, HttpStatusCode.Forbidden, "DENIED");
        var deletions = (await ListAsync(admin, "action=DELETE%20/api/v0/organizations/{org}"))
            .Where(entry => Field(entry, "detail") == "/api/v0/organizations/audit-once")
            .ToList();
        Assert.Single(deletions);
        var denials = await ListAsync(admin, "actor=audit-once-reader&repository=audit-once-owner/app&result=denied");
        Assert.Equal(["manifest.delete", "manifest.push"], denials.Select(entry => Field(entry, "action")));
    }

    [Fact]
    public async Task List_FiltersAndPages()
    {
        using var admin = _factory.CreateAdminClient();
        for (var i = 0; i < 3; i++)
        {
            await admin.CreateOrganizationAsync($"audit-org-{i}");
        }

        await WaitForEntryAsync(admin, "action=POST%20/api/v0/organizations", entry => Field(entry, "detail") == "/api/v0/organizations" && entry.GetProperty("sequence").GetInt64() > 0);
        var query = "action=POST%20/api/v0/organizations&result=succeeded&since=2000-01-01T00:00:00Z";
        var all = await ListAsync(admin, query);
        using var firstPage = await admin.GetAsync($"/audit?{query}&n=2");
        var first = (await ReadJsonAsync(firstPage)).GetProperty("entries").EnumerateArray().ToList();
        var link = RegistryClient.Header(firstPage, "Link");
        Assert.NotNull(link);
        var next = link[(link.IndexOf("/audit", StringComparison.Ordinal) + "/audit".Length)..link.IndexOf('>', StringComparison.Ordinal)];
        using var secondPage = await admin.GetAsync("/audit" + next);
        var second = (await ReadJsonAsync(secondPage)).GetProperty("entries").EnumerateArray().ToList();

        Assert.True(all.Count >= 3, $"Expected at least 3 entries, got {all.Count}.");
        var sequences = all.Select(entry => entry.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
        Assert.Equal(2, first.Count);
        Assert.Contains("action=POST", link, StringComparison.Ordinal);
        Assert.Equal(
            sequences.Skip(2).Take(2),
            second.Select(entry => entry.GetProperty("sequence").GetInt64()));
        Assert.Empty(await ListAsync(admin, "action=POST%20/api/v0/organizations&until=2000-01-01T00:00:00Z"));
    }

    [Theory]
    [InlineData("result=maybe", "result")]
    [InlineData("since=yesterday", "since")]
    [InlineData("last=abc", "last")]
    [InlineData("n=0", "n")]
    public async Task List_InvalidQueryIs400(string query, string field)
    {
        using var admin = _factory.CreateAdminClient();

        using var response = await admin.GetAsync("/audit?" + query);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names no error for {field}: {problem}");
    }

    [Fact]
    public async Task List_NonAdminIs403()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("audit-curious");
        using var curious = _factory.CreateManagementClient("audit-curious", PasswordOf("audit-curious"));

        using var response = await curious.GetAsync("/audit");

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Retention_DeletesOldEntriesHourly()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero));
        await using var factory = new AuditFactory(clock);
        using var admin = factory.CreateAdminClient();
        var store = factory.Services.GetRequiredService<IAuditStore>();
        await store.AppendAuditEntriesAsync(
        [
            new AuditEntry(clock.GetUtcNow().AddDays(-91), "old-actor", null, null, "retention.old", AuditResult.Succeeded, 200, null),
            new AuditEntry(clock.GetUtcNow().AddDays(-89), "new-actor", null, null, "retention.new", AuditResult.Succeeded, 200, null),
            new AuditEntry(clock.GetUtcNow().AddDays(-90).AddMinutes(30), "edge-actor", null, null, "retention.edge", AuditResult.Succeeded, 200, null),
        ]);

        clock.Advance(TimeSpan.FromHours(1));
        var stopwatch = Stopwatch.StartNew();
        while ((await store.ListAuditEntriesAsync(new AuditFilter(Actor: "edge-actor"), null, 1)).Count > 0 && stopwatch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50);
        }

        Assert.Empty(await store.ListAuditEntriesAsync(new AuditFilter(Actor: "old-actor"), null, 10));
        Assert.Empty(await store.ListAuditEntriesAsync(new AuditFilter(Actor: "edge-actor"), null, 10));
        Assert.Single(await store.ListAuditEntriesAsync(new AuditFilter(Actor: "new-actor"), null, 10));
    }

    /// <summary>Requests a bearer token for the scope from the token endpoint, signed in with the user's password.</summary>
    private static async Task<string> RequestBearerAsync(ManagementClient client, string userName, string scope)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/auth/token?service=dtr-registry&scope=" + Uri.EscapeDataString(scope));
        request.Headers.Authorization = BasicHeader(userName, PasswordOf(userName));
        using var response = await client.Http.SendAsync(request);
        return (await ReadJsonAsync(response)).GetProperty("token").GetString()!;
    }

    private static async Task<HttpResponseMessage> SendBearerAsync(ManagementClient client, HttpMethod method, string path, string token)
    {
        using var request = new HttpRequestMessage(method, Prefix + path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.Http.SendAsync(request);
    }

    /// <summary>Sends a DELETE with the browser's session cookie and antiforgery token, marked as sent from another site.</summary>
    private static async Task<HttpResponseMessage> SendCrossSiteAsync(SessionBrowser browser, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, Prefix + path);
        request.Headers.Add("Cookie", $"{SessionBrowser.CookieName}={browser.Cookie}");
        request.Headers.Add("X-CSRF-Token", browser.CsrfToken);
        request.Headers.Add("Sec-Fetch-Site", "cross-site");
        return await browser.Http.SendAsync(request);
    }

    private static string? Field(JsonElement entry, string name) =>
        entry.GetProperty(name).ValueKind == JsonValueKind.Null ? null : entry.GetProperty(name).GetString();

    private static async Task<List<JsonElement>> ListAsync(ManagementClient admin, string query)
    {
        using var response = await admin.GetAsync("/audit?" + query);
        return (await ReadJsonAsync(response)).GetProperty("entries").EnumerateArray().ToList();
    }

    /// <summary>
    /// Returns the newest entry that matches the query and <paramref name="match"/>, polling because entries reach
    /// the store through a background writer.
    /// </summary>
    private static async Task<JsonElement> WaitForEntryAsync(ManagementClient admin, string query, Func<JsonElement, bool> match)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            var found = (await ListAsync(admin, query)).Where(match).ToList();
            if (found.Count > 0)
            {
                return found[0];
            }

            Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), $"No audit entry matches '{query}' after 10 seconds.");
            await Task.Delay(50);
        }
    }

    /// <summary>Sets the client address of every request to 127.0.0.1, as Kestrel would for a local client.</summary>
    private sealed class LoopbackClientAddress : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = IPAddress.Loopback;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    /// <summary>A management host that also accepts basic authentication on <c>/v2</c>, optionally with a fake clock.</summary>
    public sealed class AuditFactory : ManagementFactory
    {
        private readonly TimeProvider? _clock;

        public AuditFactory()
            : this(null)
        {
        }

        internal AuditFactory(TimeProvider? clock)
            : base(new Dictionary<string, string?>
            {
                ["Registry:Admin:Password"] = AdminPassword,
                ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
            })
        {
            _clock = clock;
        }

        public RegistryClient CreateRegistryClient(string userName, string password)
        {
            var client = new RegistryClient(CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
            client.Http.DefaultRequestHeaders.Authorization = AuthTestSupport.Basic(userName, password);
            return client;
        }

        protected override void ConfigureTestServices(IServiceCollection services)
        {
            // The test server leaves the client address empty, so give every request one.
            services.AddSingleton<IStartupFilter, LoopbackClientAddress>();
            if (_clock is not null)
            {
                services.Replace(ServiceDescriptor.Singleton(_clock));
            }
        }
    }
}

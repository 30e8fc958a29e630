using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.AspNetCore.Tests.Security;
using Dtr.Metadata;
using Dtr.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Webhooks;

/// <summary>
/// Webhooks through the management API and a real receiver on a loopback port: validation, permissions, signing,
/// filtering, retries, giving up and the delivery log. Each test uses its own user namespace, so the subscriptions
/// of one test do not receive the events of another.
/// </summary>
public sealed class WebhookTests : IClassFixture<WebhookTests.WebhookFactory>
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(20);

    private readonly WebhookFactory _factory;

    public WebhookTests(WebhookFactory factory) => _factory = factory;

    [Fact]
    public async Task Create_ShowsSecretOnce()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-secret");

        var created = await CreateWebhookAsync(admin, "http://127.0.0.1:9/hook", "namespace", "wh-secret", ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();
        using var get = await admin.GetAsync($"/webhooks/{id}");
        var fetched = await ReadJsonAsync(get);
        using var list = await admin.GetAsync("/webhooks?namespace=wh-secret");
        var listed = await ReadJsonAsync(list);
        using var rotate = await admin.PostAsync($"/webhooks/{id}/secret", null);
        var rotated = await ReadJsonAsync(rotate);

        var secret = created.GetProperty("secret").GetString();
        Assert.StartsWith("whsec_", secret, StringComparison.Ordinal);
        Assert.Equal("namespace", created.GetProperty("scope").GetString());
        Assert.Equal("high", created.GetProperty("minSeverity").GetString());
        Assert.True(created.GetProperty("enabled").GetBoolean());
        Assert.False(fetched.TryGetProperty("secret", out _));
        Assert.DoesNotContain(secret!, listed.GetRawText(), StringComparison.Ordinal);
        Assert.Single(listed.GetProperty("webhooks").EnumerateArray());
        Assert.NotEqual(secret, rotated.GetProperty("secret").GetString());
    }

    [Theory]
    [InlineData("""{"url":"ftp://example.com/hook","scope":"registry","events":["image.pushed"]}""", "url")]
    [InlineData("""{"url":"/relative","scope":"registry","events":["image.pushed"]}""", "url")]
    [InlineData("""{"scope":"registry","events":["image.pushed"]}""", "url")]
    [InlineData("""{"url":"http://user:pw@example.com/","scope":"registry","events":["image.pushed"]}""", "url")]
    [InlineData("""{"url":"http://example.com/","scope":"world","events":["image.pushed"]}""", "scope")]
    [InlineData("""{"url":"http://example.com/","scope":"registry","target":"acme","events":["image.pushed"]}""", "target")]
    [InlineData("""{"url":"http://example.com/","scope":"repository","target":"noslash","events":["image.pushed"]}""", "target")]
    [InlineData("""{"url":"http://example.com/","scope":"registry","events":["image.exploded"]}""", "events")]
    [InlineData("""{"url":"http://example.com/","scope":"registry","events":[]}""", "events")]
    [InlineData("""{"url":"http://example.com/","scope":"registry"}""", "events")]
    [InlineData("""{"url":"http://example.com/","scope":"registry","events":["image.pushed"],"minSeverity":"dire"}""", "minSeverity")]
    public async Task Create_InvalidInputIs400(string body, string field)
    {
        using var admin = _factory.CreateAdminClient();

        using var response = await admin.PostAsync("/webhooks", JsonDocument.Parse(body).RootElement);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names no error for {field}: {problem}");
    }

    [Fact]
    public async Task Permissions_FollowNamespaceAndRepository()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-owner");
        await admin.CreateUserAsync("wh-other");
        await admin.CreateRepositoryAsync("wh-owner", "app");
        using var owner = _factory.CreateManagementClient("wh-owner", PasswordOf("wh-owner"));
        using var other = _factory.CreateManagementClient("wh-other", PasswordOf("wh-other"));

        using var registryScope = await owner.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "registry", events = new[] { "image.pushed" } });
        using var ownNamespace = await owner.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "namespace", target = "wh-owner", events = new[] { "image.pushed" } });
        using var ownRepository = await owner.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "repository", target = "wh-owner/app", events = new[] { "image.pulled" } });
        using var foreignNamespace = await other.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "namespace", target = "wh-owner", events = new[] { "image.pushed" } });
        using var foreignRepository = await other.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "repository", target = "wh-owner/app", events = new[] { "image.pushed" } });
        var id = (await ReadJsonAsync(ownNamespace, HttpStatusCode.Created)).GetProperty("id").GetInt64();
        using var foreignGet = await other.GetAsync($"/webhooks/{id}");
        using var foreignDelete = await other.DeleteAsync($"/webhooks/{id}");
        using var foreignList = await other.GetAsync("/webhooks?namespace=wh-owner");
        using var unfilteredList = await other.GetAsync("/webhooks");
        using var ownList = await owner.GetAsync("/webhooks?namespace=wh-owner");

        await AssertProblemAsync(registryScope, HttpStatusCode.Forbidden);
        await AssertStatusAsync(ownRepository, HttpStatusCode.Created, "creating a repository webhook");
        await AssertProblemAsync(foreignNamespace, HttpStatusCode.Forbidden);
        await AssertProblemAsync(foreignRepository, HttpStatusCode.NotFound);
        await AssertProblemAsync(foreignGet, HttpStatusCode.NotFound);
        await AssertProblemAsync(foreignDelete, HttpStatusCode.NotFound);
        await AssertProblemAsync(foreignList, HttpStatusCode.Forbidden);
        await AssertProblemAsync(unfilteredList, HttpStatusCode.Forbidden);
        Assert.Equal(2, (await ReadJsonAsync(ownList)).GetProperty("webhooks").GetArrayLength());
    }

    [Fact]
    public async Task Push_DeliversSignedEvent()
    {
        using var receiver = new WebhookReceiver();
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-push");
        await admin.CreateRepositoryAsync("wh-push", "app");
        var created = await CreateWebhookAsync(admin, receiver.Url, "repository", "wh-push/app", ["image.pushed"]);
        using var registry = _factory.CreateRegistryClient("wh-push", PasswordOf("wh-push"));

        var pushed = await registry.PushImageAsync("wh-push/app", "v1");

        var request = await receiver.WaitForAsync(r => r.EventType == "image.pushed", s_wait);
        var secret = created.GetProperty("secret").GetString()!;
        var payload = request.Json;
        Assert.Equal("POST", request.Method);
        Assert.Equal("/hook", request.Path);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        Assert.True(WebhookReceiver.VerifySignature(secret, request.Headers.GetValueOrDefault("X-Dtr-Signature"), request.Body), "The signature does not verify.");
        Assert.False(WebhookReceiver.VerifySignature("whsec_wrong", request.Headers.GetValueOrDefault("X-Dtr-Signature"), request.Body));
        Assert.Equal(payload.GetProperty("id").GetString(), request.Headers["X-Dtr-Event-Id"]);
        Assert.True(long.Parse(request.Headers["X-Dtr-Delivery"], System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Equal("image.pushed", payload.GetProperty("type").GetString());
        Assert.Equal("wh-push/app", payload.GetProperty("repository").GetString());
        Assert.Equal("v1", payload.GetProperty("tag").GetString());
        Assert.Equal(pushed.Digest, payload.GetProperty("digest").GetString());
        Assert.Equal(pushed.MediaType, payload.GetProperty("mediaType").GetString());
        Assert.Equal("wh-push", payload.GetProperty("actor").GetString());
        Assert.Equal("http://localhost", payload.GetProperty("registry").GetString());
        Assert.Equal(created.GetProperty("id").GetInt64(), payload.GetProperty("webhook").GetInt64());
        Assert.Equal(JsonValueKind.Null, payload.GetProperty("scan").ValueKind);
        Assert.True(payload.GetProperty("time").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(-5));
    }

    [Fact]
    public async Task Events_FilteredByScopeAndType()
    {
        using var receiver = new WebhookReceiver();
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-filter");
        await admin.CreateUserAsync("wh-filter2");
        await admin.CreateRepositoryAsync("wh-filter", "one");
        await admin.CreateRepositoryAsync("wh-filter2", "one");
        await CreateWebhookAsync(admin, receiver.Url + "/namespace", "namespace", "wh-filter", ["image.pulled", "tag.deleted", "manifest.deleted"]);
        using var user = _factory.CreateRegistryClient("wh-filter", PasswordOf("wh-filter"));
        using var user2 = _factory.CreateRegistryClient("wh-filter2", PasswordOf("wh-filter2"));

        var first = await user.PushImageAsync("wh-filter/one", "v1", seed: 7);
        await user.PushImageAsync("wh-filter/one", "v2", seed: 8);
        await user2.PushImageAsync("wh-filter2/one", "v1", seed: 9);
        using var pull = await user.GetAsync("/v2/wh-filter/one/manifests/v1");
        using var head = await user.HeadAsync("/v2/wh-filter/one/manifests/v1");
        using var pull2 = await user2.GetAsync("/v2/wh-filter2/one/manifests/v1");
        using var deleteTag = await user.DeleteAsync("/v2/wh-filter/one/manifests/v2");
        using var deleteManifest = await user.DeleteAsync("/v2/wh-filter/one/manifests/" + first.Digest);

        Assert.Equal(HttpStatusCode.OK, pull.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, deleteTag.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, deleteManifest.StatusCode);
        var pulled = await receiver.WaitForAsync(r => r.EventType == "image.pulled", s_wait);
        var tagDeleted = await receiver.WaitForAsync(r => r.EventType == "tag.deleted", s_wait);
        var manifestDeleted = await receiver.WaitForAsync(r => r.EventType == "manifest.deleted", s_wait);
        Assert.Equal("v1", pulled.Json.GetProperty("tag").GetString());
        Assert.Equal(first.Digest, pulled.Json.GetProperty("digest").GetString());
        Assert.Equal("v2", tagDeleted.Json.GetProperty("tag").GetString());
        Assert.Equal(JsonValueKind.Null, tagDeleted.Json.GetProperty("digest").ValueKind);
        Assert.Equal(first.Digest, manifestDeleted.Json.GetProperty("digest").GetString());

        // Deliveries of one subscription go out one after another only by chance, so wait for the log to settle.
        await Task.Delay(500);
        Assert.All(receiver.Requests, r => Assert.Equal("wh-filter/one", r.Json.GetProperty("repository").GetString()));
        Assert.Single(receiver.Requests, r => r.EventType == "image.pulled");
        Assert.DoesNotContain(receiver.Requests, r => r.EventType == "image.pushed");
    }

    [Fact]
    public async Task Delivery_RetriesThenSucceeds()
    {
        using var receiver = new WebhookReceiver
        {
            Respond = number => number switch
            {
                1 => WebhookReceiver.Reply.ServerError,
                2 => WebhookReceiver.Reply.Hang,
                _ => WebhookReceiver.Reply.Ok,
            },
        };
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-retry");
        await admin.CreateRepositoryAsync("wh-retry", "app");
        var created = await CreateWebhookAsync(admin, receiver.Url, "namespace", "wh-retry", ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();
        using var registry = _factory.CreateRegistryClient("wh-retry", PasswordOf("wh-retry"));

        await registry.PushImageAsync("wh-retry/app", "v1");

        var attempts = await WaitForAttemptsAsync(admin, id, list => list.Any(a => a.GetProperty("result").GetString() == "succeeded"));
        Assert.Equal(3, attempts.Count);
        Assert.Equal([3, 2, 1], attempts.Select(a => a.GetProperty("attempt").GetInt32()));
        Assert.Equal(500, attempts[2].GetProperty("statusCode").GetInt32());
        Assert.Contains("500", attempts[2].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, attempts[1].GetProperty("statusCode").ValueKind);
        Assert.Contains("timed out", attempts[1].GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, attempts[0].GetProperty("statusCode").GetInt32());
        Assert.Equal(JsonValueKind.Null, attempts[0].GetProperty("error").ValueKind);
        Assert.Single(attempts.Select(a => a.GetProperty("deliveryId").GetInt64()).Distinct());
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.Headers["X-Dtr-Delivery"]).Distinct());
        Assert.Single(receiver.Requests.Select(r => r.Headers["X-Dtr-Event-Id"]).Distinct());
        Assert.All(receiver.Requests, r => Assert.True(WebhookReceiver.VerifySignature(created.GetProperty("secret").GetString()!, r.Headers["X-Dtr-Signature"], r.Body)));
    }

    [Fact]
    public async Task Delivery_GivesUpAfterMaxAttempts()
    {
        using var receiver = new WebhookReceiver { Respond = _ => WebhookReceiver.Reply.ServerError };
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-giveup");
        var created = await CreateWebhookAsync(admin, receiver.Url, "namespace", "wh-giveup", ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();
        using var test = await admin.PostAsync($"/webhooks/{id}/test", null);
        var queued = await ReadJsonAsync(test, HttpStatusCode.Accepted);
        var deliveryId = queued.GetProperty("deliveryId").GetInt64();
        var store = _factory.Services.GetRequiredService<IWebhookStore>();

        var stopwatch = Stopwatch.StartNew();
        while ((await store.GetWebhookDeliveryAsync(deliveryId))!.State == WebhookDeliveryState.Pending)
        {
            Assert.True(stopwatch.Elapsed < s_wait, "The delivery is still pending.");
            await Task.Delay(100);
        }

        var delivery = await store.GetWebhookDeliveryAsync(deliveryId);
        var attempts = await WaitForAttemptsAsync(admin, id, list => list.Count >= WebhookFactory.MaxAttempts);
        Assert.Equal(WebhookDeliveryState.Failed, delivery!.State);
        Assert.Equal(WebhookFactory.MaxAttempts, delivery.Attempts);
        Assert.Equal(WebhookFactory.MaxAttempts, attempts.Count);
        Assert.All(attempts, a => Assert.Equal("failed", a.GetProperty("result").GetString()));
        Assert.Equal("webhook.test", attempts[0].GetProperty("eventType").GetString());
        Assert.Equal(WebhookFactory.MaxAttempts, receiver.Requests.Count);
        Assert.Contains(_factory.Logs.Records, r => r.EventId.Id == 3706 && r.Message.Contains($"delivery {deliveryId}", StringComparison.Ordinal));
    }

    [Fact]
    public async Task TestEvent_SentAndRedelivered()
    {
        using var receiver = new WebhookReceiver();
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-test");
        var created = await CreateWebhookAsync(admin, receiver.Url, "namespace", "wh-test", ["tag.deleted"], enabled: false);
        var id = created.GetProperty("id").GetInt64();

        using var test = await admin.PostAsync($"/webhooks/{id}/test", null);
        var queued = await ReadJsonAsync(test, HttpStatusCode.Accepted);
        var deliveryId = queued.GetProperty("deliveryId").GetInt64();
        var first = await receiver.WaitForAsync(r => r.EventType == "webhook.test", s_wait);
        using var redeliver = await admin.PostAsync($"/webhooks/{id}/deliveries/{deliveryId}/redeliver", null);
        var requeued = await ReadJsonAsync(redeliver, HttpStatusCode.Accepted);
        var second = await receiver.WaitForAsync(r => r.Number == 2, s_wait);
        using var missing = await admin.PostAsync($"/webhooks/{id}/deliveries/999999/redeliver", null);

        // A disabled webhook still gets the test event, which is how a receiver is checked before it is enabled.
        Assert.Equal("wh-test", first.Json.GetProperty("repository").GetString());
        Assert.Equal("admin", first.Json.GetProperty("actor").GetString());
        Assert.Equal(queued.GetProperty("eventId").GetString(), first.Headers["X-Dtr-Event-Id"]);
        Assert.Equal(first.Headers["X-Dtr-Event-Id"], second.Headers["X-Dtr-Event-Id"]);
        Assert.NotEqual(first.Headers["X-Dtr-Delivery"], second.Headers["X-Dtr-Delivery"]);
        Assert.Equal(first.Body, second.Body);
        Assert.NotEqual(deliveryId, requeued.GetProperty("deliveryId").GetInt64());
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task DisabledWebhook_GetsNoEvents()
    {
        using var receiver = new WebhookReceiver();
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-disabled");
        await admin.CreateRepositoryAsync("wh-disabled", "app");
        var created = await CreateWebhookAsync(admin, receiver.Url, "namespace", "wh-disabled", ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();
        using var disable = await admin.PatchAsync($"/webhooks/{id}", new { enabled = false, url = receiver.Url + "/changed" });
        var updated = await ReadJsonAsync(disable);
        using var registry = _factory.CreateRegistryClient("wh-disabled", PasswordOf("wh-disabled"));

        await registry.PushImageAsync("wh-disabled/app", "v1");
        using var enable = await admin.PatchAsync($"/webhooks/{id}", new { enabled = true });
        await AssertStatusAsync(enable, HttpStatusCode.OK, "enabling the webhook");
        await registry.PushImageAsync("wh-disabled/app", "v2", seed: 2);

        var request = await receiver.WaitForAsync(r => r.EventType == "image.pushed", s_wait);
        Assert.False(updated.GetProperty("enabled").GetBoolean());
        Assert.Equal(receiver.Url + "/changed", updated.GetProperty("url").GetString());
        Assert.Equal("/hook/changed", request.Path);
        Assert.Equal("v2", request.Json.GetProperty("tag").GetString());
        Assert.Single(receiver.Requests);
    }

    [Fact]
    public async Task HangingReceiver_DoesNotBlockPush()
    {
        using var receiver = new WebhookReceiver { Respond = _ => WebhookReceiver.Reply.Hang };
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-hang");
        await admin.CreateRepositoryAsync("wh-hang", "app");
        await CreateWebhookAsync(admin, receiver.Url, "namespace", "wh-hang", ["image.pushed"]);
        using var registry = _factory.CreateRegistryClient("wh-hang", PasswordOf("wh-hang"));

        await registry.PushImageAsync("wh-hang/app", "v1");
        var hanging = await receiver.WaitForAsync(r => r.EventType == "image.pushed", s_wait);
        await registry.PushImageAsync("wh-hang/app", "v2", seed: 2);
        var tags = await registry.ListTagsAsync("wh-hang/app");

        // Both pushes finished while the receiver held the first delivery without responding.
        Assert.Equal(["v1", "v2"], tags.Order());
        Assert.Equal("v1", hanging.Json.GetProperty("tag").GetString());
        receiver.Release();
    }

    [Fact]
    public async Task HangingReceiver_DoesNotStarveOthers()
    {
        using var hanging = new WebhookReceiver { Respond = _ => WebhookReceiver.Reply.Hang };
        using var healthy = new WebhookReceiver();
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-starve");
        var hangingId = (await CreateWebhookAsync(admin, hanging.Url, "namespace", "wh-starve", ["image.pushed"])).GetProperty("id").GetInt64();
        var healthyId = (await CreateWebhookAsync(admin, healthy.Url, "namespace", "wh-starve", ["image.pushed"])).GetProperty("id").GetInt64();

        // More queued deliveries than Registry:Webhooks:Concurrency (4), all to the receiver that never responds.
        for (var i = 0; i < 8; i++)
        {
            using var queued = await admin.PostAsync($"/webhooks/{hangingId}/test", null);
            await AssertStatusAsync(queued, HttpStatusCode.Accepted, "queueing a test event for the hanging receiver");
        }

        await hanging.WaitForAsync(r => r.Number == 1, s_wait);
        using var test = await admin.PostAsync($"/webhooks/{healthyId}/test", null);
        await AssertStatusAsync(test, HttpStatusCode.Accepted, "queueing a test event for the healthy receiver");
        var received = await healthy.WaitForAsync(r => r.EventType == "webhook.test", s_wait);

        // One round per subscription at a time: the hanging receiver occupies one slot, not all of them. Its requests
        // so far are attempts of one delivery (a retry after the 2 s attempt timeout can be among them).
        Assert.Equal(healthyId, received.Json.GetProperty("webhook").GetInt64());
        Assert.Single(hanging.Requests.Select(r => r.Headers["X-Dtr-Delivery"]).Distinct());
        hanging.Release();
    }

    [Fact]
    public async Task HiddenWebhook_Is404LikeMissing()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-private");
        await admin.CreateUserAsync("wh-outsider");
        await admin.CreateRepositoryAsync("wh-private", "secret-app");
        var repositoryHook = await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "repository", "wh-private/secret-app", ["image.pushed"]);
        var namespaceHook = await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "namespace", "wh-private", ["image.pushed"]);
        var registryHook = await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "registry", null, ["image.pushed"]);
        using var outsider = _factory.CreateManagementClient("wh-outsider", PasswordOf("wh-outsider"));
        using var missing = await outsider.GetAsync("/webhooks/999999");
        var expected = (await AssertProblemAsync(missing, HttpStatusCode.NotFound)).GetProperty("detail").GetString()!.Replace("999999", "{id}", StringComparison.Ordinal);

        foreach (var hook in new[] { repositoryHook, namespaceHook, registryHook })
        {
            var id = hook.GetProperty("id").GetInt64();
            var requests = new (string Method, string Path)[]
            {
                ("GET", $"/webhooks/{id}"),
                ("PATCH", $"/webhooks/{id}"),
                ("DELETE", $"/webhooks/{id}"),
                ("POST", $"/webhooks/{id}/test"),
                ("POST", $"/webhooks/{id}/secret"),
                ("GET", $"/webhooks/{id}/deliveries"),
                ("POST", $"/webhooks/{id}/deliveries/1/redeliver"),
            };
            foreach (var (method, path) in requests)
            {
                using var response = method switch
                {
                    "GET" => await outsider.GetAsync(path),
                    "PATCH" => await outsider.PatchAsync(path, new { enabled = false }),
                    "DELETE" => await outsider.DeleteAsync(path),
                    _ => await outsider.PostAsync(path, null),
                };
                var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound);
                var detail = problem.GetProperty("detail").GetString()!;
                Assert.Equal(expected.Replace("{id}", id.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), detail);
                Assert.DoesNotContain("wh-private", problem.GetRawText(), StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("""{"url":null}""", "url")]
    [InlineData("""{"events":null}""", "events")]
    [InlineData("""{"minSeverity":null}""", "minSeverity")]
    [InlineData("""{"enabled":null}""", "enabled")]
    public async Task Update_NullFieldIs400(string body, string field)
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-null-" + field.ToLowerInvariant());
        var created = await CreateWebhookAsync(admin, "http://127.0.0.1:9/hook", "namespace", "wh-null-" + field.ToLowerInvariant(), ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();

        using var response = await admin.PatchAsync($"/webhooks/{id}", JsonDocument.Parse(body).RootElement);
        using var get = await admin.GetAsync($"/webhooks/{id}");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"The problem names no error for {field}: {problem}");
        Assert.Equal("http://127.0.0.1:9/hook", (await ReadJsonAsync(get)).GetProperty("url").GetString());
    }

    [Fact]
    public async Task Update_NullDescriptionRemovesIt()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-description");
        using var create = await admin.PostAsync("/webhooks", new { url = "http://127.0.0.1:9/", scope = "namespace", target = "wh-description", events = new[] { "image.pushed" }, description = "build" });
        var id = (await ReadJsonAsync(create, HttpStatusCode.Created)).GetProperty("id").GetInt64();

        using var response = await admin.PatchAsync($"/webhooks/{id}", JsonDocument.Parse("""{"description":null}""").RootElement);

        Assert.Equal(JsonValueKind.Null, (await ReadJsonAsync(response)).GetProperty("description").ValueKind);
    }

    [Fact]
    public async Task RepositoryWebhookChange_AuditedWithRepository()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-audit");
        await admin.CreateRepositoryAsync("wh-audit", "app");
        var id = (await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "repository", "wh-audit/app", ["image.pushed"])).GetProperty("id").GetInt64();
        using var update = await admin.PatchAsync($"/webhooks/{id}", new { enabled = false });
        await AssertStatusAsync(update, HttpStatusCode.OK, "disabling the webhook");

        var actions = new List<string>();
        var stopwatch = Stopwatch.StartNew();
        while (actions.Count < 2)
        {
            using var response = await admin.GetAsync("/audit?repository=wh-audit/app");
            actions = (await ReadJsonAsync(response)).GetProperty("entries").EnumerateArray()
                .Select(entry => entry.GetProperty("action").GetString()!)
                .Where(action => action.Contains("/webhooks", StringComparison.Ordinal))
                .ToList();
            Assert.True(stopwatch.Elapsed < s_wait, $"The audit log of wh-audit/app has no webhook changes: {string.Join(", ", actions)}");
            await Task.Delay(50);
        }

        Assert.Contains("POST /api/v0/webhooks", actions);
        Assert.Contains("PATCH /api/v0/webhooks/{id}", actions);
    }

    [Fact]
    public async Task DeletedTarget_TakesItsWebhooks()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-gone");
        await admin.CreateRepositoryAsync("wh-gone", "app");
        var repositoryId = (await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "repository", "wh-gone/app", ["image.pushed"])).GetProperty("id").GetInt64();
        var namespaceId = (await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "namespace", "wh-gone", ["image.pushed"])).GetProperty("id").GetInt64();

        using var deleteRepository = await admin.DeleteAsync("/repositories/wh-gone/app");
        await AssertStatusAsync(deleteRepository, HttpStatusCode.NoContent, "deleting the repository");
        using var repositoryHook = await admin.GetAsync($"/webhooks/{repositoryId}");
        using var deleteUser = await admin.DeleteAsync("/users/wh-gone");
        await AssertStatusAsync(deleteUser, HttpStatusCode.NoContent, "deleting the user");
        using var namespaceHook = await admin.GetAsync($"/webhooks/{namespaceId}");
        await admin.CreateUserAsync("wh-gone");
        using var list = await admin.GetAsync("/webhooks?namespace=wh-gone");

        await AssertProblemAsync(repositoryHook, HttpStatusCode.NotFound);
        await AssertProblemAsync(namespaceHook, HttpStatusCode.NotFound);
        Assert.Equal(0, (await ReadJsonAsync(list)).GetProperty("webhooks").GetArrayLength());
    }

    [Fact]
    public async Task Delete_RemovesWebhook()
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync("wh-delete");
        var created = await CreateWebhookAsync(admin, "http://127.0.0.1:9/", "namespace", "wh-delete", ["image.pushed"]);
        var id = created.GetProperty("id").GetInt64();

        using var deleted = await admin.DeleteAsync($"/webhooks/{id}");
        using var again = await admin.DeleteAsync($"/webhooks/{id}");
        using var get = await admin.GetAsync($"/webhooks/{id}");
        using var invalid = await admin.GetAsync("/webhooks/abc");

        await AssertStatusAsync(deleted, HttpStatusCode.NoContent, "deleting the webhook");
        await AssertProblemAsync(again, HttpStatusCode.NotFound);
        await AssertProblemAsync(get, HttpStatusCode.NotFound);
        await AssertProblemAsync(invalid, HttpStatusCode.NotFound);
    }

    private static async Task<JsonElement> CreateWebhookAsync(ManagementClient admin, string url, string scope, string? target, string[] events, bool enabled = true)
    {
        using var response = await admin.PostAsync("/webhooks", new { url, scope, target, events, enabled });
        return await ReadJsonAsync(response, HttpStatusCode.Created);
    }

    private static async Task<List<JsonElement>> WaitForAttemptsAsync(ManagementClient admin, long id, Func<List<JsonElement>, bool> done)
    {
        var stopwatch = Stopwatch.StartNew();
        while (true)
        {
            using var response = await admin.GetAsync($"/webhooks/{id}/deliveries");
            var attempts = (await ReadJsonAsync(response)).GetProperty("attempts").EnumerateArray().ToList();
            if (done(attempts))
            {
                return attempts;
            }

            Assert.True(stopwatch.Elapsed < s_wait, $"The delivery log of webhook {id} did not reach the expected state: {string.Join(", ", attempts)}");
            await Task.Delay(100);
        }
    }

    /// <summary>A management host with basic authentication on <c>/v2</c> and short webhook delays.</summary>
    public sealed class WebhookFactory : ManagementFactory
    {
        public const int MaxAttempts = 4;

        public WebhookFactory()
            : base(new Dictionary<string, string?>
            {
                ["Registry:Admin:Password"] = AdminPassword,
                ["Registry:Auth:AllowBasicAuthOnRegistryApi"] = "true",
                ["Registry:Webhooks:AttemptsPerRound"] = "2",
                ["Registry:Webhooks:AttemptTimeout"] = "00:00:02",
                ["Registry:Webhooks:RetryDelay"] = "00:00:00.05",
                ["Registry:Webhooks:RescheduleDelay"] = "00:00:01",
                ["Registry:Webhooks:MaxAttempts"] = MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Registry:Webhooks:PollInterval"] = "00:00:00.2",
            })
        {
        }

        public RegistryClient CreateRegistryClient(string userName, string password)
        {
            var client = new RegistryClient(CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false }));
            client.Http.DefaultRequestHeaders.Authorization = AuthTestSupport.Basic(userName, password);
            return client;
        }
    }
}

using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.Tests.Shared;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Webhooks of the sample host process, with a receiver on a 127.0.0.1 port of the test. Skopeo pushes and pulls
/// raise signed events, and a receiver that fails the first attempts still gets the event. A scan with high
/// vulnerabilities raises scan events, and a receiver that never responds does not hold up a push. The host runs
/// with the default delivery settings (three attempts per round, 2 s then 4 s apart).
/// </summary>
[Collection(ScanningRegistryCollection.Name)]
public sealed class WebhookDeliveryTests(ScanningRegistryFixture fixture)
{
    private static readonly TimeSpan s_wait = TimeSpan.FromSeconds(60);

    private ScanningHost Host => fixture.Host;

    [Fact]
    public async Task SkopeoPushAndPull_SendSignedEvents()
    {
        using var receiver = new WebhookReceiver();
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteAlpineLayout(work.Combine("layout"), "3.18", paddingBytes: 4096, paddingSeed: 301);
        var repository = await Host.CreateRepositoryAsync("webhook-push", scanOnPush: false);
        var secret = await CreateWebhookAsync(receiver.Url, repository, ["image.pushed", "image.pulled"]);

        await Host.PushAsync(work.Combine("layout"), "3.18", repository, "v1");
        var pull = await Host.TryPullAsReaderAsync(repository, "v1", work.Combine("pulled"));

        Assert.True(pull.Succeeded, $"The pull failed.\n{pull.Describe()}\n{Host.DescribeRegistry()}");
        var pushed = await receiver.WaitForAsync(r => r.EventType == "image.pushed", s_wait);
        var pulled = await receiver.WaitForAsync(r => r.EventType == "image.pulled", s_wait);
        Assert.True(WebhookReceiver.VerifySignature(secret, pushed.Headers.GetValueOrDefault("X-Dtr-Signature"), pushed.Body), "The push event's signature does not verify.");
        Assert.True(WebhookReceiver.VerifySignature(secret, pulled.Headers.GetValueOrDefault("X-Dtr-Signature"), pulled.Body), "The pull event's signature does not verify.");
        Assert.Equal(repository, pushed.Json.GetProperty("repository").GetString());
        Assert.Equal("v1", pushed.Json.GetProperty("tag").GetString());
        Assert.Equal(image.Manifest.Digest, pushed.Json.GetProperty("digest").GetString());
        Assert.Equal(Host.Admin.UserName, pushed.Json.GetProperty("actor").GetString());
        Assert.Equal($"http://{Host.Address}", pushed.Json.GetProperty("registry").GetString());
        Assert.Equal(image.Manifest.Digest, pulled.Json.GetProperty("digest").GetString());
        Assert.Equal(Host.Reader.UserName, pulled.Json.GetProperty("actor").GetString());
        Assert.Equal("v1", pulled.Json.GetProperty("tag").GetString());
    }

    [Fact]
    public async Task FailingReceiver_GetsEventAfterRetries()
    {
        // The first attempt gets a 500, and the second no response until it times out after 10 s (the default).
        using var receiver = new WebhookReceiver
        {
            Respond = number => number switch
            {
                1 => WebhookReceiver.Reply.ServerError,
                2 => WebhookReceiver.Reply.Hang,
                _ => WebhookReceiver.Reply.Ok,
            },
        };
        using var work = new TemporaryDirectory();
        ScanTestImages.WriteAlpineLayout(work.Combine("layout"), "3.18", paddingBytes: 4096, paddingSeed: 302);
        var repository = await Host.CreateRepositoryAsync("webhook-retry", scanOnPush: false);
        var secret = await CreateWebhookAsync(receiver.Url, repository, ["image.pushed"]);

        await Host.PushAsync(work.Combine("layout"), "3.18", repository, "v1");

        var attempts = await WaitForSuccessAsync(repository);
        var delivered = await receiver.WaitForAsync(r => r.Number == 3, s_wait);
        var requests = receiver.Requests;
        Assert.Equal(3, requests.Count);
        Assert.Single(requests.Select(r => r.Headers["X-Dtr-Event-Id"]).Distinct());
        Assert.All(requests, r => Assert.True(WebhookReceiver.VerifySignature(secret, r.Headers["X-Dtr-Signature"], r.Body)));
        Assert.Equal("v1", delivered.Json.GetProperty("tag").GetString());
        Assert.Equal(3, attempts.Count);
        Assert.Equal(500, attempts[2]["statusCode"]?.GetValue<int>());
        Assert.Contains("timed out", attempts[1]["error"]?.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("succeeded", attempts[0]["result"]?.GetValue<string>());
    }

    [Fact]
    public async Task VulnerableScan_SendsScanEvents()
    {
        using var receiver = new WebhookReceiver();
        using var work = new TemporaryDirectory();
        var image = ScanTestImages.WriteDebianLayout(
            work.Combine("layout"), "vulnerable", ScanTestImages.VulnerableGlibcVersion, ScanTestImages.VulnerableOpenSslVersion);
        var repository = await Host.CreateRepositoryAsync("webhook-scan", scanOnPush: true);
        await CreateWebhookAsync(receiver.Url, repository, ["scan.completed", "scan.vulnerabilities_found"], minSeverity: "high");

        await Host.PushAsync(work.Combine("layout"), "vulnerable", repository, "v1");

        var completed = await receiver.WaitForAsync(r => r.EventType == "scan.completed", ScanningRegistryFixture.ScanTimeout);
        var found = await receiver.WaitForAsync(r => r.EventType == "scan.vulnerabilities_found", s_wait);
        var scan = found.Json.GetProperty("scan");
        Assert.Equal(image.Manifest.Digest, completed.Json.GetProperty("digest").GetString());
        Assert.Equal("completed", completed.Json.GetProperty("scan").GetProperty("status").GetString());
        Assert.Equal(completed.Json.GetProperty("id").GetString(), found.Json.GetProperty("id").GetString());
        Assert.True(scan.GetProperty("critical").GetInt32() + scan.GetProperty("high").GetInt32() > 0, $"The scan summary has no high vulnerability: {scan}");
        Assert.Equal(JsonValueKind.Null, found.Json.GetProperty("actor").ValueKind);
        Assert.Equal(image.Manifest.MediaType, found.Json.GetProperty("mediaType").GetString());
    }

    [Fact]
    public async Task HangingReceiver_DoesNotHoldUpPush()
    {
        using var receiver = new WebhookReceiver { Respond = _ => WebhookReceiver.Reply.Hang };
        using var work = new TemporaryDirectory();
        ScanTestImages.WriteAlpineLayout(work.Combine("first"), "3.18", paddingBytes: 4096, paddingSeed: 303);
        ScanTestImages.WriteAlpineLayout(work.Combine("second"), "3.18", paddingBytes: 4096, paddingSeed: 304);
        var repository = await Host.CreateRepositoryAsync("webhook-hang", scanOnPush: false);
        await CreateWebhookAsync(receiver.Url, repository, ["image.pushed"]);

        await Host.PushAsync(work.Combine("first"), "3.18", repository, "first");
        var hanging = await receiver.WaitForAsync(r => r.EventType == "image.pushed", s_wait);
        await Host.PushAsync(work.Combine("second"), "3.18", repository, "second");
        var pull = await Host.TryPullAsReaderAsync(repository, "second", work.Combine("pulled"));

        // The second push finished while the receiver held the first delivery without responding.
        Assert.True(pull.Succeeded, $"The second image was not stored.\n{pull.Describe()}\n{Host.DescribeRegistry()}");
        Assert.Equal("first", hanging.Json.GetProperty("tag").GetString());
        receiver.Release();
    }

    /// <summary>Subscribes the URL to the repository's events as the administrator and returns the signing secret.</summary>
    private async Task<string> CreateWebhookAsync(string url, string repository, string[] events, string? minSeverity = null)
    {
        using var admin = Host.AdminManagementApi();
        var body = new JsonObject
        {
            ["url"] = url,
            ["scope"] = "repository",
            ["target"] = repository,
            ["events"] = new JsonArray(events.Select(e => (JsonNode)e).ToArray()),
        };
        if (minSeverity is not null)
        {
            body["minSeverity"] = minSeverity;
        }

        var created = await admin.SendAsync(HttpMethod.Post, "webhooks", body);
        return created!["secret"]!.GetValue<string>();
    }

    /// <summary>Returns the delivery log of the repository's only webhook, newest first, once an attempt succeeded.</summary>
    private async Task<List<JsonNode>> WaitForSuccessAsync(string repository)
    {
        using var admin = Host.AdminManagementApi();
        var list = await admin.SendAsync(HttpMethod.Get, $"webhooks?repository={repository}", null);
        var id = list!["webhooks"]![0]!["id"]!.GetValue<long>();
        var deadline = DateTimeOffset.UtcNow + s_wait;
        while (true)
        {
            var log = await admin.SendAsync(HttpMethod.Get, $"webhooks/{id}/deliveries", null);
            var attempts = log!["attempts"]!.AsArray().Select(a => a!).ToList();
            if (attempts.Any(a => a["result"]?.GetValue<string>() == "succeeded"))
            {
                return attempts;
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"No delivery of webhook {id} succeeded: {log.ToJsonString()}\n{Host.DescribeRegistry()}");
            await Task.Delay(200);
        }
    }
}

using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;

namespace Dtr.Storage.Tests.Contracts;

/// <summary>
/// The behaviour every <see cref="IWebhookStore"/> driver must have: subscriptions keep every field and filter by
/// namespace and repository, deliveries are claimed by one holder at a time and only when due, attempts are logged
/// newest first, and retention keeps pending deliveries. A driver's test class supplies a fresh, migrated database.
/// </summary>
public abstract class WebhookStoreContractTests : IAsyncLifetime
{
    private static readonly DateTimeOffset s_start = new(2025, 6, 7, 8, 9, 10, 123, TimeSpan.Zero);

    private (IMetadataStore Metadata, IWebhookStore Webhooks)? _stores;

    /// <summary>The webhook store under test.</summary>
    protected IWebhookStore Webhooks => Stores.Webhooks;

    private (IMetadataStore Metadata, IWebhookStore Webhooks) Stores => _stores ?? throw new InvalidOperationException("The stores are created in InitializeAsync.");

    /// <summary>Creates an empty database for one test, as a metadata store (for the migration) and the webhook store.</summary>
    protected abstract Task<(IMetadataStore Metadata, IWebhookStore Webhooks)> CreateStoresAsync();

    /// <summary>Releases what <see cref="CreateStoresAsync"/> created.</summary>
    protected abstract Task DisposeStoresAsync();

    public async Task InitializeAsync()
    {
        _stores = await CreateStoresAsync();
        await Stores.Metadata.MigrateAsync();
    }

    public Task DisposeAsync() => DisposeStoresAsync();

    private static WebhookSubscription NewSubscription(WebhookScope scope, string? target, bool enabled = true) => new(
        0,
        scope,
        target,
        "https://hooks.example.com/dtr?x=1",
        WebhookEventTypes.ImagePushed | WebhookEventTypes.ScanVulnerabilitiesFound,
        Severity.High,
        enabled,
        "secret-" + target,
        "build trigger",
        "alice",
        s_start,
        s_start);

    private static WebhookDeliveryRequest NewDelivery(long webhookId, string eventId, DateTimeOffset? time = null) =>
        new(webhookId, eventId, "image.pushed", "{\"id\":\"" + eventId + "\"}", time ?? s_start);

    [Fact]
    public async Task Create_KeepsEveryField()
    {
        var created = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme/app"));

        Assert.True(created.Id > 0);
        var stored = await Webhooks.GetWebhookAsync(created.Id);
        Assert.Equal(created, stored);
        Assert.Equal(NewSubscription(WebhookScope.Repository, "acme/app") with { Id = created.Id }, stored);
    }

    [Fact]
    public async Task Create_RegistryScopeWithoutTarget()
    {
        var created = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null) with { Description = null, CreatedBy = null });

        var stored = await Webhooks.GetWebhookAsync(created.Id);
        Assert.NotNull(stored);
        Assert.Null(stored.Target);
        Assert.Null(stored.Description);
        Assert.Null(stored.CreatedBy);
    }

    [Fact]
    public async Task Create_RejectsMissingTarget()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, null)).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, "acme")).AsTask());
    }

    [Fact]
    public async Task Get_MissingReturnsNull()
    {
        Assert.Null(await Webhooks.GetWebhookAsync(12345));
    }

    [Fact]
    public async Task Update_ReplacesFieldsButCreator()
    {
        var created = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme"));
        var changed = created with
        {
            Url = "http://127.0.0.1:9000/hook",
            Events = WebhookEventTypes.TagDeleted,
            MinSeverity = Severity.Critical,
            Enabled = false,
            Secret = "rotated",
            Description = null,
            CreatedBy = "mallory",
            UpdatedAt = s_start.AddMinutes(5),
        };

        Assert.True(await Webhooks.UpdateWebhookAsync(changed));

        var stored = await Webhooks.GetWebhookAsync(created.Id);
        Assert.Equal(changed with { CreatedBy = "alice" }, stored);
        Assert.False(await Webhooks.UpdateWebhookAsync(changed with { Id = created.Id + 100 }));
    }

    [Fact]
    public async Task List_FiltersByNamespaceAndRepository()
    {
        var registry = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var acme = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme"));
        var app = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme/app"));
        var nested = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme/tools/cli", enabled: false));
        await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme2/app"));
        await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme_x"));

        var all = await Webhooks.ListWebhooksAsync(new WebhookQuery(), afterId: null, limit: 100);
        var inAcme = await Webhooks.ListWebhooksAsync(new WebhookQuery(Namespace: "acme"), afterId: null, limit: 100);
        var ofApp = await Webhooks.ListWebhooksAsync(new WebhookQuery(Repository: "acme/app"), afterId: null, limit: 100);
        var enabledInAcme = await Webhooks.ListWebhooksAsync(new WebhookQuery(Namespace: "acme", EnabledOnly: true), afterId: null, limit: 100);

        Assert.Equal(6, all.Count);
        Assert.Equal(registry.Id, all[0].Id);
        Assert.Equal([acme.Id, app.Id, nested.Id], inAcme.Select(s => s.Id));
        Assert.Equal([app.Id], ofApp.Select(s => s.Id));
        Assert.Equal([acme.Id, app.Id], enabledInAcme.Select(s => s.Id));
    }

    [Fact]
    public async Task List_PagesAfterId()
    {
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "team" + i))).Id);
        }

        var first = await Webhooks.ListWebhooksAsync(new WebhookQuery(), afterId: null, limit: 2);
        var second = await Webhooks.ListWebhooksAsync(new WebhookQuery(), afterId: first[^1].Id, limit: 2);
        var last = await Webhooks.ListWebhooksAsync(new WebhookQuery(), afterId: second[^1].Id, limit: 2);

        Assert.Equal(ids[..2], first.Select(s => s.Id));
        Assert.Equal(ids[2..4], second.Select(s => s.Id));
        Assert.Equal(ids[4..], last.Select(s => s.Id));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Webhooks.ListWebhooksAsync(new WebhookQuery(), null, 0).AsTask());
    }

    [Fact]
    public async Task Enqueue_SkipsDeletedSubscription()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));

        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1"), NewDelivery(hook.Id + 99, "e2")]);

        Assert.Equal(2, ids.Count);
        Assert.True(ids[0] > 0);
        Assert.Equal(0, ids[1]);
        var delivery = await Webhooks.GetWebhookDeliveryAsync(ids[0]);
        Assert.NotNull(delivery);
        Assert.Equal(hook.Id, delivery.WebhookId);
        Assert.Equal("e1", delivery.EventId);
        Assert.Equal("image.pushed", delivery.EventType);
        Assert.Equal("{\"id\":\"e1\"}", delivery.Payload);
        Assert.Equal(WebhookDeliveryState.Pending, delivery.State);
        Assert.Equal(0, delivery.Attempts);
        Assert.Equal(s_start, delivery.NextAttemptAt);
        Assert.Equal(1, await Webhooks.CountPendingWebhookDeliveriesAsync());
    }

    [Fact]
    public async Task Claim_OneHolderUntilLeaseExpires()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1")]);
        var now = s_start.AddSeconds(1);

        var first = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        var second = await Webhooks.TryClaimWebhookDeliveryAsync("host-b", now.AddSeconds(30), now.AddMinutes(2));
        var afterLease = await Webhooks.TryClaimWebhookDeliveryAsync("host-b", now.AddMinutes(1), now.AddMinutes(2));

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(afterLease);
        Assert.Equal(first.Id, afterLease.Id);

        // host-a lost the lease, so its result is not recorded.
        var attempt = new WebhookAttempt(now, 1, 200, null, TimeSpan.FromMilliseconds(12));
        Assert.False(await Webhooks.RecordWebhookAttemptsAsync(first.Id, "host-a", [attempt], WebhookDeliveryState.Succeeded, null));
        Assert.True(await Webhooks.RecordWebhookAttemptsAsync(first.Id, "host-b", [attempt], WebhookDeliveryState.Succeeded, null));
        Assert.Equal(WebhookDeliveryState.Succeeded, (await Webhooks.GetWebhookDeliveryAsync(first.Id))!.State);
    }

    [Fact]
    public async Task Claim_WaitsUntilNextAttemptTime()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1")]);
        var now = s_start.AddSeconds(1);
        var claimed = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        Assert.NotNull(claimed);
        var failure = new WebhookAttempt(now, 1, 500, "The receiver answered 500 Internal Server Error.", TimeSpan.FromMilliseconds(40));

        Assert.True(await Webhooks.RecordWebhookAttemptsAsync(ids[0], "host-a", [failure], WebhookDeliveryState.Pending, now.AddMinutes(5)));

        Assert.Null(await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now.AddMinutes(4), now.AddMinutes(6)));
        var again = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now.AddMinutes(5), now.AddMinutes(6));
        Assert.NotNull(again);
        Assert.Equal(1, again.Attempts);
        Assert.Equal(now.AddMinutes(5), again.NextAttemptAt);
    }

    [Fact]
    public async Task Claim_SkipsExcludedWebhooks()
    {
        var busy = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var idle = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(busy.Id, "e1"), NewDelivery(busy.Id, "e2")]);
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(idle.Id, "e3", s_start.AddMilliseconds(1))]);
        var now = s_start.AddSeconds(1);

        var claimed = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1), [busy.Id]);
        var none = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1), [busy.Id, idle.Id]);
        var unfiltered = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1), []);

        Assert.Equal(ids[0], claimed?.Id);
        Assert.Null(none);
        Assert.Equal(busy.Id, unfiltered?.WebhookId);
    }

    [Fact]
    public async Task Claim_SkipsFinishedDeliveries()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1")]);
        var now = s_start.AddSeconds(1);
        await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        var failure = new WebhookAttempt(now, 1, null, "Connection refused.", TimeSpan.FromMilliseconds(3));

        await Webhooks.RecordWebhookAttemptsAsync(ids[0], "host-a", [failure], WebhookDeliveryState.Failed, null);

        Assert.Null(await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now.AddDays(1), now.AddDays(2)));
        Assert.Equal(0, await Webhooks.CountPendingWebhookDeliveriesAsync());
        await Assert.ThrowsAsync<ArgumentException>(() =>
            Webhooks.RecordWebhookAttemptsAsync(ids[0], "host-a", [failure], WebhookDeliveryState.Pending, null).AsTask());
    }

    [Fact]
    public async Task Attempts_ListedNewestFirstPerWebhook()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var other = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme"));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1"), NewDelivery(other.Id, "e1")]);
        var now = s_start.AddSeconds(1);
        var attempts = new[]
        {
            new WebhookAttempt(now, 1, null, "The attempt timed out after 10 s.", TimeSpan.FromSeconds(10)),
            new WebhookAttempt(now.AddSeconds(11), 2, 503, "The receiver answered 503 Service Unavailable.", TimeSpan.FromMilliseconds(8)),
            new WebhookAttempt(now.AddSeconds(13), 3, 204, null, TimeSpan.FromMilliseconds(9)),
        };
        foreach (var id in ids)
        {
            var claimed = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
            Assert.NotNull(claimed);
            await Webhooks.RecordWebhookAttemptsAsync(claimed.Id, "host-a", attempts, WebhookDeliveryState.Succeeded, null);
        }

        var page = await Webhooks.ListWebhookAttemptsAsync(hook.Id, before: null, limit: 2);
        var rest = await Webhooks.ListWebhookAttemptsAsync(hook.Id, before: page[^1].Sequence, limit: 2);

        Assert.Equal(2, page.Count);
        Assert.Equal(attempts[2], page[0].Attempt);
        Assert.Equal(attempts[1], page[1].Attempt);
        Assert.Equal(ids[0], page[0].DeliveryId);
        Assert.Equal("e1", page[0].EventId);
        Assert.Equal("image.pushed", page[0].EventType);
        Assert.Single(rest);
        Assert.Equal(attempts[0], rest[0].Attempt);
        Assert.Equal(3, (await Webhooks.GetWebhookDeliveryAsync(ids[0]))!.Attempts);
    }

    [Fact]
    public async Task Delete_RemovesDeliveriesAndAttempts()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "e1"), NewDelivery(hook.Id, "e2")]);
        var now = s_start.AddSeconds(1);
        var claimed = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        await Webhooks.RecordWebhookAttemptsAsync(claimed!.Id, "host-a", [new WebhookAttempt(now, 1, 200, null, TimeSpan.Zero)], WebhookDeliveryState.Succeeded, null);

        Assert.True(await Webhooks.DeleteWebhookAsync(hook.Id));

        Assert.False(await Webhooks.DeleteWebhookAsync(hook.Id));
        Assert.Null(await Webhooks.GetWebhookAsync(hook.Id));
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[0]));
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[1]));
        Assert.Empty(await Webhooks.ListWebhookAttemptsAsync(hook.Id, null, 10));
        Assert.Equal(0, await Webhooks.CountPendingWebhookDeliveriesAsync());
    }

    [Fact]
    public async Task DeleteRepository_DeletesItsWebhooks()
    {
        var identity = (IIdentityStore)Webhooks;
        await identity.CreateOrganizationAsync("acme");
        await identity.CreateRepositoryAsync(new RepositorySettings(RepositoryName.Parse("acme/app"), RepositoryVisibility.Private, null, ScanOnPush: false, ImmutableTags: false, s_start));
        var repositoryHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme/app"));
        var otherHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Repository, "acme/app2"));
        var namespaceHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme"));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(repositoryHook.Id, "e1")]);

        Assert.True(await identity.DeleteRepositoryAsync(RepositoryName.Parse("acme/app")));

        Assert.Null(await Webhooks.GetWebhookAsync(repositoryHook.Id));
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[0]));
        Assert.NotNull(await Webhooks.GetWebhookAsync(otherHook.Id));
        Assert.NotNull(await Webhooks.GetWebhookAsync(namespaceHook.Id));
    }

    [Fact]
    public async Task DeleteUserAndOrganization_DeleteTheirWebhooks()
    {
        var identity = (IIdentityStore)Webhooks;
        await identity.CreateUserAsync(new NewUser { Name = "alice" });
        await identity.CreateOrganizationAsync("acme");
        var userHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "alice"));
        var organizationHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Namespace, "acme"));
        var registryHook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(userHook.Id, "e1"), NewDelivery(organizationHook.Id, "e2")]);

        Assert.True(await identity.DeleteUserAsync("alice"));
        Assert.Null(await Webhooks.GetWebhookAsync(userHook.Id));
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[0]));
        Assert.NotNull(await Webhooks.GetWebhookAsync(organizationHook.Id));

        Assert.True(await identity.DeleteOrganizationAsync("acme"));
        Assert.Null(await Webhooks.GetWebhookAsync(organizationHook.Id));
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[1]));
        Assert.NotNull(await Webhooks.GetWebhookAsync(registryHook.Id));
    }

    [Fact]
    public async Task Retention_KeepsPendingDeliveries()
    {
        var hook = await Webhooks.CreateWebhookAsync(NewSubscription(WebhookScope.Registry, null));
        var ids = await Webhooks.EnqueueWebhookDeliveriesAsync([NewDelivery(hook.Id, "old-done"), NewDelivery(hook.Id, "old-pending"), NewDelivery(hook.Id, "new", s_start.AddDays(10))]);
        var now = s_start.AddSeconds(1);
        var claimed = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        Assert.Equal(ids[0], claimed!.Id);
        await Webhooks.RecordWebhookAttemptsAsync(ids[0], "host-a", [new WebhookAttempt(now, 1, 200, null, TimeSpan.Zero)], WebhookDeliveryState.Succeeded, null);
        var pending = await Webhooks.TryClaimWebhookDeliveryAsync("host-a", now, now.AddMinutes(1));
        Assert.Equal(ids[1], pending!.Id);
        await Webhooks.RecordWebhookAttemptsAsync(ids[1], "host-a", [new WebhookAttempt(now, 1, 500, "The receiver answered 500.", TimeSpan.Zero)], WebhookDeliveryState.Pending, now.AddHours(1));

        var deleted = await Webhooks.DeleteWebhookHistoryBeforeAsync(s_start.AddDays(1));

        Assert.Equal(3, deleted);
        Assert.Null(await Webhooks.GetWebhookDeliveryAsync(ids[0]));
        Assert.NotNull(await Webhooks.GetWebhookDeliveryAsync(ids[1]));
        Assert.NotNull(await Webhooks.GetWebhookDeliveryAsync(ids[2]));
        Assert.Empty(await Webhooks.ListWebhookAttemptsAsync(hook.Id, null, 10));
    }
}

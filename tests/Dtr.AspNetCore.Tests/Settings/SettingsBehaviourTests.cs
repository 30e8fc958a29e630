using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Gc;
using Dtr.Scanning.Service;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Settings;

/// <summary>Changes made through <c>PATCH /settings</c> take effect on the /v2 API, the scanning service and other hosts.</summary>
public sealed class SettingsBehaviourTests
{
    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task ScanningDisabled_ScanRequest409()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        using var registry = factory.CreateAdminRegistryClient();
        await admin.CreateRepositoryAsync(ManagementFactory.AdminName, "app");
        var manifest = await registry.PushImageAsync("admin/app", "latest");

        await ReadJsonAsync(await PatchAsync(admin, """{"scanning":{"enabled":false}}"""));
        using var rejected = await admin.PostAsync($"/repositories/admin/app/manifests/{manifest.Digest}/scan", null);

        var problem = await AssertProblemAsync(rejected, HttpStatusCode.Conflict);
        Assert.Contains("Scanning is disabled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.False(factory.Services.GetRequiredService<IOptionsMonitor<ScanningOptions>>().CurrentValue.Enabled);

        await ReadJsonAsync(await PatchAsync(admin, """{"scanning":{"enabled":null}}"""));
        using var queued = await admin.PostAsync($"/repositories/admin/app/manifests/{manifest.Digest}/scan", null);

        await AssertStatusAsync(queued, HttpStatusCode.Accepted, "queueing a scan after scanning was enabled again");
    }

    [Fact]
    public async Task PublicBaseUrl_ChangesLocation()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        using var registry = factory.CreateAdminRegistryClient();
        await admin.CreateRepositoryAsync(ManagementFactory.AdminName, "app");
        Assert.StartsWith("http://localhost/v2/admin/app/blobs/uploads/", await registry.StartUploadAsync("admin/app"), StringComparison.Ordinal);

        await ReadJsonAsync(await PatchAsync(admin, """{"general":{"publicBaseUrl":"https://registry.example.com/mirror/"}}"""));

        Assert.StartsWith("https://registry.example.com/mirror/v2/admin/app/blobs/uploads/", await registry.StartUploadAsync("admin/app"), StringComparison.Ordinal);

        await ReadJsonAsync(await PatchAsync(admin, """{"general":{"publicBaseUrl":null}}"""));

        Assert.StartsWith("http://localhost/v2/admin/app/blobs/uploads/", await registry.StartUploadAsync("admin/app"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateOnPush_AllowsNewRepository()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        using var registry = factory.CreateAdminRegistryClient();
        using var rejected = await registry.SendAsync(HttpMethod.Post, "/v2/admin/created-on-push/blobs/uploads/");
        Assert.Equal(HttpStatusCode.NotFound, rejected.StatusCode);

        await ReadJsonAsync(await PatchAsync(admin, """{"general":{"createRepositoryOnPush":true}}"""));
        var manifest = await registry.PushImageAsync("admin/created-on-push", "latest");

        using var repository = await admin.GetAsync("/repositories/admin/created-on-push");
        await AssertStatusAsync(repository, HttpStatusCode.OK, "reading the repository that the push created");
        Assert.NotNull(manifest.Digest);
    }

    [Fact]
    public async Task PublicBaseUrl_ChangesTokenRealm()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        using var anonymous = factory.CreateRegistryClient();

        await ReadJsonAsync(await PatchAsync(admin, """{"general":{"publicBaseUrl":"https://registry.example.com/"}}"""));
        using var challenged = await anonymous.GetAsync("/v2/");

        Assert.Equal(HttpStatusCode.Unauthorized, challenged.StatusCode);
        var challenge = challenged.Headers.WwwAuthenticate.ToString();
        Assert.Contains("realm=\"https://registry.example.com/auth/token\"", challenge, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GarbageCollectionOptions_FollowPatch()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        var monitor = factory.Services.GetRequiredService<IOptionsMonitor<GarbageCollectionOptions>>();
        Assert.Null(monitor.CurrentValue.ScheduleInterval);

        await ReadJsonAsync(await PatchAsync(admin, """{"garbageCollection":{"scheduleIntervalMinutes":5,"maxDurationMinutes":15,"deleteUntagged":true}}"""));

        var options = monitor.CurrentValue;
        Assert.Equal(TimeSpan.FromMinutes(5), options.ScheduleInterval);
        Assert.Equal(TimeSpan.FromMinutes(15), options.ScheduleMaxDuration);
        Assert.True(options.ScheduleDeletesUntagged);
        Assert.Equal(TimeSpan.FromHours(1), options.GracePeriod);

        await ReadJsonAsync(await PatchAsync(admin, """{"garbageCollection":{"scheduleIntervalMinutes":0}}"""));

        Assert.Null(monitor.CurrentValue.ScheduleInterval);
    }

    [Fact]
    public async Task DatabaseUrls_ScheduleOnlineUpdate()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        var updater = factory.Services.GetRequiredService<DatabaseUpdater>();
        Assert.False(updater.IsConfigured);

        // Nothing listens on port 1 of the loopback address, so the update that this schedules fails at once.
        await ReadJsonAsync(await PatchAsync(admin, """{"scanning":{"databaseUrls":["https://127.0.0.1:1/osv/all.zip"]}}"""));

        Assert.True(updater.IsConfigured);
        await WaitUntilAsync(() => updater.Status.NextAttemptAt is not null, "the updater scheduled no update after URLs were set");

        await ReadJsonAsync(await PatchAsync(admin, """{"scanning":{"mode":"offline"}}"""));

        Assert.False(updater.IsConfigured);
        await WaitUntilAsync(() => updater.Status.NextAttemptAt is null, "the updater kept its schedule after the URLs were removed");
    }

    [Fact]
    public async Task SecondHost_SeesChangeAfterRefresh()
    {
        await using var first = new SettingsFactory();
        await using var second = new SettingsFactory(first.DataDirectory);
        using var firstAdmin = first.CreateAdminClient();
        using var secondAdmin = second.CreateAdminClient();
        using var secondRegistry = second.CreateAdminRegistryClient();
        await firstAdmin.CreateRepositoryAsync(ManagementFactory.AdminName, "app");
        await ReadJsonAsync(await secondAdmin.GetAsync("/settings"));

        await ReadJsonAsync(await PatchAsync(firstAdmin, """{"general":{"publicBaseUrl":"https://registry.example.com"},"scanning":{"enabled":false}}"""));

        await WaitUntilAsync(
            async () =>
            {
                using var response = await secondAdmin.GetAsync("/settings");
                var settings = await ReadJsonAsync(response);
                return settings.GetProperty("general").GetProperty("publicBaseUrl").GetString() == "https://registry.example.com/";
            },
            "the second host did not read the new settings");
        Assert.StartsWith("https://registry.example.com/v2/admin/app/blobs/uploads/", await secondRegistry.StartUploadAsync("admin/app"), StringComparison.Ordinal);
        Assert.False(second.Services.GetRequiredService<IOptionsMonitor<ScanningOptions>>().CurrentValue.Enabled);
    }

    [Fact]
    public async Task InvalidStoredDocument_KeepsSettingsLogsOnce()
    {
        await using var factory = new SettingsFactory();
        using var admin = factory.CreateAdminClient();
        await ReadJsonAsync(await PatchAsync(admin, """{"garbageCollection":{"scheduleTimeZone":"Europe/Berlin"}}"""));
        var settings = factory.Services.GetRequiredService<Dtr.AspNetCore.Settings.RegistrySettings>();
        var store = factory.Services.GetRequiredService<Dtr.Metadata.ISettingsStore>();

        // Another host, whose machine has this time zone, saved it.
        var saved = await store.TrySaveSettingsAsync("""{"garbageCollection":{"scheduleTimeZone":"Nowhere/City"}}""", settings.Current.Version, DateTimeOffset.UtcNow, "other");
        Assert.NotNull(saved);
        await settings.RefreshAsync(CancellationToken.None);
        await settings.RefreshAsync(CancellationToken.None);

        Assert.Equal("Europe/Berlin", settings.Current.Options.GarbageCollection.ScheduleTimeZone);
        Assert.Equal(saved.Version - 1, settings.Current.Version);
        Assert.Single(factory.Logs.Records, record => record.EventId.Id == 3403);
    }

    private static async Task<HttpResponseMessage> PatchAsync(ManagementClient client, string json)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, Prefix + "/settings")
        {
            Content = new StringContent(json, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/merge-patch+json");
        request.Headers.Authorization = client.Authorization;
        return await client.Http.SendAsync(request);
    }

    private static Task WaitUntilAsync(Func<bool> condition, string failure) =>
        WaitUntilAsync(() => Task.FromResult(condition()), failure);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow + WaitLimit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"After {WaitLimit.TotalSeconds} s: {failure}.");
            }

            await Task.Delay(100);
        }
    }
}

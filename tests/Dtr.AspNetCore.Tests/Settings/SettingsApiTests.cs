using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Dtr.AspNetCore.Tests.Management;
using Dtr.Metadata;
using Microsoft.Extensions.DependencyInjection;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Settings;

/// <summary>GET and PATCH <c>/settings</c>: the document's shape, merge patch semantics, validation and access.</summary>
public sealed class SettingsApiTests : IAsyncLifetime
{
    // Nothing listens on port 1 of the loopback address, so an online update the host starts fails at once and sends
    // no request to any other machine.
    private const string SecretUrl = "https://reader:s3cret@127.0.0.1:1/osv/all.zip?token=abc123";
    private const string RedactedUrl = "https://127.0.0.1:1/osv/all.zip?token=…";

    private readonly SettingsFactory _factory = new();
    private ManagementClient _admin = null!;

    public Task InitializeAsync()
    {
        _admin = _factory.CreateAdminClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _admin.Dispose();
        await _factory.DisposeAsync();
    }

    [Fact]
    public async Task Get_ConfiguredValuesShape()
    {
        using var response = await _admin.GetAsync("/settings");

        var settings = await ReadJsonAsync(response);
        var general = settings.GetProperty("general");
        Assert.Equal(JsonValueKind.Null, general.GetProperty("publicBaseUrl").ValueKind);
        Assert.False(general.GetProperty("createRepositoryOnPush").GetBoolean());

        var scanning = settings.GetProperty("scanning");
        Assert.True(scanning.GetProperty("enabled").GetBoolean());
        Assert.Equal("offline", scanning.GetProperty("mode").GetString());
        Assert.Equal(0, scanning.GetProperty("databaseUrls").GetArrayLength());
        Assert.Equal(1440, scanning.GetProperty("updateIntervalMinutes").GetDouble());

        var gc = settings.GetProperty("garbageCollection");
        Assert.Equal(JsonValueKind.Null, gc.GetProperty("scheduleIntervalMinutes").ValueKind);
        Assert.Equal(JsonValueKind.Null, gc.GetProperty("scheduleCron").ValueKind);
        Assert.Equal("UTC", gc.GetProperty("scheduleTimeZone").GetString());
        Assert.Equal(60, gc.GetProperty("maxDurationMinutes").GetDouble());
        Assert.False(gc.GetProperty("deleteUntagged").GetBoolean());

        var storage = settings.GetProperty("storage");
        Assert.Equal("filesystem", storage.GetProperty("blobStore").GetString());
        Assert.StartsWith(Path.GetFullPath(_factory.DataDirectory), storage.GetProperty("blobStoreLocation").GetString(), StringComparison.Ordinal);
        Assert.Equal("sqlite", storage.GetProperty("metadataStore").GetString());
        Assert.Equal(0, storage.GetProperty("blobCount").GetInt64());
        Assert.Equal(0, storage.GetProperty("totalBytes").GetInt64());

        Assert.Equal(JsonValueKind.Null, settings.GetProperty("updatedAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, settings.GetProperty("updatedBy").ValueKind);
    }

    [Fact]
    public async Task Get_StorageCountsPushedBlobs()
    {
        using var registry = _factory.CreateAdminRegistryClient();
        await _admin.CreateRepositoryAsync(ManagementFactory.AdminName, "app");
        await registry.PushBlobAsync("admin/app", new byte[100]);
        await registry.PushBlobAsync("admin/app", new byte[28]);

        using var response = await _admin.GetAsync("/settings");

        var storage = (await ReadJsonAsync(response)).GetProperty("storage");
        Assert.Equal(2, storage.GetProperty("blobCount").GetInt64());
        Assert.Equal(128, storage.GetProperty("totalBytes").GetInt64());
    }

    [Fact]
    public async Task Patch_OverridesThenNullResets()
    {
        using var patched = await PatchAsync("""
            {"garbageCollection":{"scheduleCron":"0 3 * * *","scheduleTimeZone":"Europe/Berlin","maxDurationMinutes":0,"deleteUntagged":true}}
            """);

        var settings = await ReadJsonAsync(patched);
        var gc = settings.GetProperty("garbageCollection");
        Assert.Equal("0 3 * * *", gc.GetProperty("scheduleCron").GetString());
        Assert.Equal("Europe/Berlin", gc.GetProperty("scheduleTimeZone").GetString());
        Assert.Equal(JsonValueKind.Null, gc.GetProperty("maxDurationMinutes").ValueKind);
        Assert.True(gc.GetProperty("deleteUntagged").GetBoolean());
        Assert.Equal(ManagementFactory.AdminName, settings.GetProperty("updatedBy").GetString());
        Assert.Equal(JsonValueKind.String, settings.GetProperty("updatedAt").ValueKind);

        using var read = await _admin.GetAsync("/settings");
        Assert.Equal("0 3 * * *", (await ReadJsonAsync(read)).GetProperty("garbageCollection").GetProperty("scheduleCron").GetString());

        using var reset = await PatchAsync("""{"garbageCollection":{"scheduleCron":null,"maxDurationMinutes":null}}""");

        gc = (await ReadJsonAsync(reset)).GetProperty("garbageCollection");
        Assert.Equal(JsonValueKind.Null, gc.GetProperty("scheduleCron").ValueKind);
        Assert.Equal(60, gc.GetProperty("maxDurationMinutes").GetDouble());
        Assert.Equal("Europe/Berlin", gc.GetProperty("scheduleTimeZone").GetString());
        Assert.True(gc.GetProperty("deleteUntagged").GetBoolean());
    }

    [Fact]
    public async Task Patch_SectionNullResetsEveryMember()
    {
        using var patched = await PatchAsync("""{"general":{"createRepositoryOnPush":true},"scanning":{"updateIntervalMinutes":90}}""");
        await ReadJsonAsync(patched);

        using var reset = await PatchAsync("""{"scanning":null}""");

        var settings = await ReadJsonAsync(reset);
        Assert.Equal(1440, settings.GetProperty("scanning").GetProperty("updateIntervalMinutes").GetDouble());
        Assert.True(settings.GetProperty("general").GetProperty("createRepositoryOnPush").GetBoolean());
    }

    [Fact]
    public async Task Patch_AcceptsMergePatchContentType()
    {
        using var response = await PatchAsync("""{"scanning":{"updateIntervalMinutes":90}}""", "application/merge-patch+json");

        Assert.Equal(90, (await ReadJsonAsync(response)).GetProperty("scanning").GetProperty("updateIntervalMinutes").GetDouble());
    }

    [Fact]
    public async Task Patch_NonJsonContentType415()
    {
        using var response = await PatchAsync("""{"scanning":{"enabled":false}}""", "text/plain");

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Patch_ValidatorMessagesPerMember()
    {
        using var response = await PatchAsync("""
            {"scanning":{"updateIntervalMinutes":0},"garbageCollection":{"scheduleCron":"61 * * * *","scheduleTimeZone":"Nowhere/City"}}
            """);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Equal(
            "Registry:Scanning:UpdateInterval is 00:00:00; set a value from 00:01:00 to 30.00:00:00 (the default is 1.00:00:00).",
            errors.GetProperty("$.scanning.updateIntervalMinutes")[0].GetString());
        Assert.StartsWith("Registry:GarbageCollection:ScheduleCron '61 * * * *' is invalid", errors.GetProperty("$.garbageCollection.scheduleCron")[0].GetString(), StringComparison.Ordinal);
        Assert.StartsWith("Registry:GarbageCollection:ScheduleTimeZone 'Nowhere/City' is not a time zone", errors.GetProperty("$.garbageCollection.scheduleTimeZone")[0].GetString(), StringComparison.Ordinal);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Patch_IntervalAndCronBothSetRejected()
    {
        using var response = await PatchAsync("""{"garbageCollection":{"scheduleIntervalMinutes":60,"scheduleCron":"0 3 * * *"}}""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("$.garbageCollection.scheduleIntervalMinutes")[0].GetString();
        Assert.Contains("are both set; remove one of them", message, StringComparison.Ordinal);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Patch_PublicBaseUrlWithQueryRejected()
    {
        using var response = await PatchAsync("""{"general":{"publicBaseUrl":"https://registry.example.com/?a=b"}}""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Equal(
            "Registry:PublicBaseUrl 'https://registry.example.com/?a=b' must not have a query or fragment.",
            problem.GetProperty("errors").GetProperty("$.general.publicBaseUrl")[0].GetString());
    }

    [Fact]
    public async Task Patch_UnknownAndReadOnlyMembersRejected()
    {
        using var response = await PatchAsync("""
            {"storage":{"blobCount":1},"updatedBy":"mallory","colour":"red","general":{"theme":"dark"}}
            """);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("read-only", errors.GetProperty("$.storage")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("read-only", errors.GetProperty("$.updatedBy")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("'colour' is not a settings member", errors.GetProperty("$.colour")[0].GetString(), StringComparison.Ordinal);
        Assert.Contains("'general.theme' is not a settings member", errors.GetProperty("$.general.theme")[0].GetString(), StringComparison.Ordinal);
        await AssertNothingSavedAsync();
    }

    [Theory]
    [InlineData("""{"scanning":{"enabled":"yes"}}""", "$.scanning.enabled")]
    [InlineData("""{"scanning":{"updateIntervalMinutes":1.5}}""", "$.scanning.updateIntervalMinutes")]
    [InlineData("""{"scanning":{"mode":"sometimes"}}""", "$.scanning.mode")]
    [InlineData("""{"scanning":{"databaseUrls":["not a url"]}}""", "$.scanning.databaseUrls")]
    [InlineData("""{"scanning":{"mode":"offline","databaseUrls":["https://127.0.0.1:1/a.zip"]}}""", "$.scanning.mode")]
    [InlineData("""{"scanning":{"mode":"online"}}""", "$.scanning.mode")]
    [InlineData("""{"general":{"publicBaseUrl":"registry"}}""", "$.general.publicBaseUrl")]
    [InlineData("""{"general":true}""", "$.general")]
    public async Task Patch_WrongValueRejected(string body, string path)
    {
        using var response = await PatchAsync(body);

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(path, out _), $"The errors do not name {path}: {problem}");
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Patch_InvalidJsonRejected()
    {
        using var response = await PatchAsync("""{"scanning":""");

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains("not valid JSON", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DatabaseUrls_RedactedRoundTripKeepsSecret()
    {
        using var patched = await PatchAsync($$$"""{"scanning":{"databaseUrls":["{{{SecretUrl}}}"]}}""");
        var body = await patched.Content.ReadAsStringAsync();
        Assert.DoesNotContain("s3cret", body, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", body, StringComparison.Ordinal);
        var scanning = (await ReadJsonAsync(patched)).GetProperty("scanning");
        Assert.Equal("online", scanning.GetProperty("mode").GetString());
        Assert.Equal(RedactedUrl, scanning.GetProperty("databaseUrls")[0].GetString());

        // A client that sends back what it read, with another change, keeps the credentials.
        using var roundTrip = await PatchAsync($$$"""{"scanning":{"databaseUrls":["{{{RedactedUrl}}}"],"updateIntervalMinutes":120}}""");
        await ReadJsonAsync(roundTrip);
        var stored = await _factory.Services.GetRequiredService<ISettingsStore>().GetSettingsAsync();
        Assert.NotNull(stored);
        Assert.Contains(SecretUrl, stored.Document, StringComparison.Ordinal);

        using var offline = await PatchAsync("""{"scanning":{"mode":"offline"}}""");
        scanning = (await ReadJsonAsync(offline)).GetProperty("scanning");
        Assert.Equal("offline", scanning.GetProperty("mode").GetString());
        Assert.Equal(0, scanning.GetProperty("databaseUrls").GetArrayLength());
    }

    [Fact]
    public async Task NonAdministrator_Is403()
    {
        await _admin.CreateUserAsync("alice");
        using var alice = _factory.CreateManagementClient("alice", PasswordOf("alice"));

        using var get = await alice.GetAsync("/settings");
        using var patch = await alice.PatchAsync("/settings", new { scanning = new { enabled = false } });

        var problem = await AssertProblemAsync(get, HttpStatusCode.Forbidden);
        Assert.Contains("system administrators", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(patch, HttpStatusCode.Forbidden);
        await AssertNothingSavedAsync();
    }

    [Fact]
    public async Task Anonymous_Is401()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync("/settings");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    private async Task<HttpResponseMessage> PatchAsync(string json, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, Prefix + "/settings")
        {
            Content = new StringContent(json, Encoding.UTF8),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.Authorization = _admin.Authorization;
        return await _admin.Http.SendAsync(request);
    }

    private async Task AssertNothingSavedAsync()
    {
        Assert.Null(await _factory.Services.GetRequiredService<ISettingsStore>().GetSettingsAsync());
    }
}

using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Dtr.EndToEnd.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>Switches vulnerability database updates to offline on the Security tab and uploads an archive there.</summary>
[Collection(UiCollection.Name)]
public sealed class SettingsPageTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    // Nothing listens on the discard port of the loopback address, so the online update fails at once and sends no
    // request off this machine.
    private const string UnreachableDatabaseUrl = "http://127.0.0.1:9/osv.zip";

    [Fact]
    public async Task OfflineUpload_UpdatesDatabaseStatus()
    {
        await SetDatabaseUrlsAsync([UnreachableDatabaseUrl]);

        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync("settings?tab=security");
        await Expect(ui.Heading("Settings")).ToBeVisibleAsync();
        await Expect(ui.Page.GetByText("From 1 URL", new() { Exact = true })).ToBeVisibleAsync();
        await ui.Page.EvaluateAsync("() => { window.dtrTestMarker = 'same document'; }");

        await ui.Page.GetByRole(AriaRole.Radio, new() { Name = "Offline: upload archives here" }).CheckAsync();
        await ui.Button("Save security settings").ClickAsync();
        await Expect(ui.Page.GetByText("Off (offline mode)", new() { Exact = true })).ToBeVisibleAsync();

        // One record, for an Alpine package that no image of these tests has at a vulnerable version.
        var archive = OsvArchives.TarGz(OsvArchives.Records().Where(record => record["id"]?.GetValue<string>() == OsvArchives.ZlibId));
        await ui.Field("Database archive").SetInputFilesAsync(new FilePayload { Name = "osv-zlib.tar.gz", MimeType = "application/gzip", Buffer = archive });
        await ui.Button("Upload database").ClickAsync();

        var upload = ui.Row(ui.Table("Database sources"), "upload");
        await Expect(upload).ToBeVisibleAsync();
        await Expect(upload.GetByRole(AriaRole.Cell).First).ToHaveTextAsync("1");
        await Expect(ui.Row(ui.Table("Database sources"), UiRegistryFixture.FixtureDatabaseSource).GetByRole(AriaRole.Cell).First).ToHaveTextAsync("4");
        Assert.Equal("same document", await ui.Page.EvaluateAsync<string>("() => window.dtrTestMarker"));

        var settings = await GetSettingsAsync();
        Assert.Equal("offline", settings["scanning"]?["mode"]?.GetValue<string>());
        Assert.Equal(0, settings["scanning"]?["databaseUrls"]?.AsArray().Count);
        ui.AssertNoConsoleErrors();
    }

    private async Task SetDatabaseUrlsAsync(string[] urls)
    {
        using var http = registry.HttpAs(registry.Admin);
        var patch = new JsonObject { ["scanning"] = new JsonObject { ["databaseUrls"] = new JsonArray([.. urls.Select(url => JsonValue.Create(url))]) } };
        using var response = await http.PatchAsync("api/v0/settings", new StringContent(patch.ToJsonString(), Encoding.UTF8, "application/json"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"PATCH /api/v0/settings returned {(int)response.StatusCode}; expected 200.\n{body}\n{registry.DescribeRegistry()}");
    }

    private async Task<JsonNode> GetSettingsAsync()
    {
        using var http = registry.HttpAs(registry.Admin);
        using var response = await http.GetAsync("api/v0/settings");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET /api/v0/settings returned {(int)response.StatusCode}; expected 200.\n{body}\n{registry.DescribeRegistry()}");
        return JsonNode.Parse(body)!;
    }
}

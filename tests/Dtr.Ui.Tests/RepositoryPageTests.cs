using System.Net;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>Deletes an image from the repository page and checks the registry and the page afterwards.</summary>
[Collection(UiCollection.Name)]
public sealed class RepositoryPageTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task DeleteImage_RemovesManifestAndTag()
    {
        var repository = await registry.CreateRepositoryAsync("deletes", "app", scanOnPush: false);
        var deleted = await registry.PushVulnerableImageAsync(repository, "v1", registry.Admin);
        var remaining = await registry.PushFixedImageAsync(repository, "v2", registry.Admin);

        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync($"repositories/{repository}");
        var tags = ui.Table("Tags");
        await Expect(ui.Row(tags, "v1")).ToBeVisibleAsync();

        // A value on the window survives only while the document stays the same, so it shows that no reload happened.
        await ui.Page.EvaluateAsync("() => { window.dtrTestMarker = 'same document'; }");

        await ui.Button("Delete image v1").ClickAsync();
        var dialog = ui.Dialog();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog.GetByRole(AriaRole.Heading, new() { Name = $"Delete image {UiPage.ShortDigest(deleted.Manifest.Digest)}?" })).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync("This cannot be undone.");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete", Exact = true }).ClickAsync();

        await Expect(ui.Row(tags, "v1")).ToHaveCountAsync(0);
        await Expect(ui.Row(tags, "v2")).ToBeVisibleAsync();
        Assert.Equal("same document", await ui.Page.EvaluateAsync<string>("() => window.dtrTestMarker"));

        Assert.Equal(HttpStatusCode.NotFound, await registry.GetManifestStatusAsync(repository, deleted.Manifest.Digest));
        Assert.Equal(HttpStatusCode.OK, await registry.GetManifestStatusAsync(repository, remaining.Manifest.Digest));
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task DeleteImage_CancelKeepsTag()
    {
        var repository = await registry.CreateRepositoryAsync("cancels", "app", scanOnPush: false);
        var image = await registry.PushFixedImageAsync(repository, "v1", registry.Admin);

        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.GotoAsync($"repositories/{repository}");
        await ui.Button("Delete image v1").ClickAsync();
        await ui.Dialog().GetByRole(AriaRole.Button, new() { Name = "Cancel", Exact = true }).ClickAsync();

        await Expect(ui.Dialog()).ToHaveCountAsync(0);
        await Expect(ui.Row(ui.Table("Tags"), "v1")).ToBeVisibleAsync();
        Assert.Equal(HttpStatusCode.OK, await registry.GetManifestStatusAsync(repository, image.Manifest.Digest));
        ui.AssertNoConsoleErrors();
    }
}

using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>
/// Opens every page of the interface, and the tabs of the tabbed ones, as the administrator. Each must show its
/// heading without console errors and pass axe's WCAG 2.1 A and AA rules, and none may need horizontal scrolling in a
/// 360 px wide window.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class PageTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    /// <summary>The axe-core tags of the WCAG 2.0 and 2.1 success criteria of levels A and AA.</summary>
    private static readonly List<string> WcagTags = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

    [Fact]
    public async Task Pages_ShowHeadingWithoutConsoleErrors()
    {
        var pages = await SignedInPagesAsync();
        await using var ui = await browser.OpenAsync(registry);
        await ui.GotoAsync("signin");
        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();
        await ui.SignInAsAdminAsync();

        foreach (var (path, heading) in pages)
        {
            await ui.GotoAsync(path);
            await Expect(ui.Heading(heading)).ToBeVisibleAsync();
            await ui.WaitForLoadedAsync();
        }

        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Axe_FindsNoWcagViolations()
    {
        var pages = await SignedInPagesAsync();
        await using var ui = await browser.OpenAsync(registry);
        var violations = new List<string>();

        await ui.GotoAsync("signin");
        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();
        violations.AddRange(await RunAxeAsync(ui, "signin"));

        await ui.SignInAsAdminAsync();
        foreach (var (path, heading) in pages)
        {
            await ui.GotoAsync(path);
            await Expect(ui.Heading(heading)).ToBeVisibleAsync();
            await ui.WaitForLoadedAsync();
            violations.AddRange(await RunAxeAsync(ui, path));
        }

        Assert.True(violations.Count == 0, $"axe found {violations.Count} WCAG 2.1 A or AA violations:\n{string.Join('\n', violations)}");
    }

    [Fact]
    public async Task NarrowWindow_NoHorizontalScroll()
    {
        var pages = await SignedInPagesAsync();
        await using var ui = await browser.OpenAsync(registry, width: 360, height: 740);
        var overflowing = new List<string>();

        await ui.GotoAsync("signin");
        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();
        overflowing.AddRange(await MeasureOverflowAsync(ui, "signin"));

        await ui.SignInAsAdminAsync();
        foreach (var (path, heading) in pages)
        {
            await ui.GotoAsync(path);
            await Expect(ui.Heading(heading)).ToBeVisibleAsync();
            await ui.WaitForLoadedAsync();
            overflowing.AddRange(await MeasureOverflowAsync(ui, path));
        }

        Assert.True(overflowing.Count == 0, $"Pages wider than a 360 px window:\n{string.Join('\n', overflowing)}");
    }

    /// <summary>Returns each page that needs a sign-in, with the tabs of the tabbed pages, and its level-one heading.</summary>
    private async Task<IReadOnlyList<(string Path, string Heading)>> SignedInPagesAsync()
    {
        var sample = await registry.GetSampleDataAsync();
        var repository = sample.Repository;
        var organization = sample.Organization;
        return
        [
            ("repositories", "Repositories"),
            ($"repositories/{repository}", repository),
            ($"repositories/{repository}?tab=settings", repository),
            ($"repositories/{repository}?tab=permissions", repository),
            ($"repositories/{repository}/-/images/{sample.ImageDigest}", $"{repository}@{UiPage.ShortDigest(sample.ImageDigest)}"),
            ("organizations", "Organizations"),
            ($"organizations/{organization}", organization),
            ($"organizations/{organization}?tab=owners", organization),
            ($"organizations/{organization}?tab=repositories", organization),
            ($"organizations/{organization}/teams/{sample.Team}", sample.Team),
            ("users", "Users"),
            ("account", "My account"),
            ("settings", "Settings"),
            ("settings?tab=security", "Settings"),
            ("settings?tab=gc", "Settings"),
            ("settings?tab=storage", "Settings"),
            ("settings?tab=certificate", "Settings"),
        ];
    }

    /// <summary>Runs axe on the page and describes each violation with the elements it found.</summary>
    private static async Task<IEnumerable<string>> RunAxeAsync(UiPage ui, string path)
    {
        var result = await ui.Page.RunAxe(new AxeRunOptions { RunOnly = new RunOnlyOptions { Type = "tag", Values = WcagTags } });
        return result.Violations.Select(violation =>
            $"/ui/{path}: {violation.Id} ({violation.Impact}): {violation.Help}\n" +
            string.Join('\n', violation.Nodes.Select(node => $"    {node.Target}: {node.Html}")));
    }

    /// <summary>Returns a description of the page when its document is wider than the window, and nothing otherwise.</summary>
    private static async Task<IEnumerable<string>> MeasureOverflowAsync(UiPage ui, string path)
    {
        var widths = await ui.Page.EvaluateAsync<int[]>("() => [document.scrollingElement.scrollWidth, window.innerWidth]");
        return widths[0] <= widths[1] ? [] : [$"/ui/{path}: the document is {widths[0]} px wide in a {widths[1]} px window."];
    }
}

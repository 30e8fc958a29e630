using System.Text.RegularExpressions;
using Dtr.EndToEnd.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>
/// Sets up a trusted registry through the web interface as the administrator: an organization, a team, a user in
/// it and a repository that scans on push, with the team granted read-write. The user then pushes a vulnerable
/// image with skopeo, and the repository and image pages show the tag, its digest and the scan's counts. With
/// <c>DTR_UI_SCREENSHOTS</c> set, it also saves the pictures of the main pages that the README shows.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class WalkthroughTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private const string Organization = "acme";
    private const string Team = "developers";
    private const string Developer = "dana";
    private const string RepositoryName = "web";
    private const string Repository = $"{Organization}/{RepositoryName}";
    private const string Tag = "1.0";

    private static readonly string[] SeverityLabels = ["Critical", "High", "Medium", "Low", "Unknown"];

    private readonly string _developerPassword = UiRegistryFixture.NewPassword();

    [Fact]
    public async Task Walkthrough_AdminSetsUpUserPushes()
    {
        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();

        await CreateOrganizationAsync(ui);
        await CreateTeamAsync(ui);
        await CreateUserAsync(ui);
        await AddTeamMemberAsync(ui);
        await CreateRepositoryAsync(ui);
        await GrantTeamAccessAsync(ui);

        // The developer pushes with the password the administrator gave them, as a registry client would.
        var image = await registry.PushVulnerableImageAsync(Repository, Tag, (Developer, _developerPassword));

        await AssertTagScannedAsync(ui, image.Manifest.Digest);
        await AssertImagePageAsync(ui, image.Manifest.Digest);
        await VisitRemainingPagesAsync(ui);
        ui.AssertNoConsoleErrors();
    }

    private static async Task CreateOrganizationAsync(UiPage ui)
    {
        await ui.NavigationLink("Organizations").ClickAsync();
        await Expect(ui.Heading("Organizations")).ToBeVisibleAsync();
        await ui.Button("New organization").ClickAsync();
        await ui.Field("Name").FillAsync(Organization);
        await ui.Button("Create organization").ClickAsync();

        var organizations = ui.Table("Organizations");
        await Expect(organizations.GetByRole(AriaRole.Link, new() { Name = Organization, Exact = true })).ToBeVisibleAsync();
        await organizations.GetByRole(AriaRole.Link, new() { Name = Organization, Exact = true }).ClickAsync();
        await Expect(ui.Heading(Organization)).ToBeVisibleAsync();
    }

    private static async Task CreateTeamAsync(UiPage ui)
    {
        await ui.Tab("Teams").ClickAsync();
        await ui.Field("Team name").FillAsync(Team);
        await ui.Button("Create team").ClickAsync();

        await Expect(ui.Table("Teams").GetByRole(AriaRole.Link, new() { Name = Team, Exact = true })).ToBeVisibleAsync();
    }

    private async Task CreateUserAsync(UiPage ui)
    {
        await ui.NavigationLink("Users").ClickAsync();
        await Expect(ui.Heading("Users")).ToBeVisibleAsync();
        await ui.Button("New user").ClickAsync();
        await ui.Field("User name").FillAsync(Developer);
        await ui.Field("Password").FillAsync(_developerPassword);
        await ui.Field("Email").FillAsync("dana@example.com");
        await ui.Field("Full name").FillAsync("Dana Developer");
        await ui.Button("Create user").ClickAsync();

        var row = ui.Row(ui.Table("Users"), Developer);
        await Expect(row).ToBeVisibleAsync();
        await Expect(row.GetByRole(AriaRole.Cell, new() { Name = "dana@example.com", Exact = true })).ToBeVisibleAsync();
        await ui.ScreenshotAsync("users.png");
    }

    private static async Task AddTeamMemberAsync(UiPage ui)
    {
        await ui.GotoAsync($"organizations/{Organization}/teams/{Team}");
        await Expect(ui.Heading(Team)).ToBeVisibleAsync();
        await ui.Field("User name").FillAsync(Developer);
        await ui.Button("Add member").ClickAsync();

        await Expect(ui.Row(ui.Table("Members"), Developer)).ToBeVisibleAsync();

        // The organization's team list counts the new member.
        await ui.Page.GetByRole(AriaRole.Navigation, new() { Name = "Breadcrumb" }).GetByRole(AriaRole.Link, new() { Name = Organization, Exact = true }).ClickAsync();
        await Expect(ui.Row(ui.Table("Teams"), Team).GetByRole(AriaRole.Cell).First).ToHaveTextAsync("1");
        await ui.ScreenshotAsync("organization-teams.png");
    }

    private static async Task CreateRepositoryAsync(UiPage ui)
    {
        await ui.NavigationLink("Repositories").ClickAsync();
        await Expect(ui.Heading("Repositories")).ToBeVisibleAsync();
        await ui.Button("New repository").ClickAsync();
        var form = ui.Page.GetByRole(AriaRole.Form, new() { Name = "New repository" });
        await form.GetByLabel("Namespace").SelectOptionAsync(Organization);
        await ui.Field("Name").FillAsync(RepositoryName);
        await ui.Field("Description").FillAsync("The company website");
        await ui.Field("Scan on push").CheckAsync();
        await ui.Button("Create repository").ClickAsync();

        await Expect(ui.Heading(Repository)).ToBeVisibleAsync();
    }

    private static async Task GrantTeamAccessAsync(UiPage ui)
    {
        await ui.Tab("Permissions").ClickAsync();
        await ui.Field("Team").SelectOptionAsync(Team);
        await ui.Field("Access level").SelectOptionAsync(new SelectOptionValue { Label = "Read and write" });
        await ui.Button("Grant access").ClickAsync();

        var grant = ui.Row(ui.Table("Team access"), Organization);
        await Expect(grant.GetByRole(AriaRole.Cell, new() { Name = "Read and write", Exact = true })).ToBeVisibleAsync();
        await Expect(grant.GetByRole(AriaRole.Link, new() { Name = Team, Exact = true })).ToBeVisibleAsync();
    }

    private async Task AssertTagScannedAsync(UiPage ui, string digest)
    {
        await ui.Tab("Tags").ClickAsync();
        var row = ui.Row(ui.Table("Tags"), Tag);
        await Expect(row).ToBeVisibleAsync();

        // The digest link shows the short form and carries the full digest for screen readers and as its title.
        var digestLink = row.GetByRole(AriaRole.Link, new() { Name = digest });
        await Expect(digestLink).ToBeVisibleAsync();
        await Expect(digestLink).ToHaveAttributeAsync("title", digest);

        // The page polls the tag list while the scan is queued, so the counts appear without a reload.
        var counts = row.GetByRole(AriaRole.List, new() { Name = "Vulnerabilities by severity" });
        await Expect(counts).ToBeVisibleAsync(new() { Timeout = ScanTimeoutMilliseconds });

        using var api = registry.ScanningApi(registry.Admin);
        var scan = await api.WaitForScanAsync(Repository, digest, TimeSpan.FromSeconds(30));
        Assert.True(scan["summary"]?["high"]?.GetValue<int>() >= 1, $"The scan counts no high vulnerability: {scan.ToJsonString()}");
        foreach (var label in SeverityLabels)
        {
            var count = scan["summary"]?[label.ToLowerInvariant()]?.GetValue<int>() ?? 0;
            var item = counts.GetByRole(AriaRole.Listitem).Filter(new() { HasTextRegex = new Regex($@"\b{label}$") });
            await Expect(item).ToHaveTextAsync($"{count} {label}");
        }

        await ui.ScreenshotAsync("repository-tags.png");
    }

    private static async Task AssertImagePageAsync(UiPage ui, string digest)
    {
        await ui.Row(ui.Table("Tags"), Tag).GetByRole(AriaRole.Link, new() { Name = digest }).ClickAsync();
        await Expect(ui.Heading($"{Repository}@{UiPage.ShortDigest(digest)}")).ToBeVisibleAsync();

        var vulnerabilities = ui.Table("Vulnerabilities");
        var glibc = vulnerabilities.GetByRole(AriaRole.Row).Filter(new() { HasText = OsvArchives.GlibcId });
        await Expect(glibc.First).ToBeVisibleAsync();
        await Expect(glibc.First.GetByRole(AriaRole.Cell, new() { Name = "libc6", Exact = true })).ToBeVisibleAsync();
        await Expect(glibc.First.GetByRole(AriaRole.Cell, new() { Name = ScanTestImages.FixedGlibcVersion, Exact = true })).ToBeVisibleAsync();

        // The severity is written out, not only shown as a colour.
        await Expect(glibc.First).ToContainTextAsync("High");

        await ScrollToTopAsync(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Vulnerabilities", Exact = true, Level = 2 }));
        await ui.ScreenshotAsync("image.png");
    }

    private static async Task VisitRemainingPagesAsync(UiPage ui)
    {
        await ui.NavigationLink("Repositories").ClickAsync();
        await Expect(ui.Table("Repositories").GetByRole(AriaRole.Link, new() { Name = Repository, Exact = true })).ToBeVisibleAsync();
        await ui.ScreenshotAsync("repositories.png");

        // A token created on the account page is listed after the page is opened again, which hides the secret.
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "My account: admin" }).ClickAsync();
        await Expect(ui.Heading("My account")).ToBeVisibleAsync();
        await ui.Field("Token label").FillAsync("ci-pipeline");
        await ui.Button("Create token").ClickAsync();
        await Expect(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "New access token" })).ToBeVisibleAsync();
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "My account: admin" }).ClickAsync();
        await Expect(ui.Row(ui.Table("Access tokens"), "ci-pipeline")).ToBeVisibleAsync();
        await ui.ScreenshotAsync("account-tokens.png");

        await ui.NavigationLink("Settings").ClickAsync();
        await Expect(ui.Heading("Settings")).ToBeVisibleAsync();
        await ui.Tab("Security").ClickAsync();
        await Expect(ui.Table("Database sources")).ToBeVisibleAsync();
        await ui.ScreenshotAsync("settings-security.png");

        // A dry run removes nothing and fills the history table.
        await ui.Tab("Garbage collection").ClickAsync();
        await ui.Button("Dry run").ClickAsync();
        var run = ui.Table("Garbage collection runs").GetByRole(AriaRole.Row).Nth(1);
        await Expect(run).ToBeVisibleAsync();
        await Expect(run.GetByRole(AriaRole.Cell, new() { Name = "Running", Exact = true })).ToHaveCountAsync(0);
        await ScrollToTopAsync(ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Run garbage collection", Exact = true }));
        await ui.ScreenshotAsync("settings-garbage-collection.png");
    }

    /// <summary>Scrolls the page until <paramref name="element"/> is at the top of the window.</summary>
    private static Task ScrollToTopAsync(ILocator element) => element.EvaluateAsync("element => element.scrollIntoView({ block: 'start' })");

    private static float ScanTimeoutMilliseconds => (float)TimeSpan.FromMinutes(3).TotalMilliseconds;
}

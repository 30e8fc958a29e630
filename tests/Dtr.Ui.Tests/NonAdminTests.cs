using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>
/// Signs in as a user who is not a system administrator: the administrator pages are neither linked nor served,
/// and the API behind them rejects the session.
/// </summary>
[Collection(UiCollection.Name)]
public sealed class NonAdminTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    private static readonly string[] AdministratorPages = ["users", "settings"];

    [Fact]
    public async Task Navigation_HidesAdministratorLinks()
    {
        await using var ui = await SignInAsNewUserAsync("nora");
        var navigation = ui.Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });

        await Expect(navigation.GetByRole(AriaRole.Link, new() { Name = "Repositories", Exact = true })).ToBeVisibleAsync();
        await Expect(navigation.GetByRole(AriaRole.Link, new() { Name = "Users", Exact = true })).ToHaveCountAsync(0);
        await Expect(navigation.GetByRole(AriaRole.Link, new() { Name = "Settings", Exact = true })).ToHaveCountAsync(0);
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AdministratorPages_Forbidden()
    {
        await using var ui = await SignInAsNewUserAsync("nadia");
        foreach (var page in AdministratorPages)
        {
            ui.ExpectFailedResponse($"/ui/{page}", 403);
            var response = await ui.GotoAsync(page);

            Assert.True(response.Status == 403, $"GET /ui/{page} as nadia returned {response.Status}; expected 403.");
            await Expect(ui.Heading("Access denied")).ToBeVisibleAsync();
        }

        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task AdministratorApi_ForbiddenForSession()
    {
        await using var ui = await SignInAsNewUserAsync("niels");
        foreach (var path in new[] { "/api/v0/users", "/api/v0/settings" })
        {
            // The page's request context sends the session cookie of the browser context.
            var response = await ui.Page.APIRequest.GetAsync($"http://{registry.Address}{path}");

            Assert.True(response.Status == 403, $"GET {path} with niels's session returned {response.Status}; expected 403.\n{await response.TextAsync()}");
        }
    }

    /// <summary>Creates a user who is not an administrator, through the API, and signs in as them in a new page.</summary>
    private async Task<UiPage> SignInAsNewUserAsync(string userName)
    {
        var password = UiRegistryFixture.NewPassword();
        using (var admin = registry.AdminApi())
        {
            await admin.CreateUserAsync(userName, password);
        }

        var ui = await browser.OpenAsync(registry);
        try
        {
            await ui.SignInAsync(userName, password);
            return ui;
        }
        catch
        {
            await ui.DisposeAsync();
            throw;
        }
    }
}

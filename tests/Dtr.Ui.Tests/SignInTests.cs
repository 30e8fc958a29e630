using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>Signs in and out through the sign-in page with the mouse and with the keyboard alone.</summary>
[Collection(UiCollection.Name)]
public sealed class SignInTests(UiRegistryFixture registry, BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task WrongPassword_ShowsAlert()
    {
        await using var ui = await browser.OpenAsync(registry);
        await ui.GotoAsync("signin");
        await ui.Field("User name").FillAsync(registry.Admin.UserName);
        await ui.Field("Password or access token").FillAsync("not-the-password");
        await ui.Button("Sign in").ClickAsync();

        await Expect(ui.Page.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task RightPassword_ReachesRepositories()
    {
        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();

        await Expect(ui.Page).ToHaveURLAsync($"{registry.UiUrl}repositories");
        await Expect(ui.Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" })).ToBeVisibleAsync();
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task SignOut_ReturnsToSignIn()
    {
        await using var ui = await browser.OpenAsync(registry);
        await ui.SignInAsAdminAsync();
        await ui.Button("Sign out").ClickAsync();

        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();

        // The session cookie is gone too, so opening a page shows the sign-in page again.
        await ui.GotoAsync("repositories");
        await Expect(ui.Heading("Sign in to Dtr")).ToBeVisibleAsync();
        ui.AssertNoConsoleErrors();
    }

    [Fact]
    public async Task Keyboard_SubmitsSignInForm()
    {
        await using var ui = await browser.OpenAsync(registry);
        await ui.GotoAsync("signin");
        await Expect(ui.Heading("Sign in to Dtr")).ToBeFocusedAsync();

        // From the focused heading, Tab reaches the user name and then the password, and Enter submits the form.
        await ui.Page.Keyboard.PressAsync("Tab");
        await Expect(ui.Field("User name")).ToBeFocusedAsync();
        await ui.Page.Keyboard.TypeAsync(registry.Admin.UserName);
        await ui.Page.Keyboard.PressAsync("Tab");
        await Expect(ui.Field("Password or access token")).ToBeFocusedAsync();
        await ui.Page.Keyboard.TypeAsync(registry.Admin.Password);
        await ui.Page.Keyboard.PressAsync("Enter");

        await Expect(ui.Heading("Repositories")).ToBeVisibleAsync();
        ui.AssertNoConsoleErrors();
    }
}

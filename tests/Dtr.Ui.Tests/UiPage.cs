using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dtr.Ui.Tests;

/// <summary>
/// A page of the web interface in its own browser context, with the errors the page logged to its console and the
/// script errors it raised. Disposing it closes the context.
/// </summary>
internal sealed partial class UiPage : IAsyncDisposable
{
    private readonly UiRegistryFixture _registry;
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];
    private readonly List<(string Path, int Status)> _expectedFailures = [];

    public UiPage(UiRegistryFixture registry, IBrowserContext context, IPage page)
    {
        _registry = registry;
        _context = context;
        Page = page;

        // The application requests the session on every load, and the API returns 401 until someone signs in (or
        // when a password is wrong). Chromium logs each such response as a console error.
        ExpectFailedResponse("/api/v0/session", 401);
        page.Console += (_, message) => KeepConsoleError(message);
        page.PageError += (_, error) => Keep($"Uncaught script error: {error}");
    }

    public IPage Page { get; }

    /// <summary>
    /// Opens a page of the interface by its path below <c>/ui/</c>, such as <c>repositories/acme/web</c>, and returns
    /// the server's response to the page request.
    /// </summary>
    public async Task<IResponse> GotoAsync(string path)
    {
        var response = await Page.GotoAsync(path);
        Assert.True(response is not null, $"Opening /ui/{path} returned no response.");
        return response;
    }

    /// <summary>Waits until no loading indicator is left on the page, so its content has been rendered.</summary>
    public Task WaitForLoadedAsync() =>
        Expect(Page.GetByRole(AriaRole.Status).Filter(new() { HasTextRegex = LoadingText() })).ToHaveCountAsync(0);

    /// <summary>
    /// Signs in on the sign-in page with a user name and password, then waits until the Repositories page, where the
    /// interface lands after signing in, shows its heading.
    /// </summary>
    public async Task SignInAsync(string userName, string password)
    {
        await GotoAsync("signin");
        await Field("User name").FillAsync(userName);
        await Field("Password or access token").FillAsync(password);
        await Page.GetByRole(AriaRole.Button, new() { Name = "Sign in", Exact = true }).ClickAsync();
        await Expect(Heading("Repositories")).ToBeVisibleAsync();
    }

    /// <summary>Signs in as the registry's bootstrap administrator.</summary>
    public Task SignInAsAdminAsync() => SignInAsync(_registry.Admin.UserName, _registry.Admin.Password);

    /// <summary>Returns a digest as the pages show it: the algorithm and the first 12 hexadecimal digits.</summary>
    public static string ShortDigest(string digest) => digest[..(digest.IndexOf(':', StringComparison.Ordinal) + 13)];

    /// <summary>Returns the level-one heading with exactly this text.</summary>
    public ILocator Heading(string text) => Page.GetByRole(AriaRole.Heading, new() { Name = text, Exact = true, Level = 1 });

    /// <summary>Returns the button with exactly this accessible name.</summary>
    public ILocator Button(string name) => Page.GetByRole(AriaRole.Button, new() { Name = name, Exact = true });

    /// <summary>Returns the link with exactly this accessible name.</summary>
    public ILocator Link(string name) => Page.GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    /// <summary>Returns the link with exactly this name in the main navigation of the page header.</summary>
    public ILocator NavigationLink(string name) =>
        Page.GetByRole(AriaRole.Navigation, new() { Name = "Main" }).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    /// <summary>Returns the tab with exactly this name.</summary>
    public ILocator Tab(string name) => Page.GetByRole(AriaRole.Tab, new() { Name = name, Exact = true });

    /// <summary>
    /// Returns the form control whose label is exactly this text, or this text followed by the asterisk that marks a
    /// required field.
    /// </summary>
    public ILocator Field(string label) => Page.GetByLabel(new Regex($@"^{Regex.Escape(label)}\s*\*?$"));

    /// <summary>Returns the table whose caption is exactly this text.</summary>
    public ILocator Table(string caption) => Page.GetByRole(AriaRole.Table, new() { Name = caption, Exact = true });

    /// <summary>Returns the rows of <paramref name="table"/> whose row header (first cell) is exactly <paramref name="header"/>.</summary>
    public ILocator Row(ILocator table, string header) =>
        table.GetByRole(AriaRole.Row).Filter(new() { Has = Page.GetByRole(AriaRole.Rowheader, new() { Name = header, Exact = true }) });

    /// <summary>Returns the open modal dialog.</summary>
    public ILocator Dialog() => Page.GetByRole(AriaRole.Dialog);

    /// <summary>Treats a console error for a response with this status from this path as expected.</summary>
    public void ExpectFailedResponse(string path, int status)
    {
        lock (_errors)
        {
            _expectedFailures.Add((path, status));
        }
    }

    /// <summary>Asserts that the page logged no console error and raised no script error other than the expected ones.</summary>
    public void AssertNoConsoleErrors()
    {
        lock (_errors)
        {
            Assert.True(_errors.Count == 0, $"The page logged {_errors.Count} errors:\n{string.Join('\n', _errors)}");
        }
    }

    /// <summary>
    /// Saves a screenshot of the viewport as <paramref name="fileName"/> in the folder that the <c>DTR_UI_SCREENSHOTS</c>
    /// environment variable names, and does nothing when it is not set.
    /// </summary>
    public async Task ScreenshotAsync(string fileName)
    {
        if (Environment.GetEnvironmentVariable("DTR_UI_SCREENSHOTS") is not { Length: > 0 } directory)
        {
            return;
        }

        Directory.CreateDirectory(directory);

        // Toasts disappear on a timer, so they are removed to keep the pictures the same from run to run. A script
        // run through Playwright is not subject to the page's Content-Security-Policy, which blocks inline styles.
        await Page.EvaluateAsync("() => document.querySelectorAll('#toasts > *').forEach((toast) => toast.remove())");
        await Page.ScreenshotAsync(new() { Path = Path.Combine(directory, fileName), Animations = ScreenshotAnimations.Disabled, Caret = ScreenshotCaret.Hide });
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    private void KeepConsoleError(IConsoleMessage message)
    {
        if (message.Type != "error")
        {
            return;
        }

        // Playwright gives the location as "url:line:column".
        var location = message.Location;
        var resource = SourceLocation().Match(location) is { Success: true } parts ? parts.Groups["url"].Value : location;
        if (FailedResourceStatus().Match(message.Text) is { Success: true } failure && Uri.TryCreate(resource, UriKind.Absolute, out var url))
        {
            var status = int.Parse(failure.Groups["status"].Value, System.Globalization.CultureInfo.InvariantCulture);
            lock (_errors)
            {
                if (_expectedFailures.Contains((url.AbsolutePath, status)))
                {
                    return;
                }
            }
        }

        Keep($"Console error at {location}: {message.Text}");
    }

    private void Keep(string error)
    {
        lock (_errors)
        {
            _errors.Add(error);
        }
    }

    [GeneratedRegex(@"^Failed to load resource: the server responded with a status of (?<status>\d{3})")]
    private static partial Regex FailedResourceStatus();

    [GeneratedRegex("^Loading")]
    private static partial Regex LoadingText();

    [GeneratedRegex(@"^(?<url>.*):\d+:\d+$")]
    private static partial Regex SourceLocation();
}

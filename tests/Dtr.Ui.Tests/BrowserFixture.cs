using Microsoft.Playwright;

namespace Dtr.Ui.Tests;

/// <summary>
/// One headless Chromium for a test class. Each test opens its own browser context through <see cref="OpenAsync"/>,
/// so cookies and storage never pass from one test to the next.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    /// <summary>How long an auto-waiting assertion waits by default, which is generous because other test runs may share the cores.</summary>
    public const float ExpectTimeoutMilliseconds = 15_000;

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public async Task InitializeAsync()
    {
        (_playwright, _browser) = await Chromium.LaunchAsync();
        Assertions.SetDefaultExpectTimeout(ExpectTimeoutMilliseconds);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
    }

    /// <summary>Opens a page in a new context whose base URL is the web interface of <paramref name="registry"/>.</summary>
    /// <param name="width">The viewport's width in CSS pixels, 1280 unless a test checks a narrow window.</param>
    /// <param name="height">The viewport's height in CSS pixels.</param>
    internal async Task<UiPage> OpenAsync(UiRegistryFixture registry, int width = 1280, int height = 800)
    {
        var browser = _browser ?? throw new InvalidOperationException("The browser has not started.");
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = registry.UiUrl,
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        return new UiPage(registry, context, page);
    }
}

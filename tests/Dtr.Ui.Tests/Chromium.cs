using Microsoft.Playwright;

namespace Dtr.Ui.Tests;

/// <summary>
/// Starts Debian's Chromium through Playwright. The tests never download a browser of their own, so the package
/// must be installed (scripts/test.sh installs it with apt-get).
/// </summary>
internal static class Chromium
{
    /// <summary>Where Debian's <c>chromium</c> package installs the browser.</summary>
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>
    /// Headless, without the sandbox (the tests run as root in CI), and without the background connections to
    /// Google's services, which this machine's closed network refuses. Playwright gives each launch a new empty
    /// profile directory and deletes it when the browser closes.
    /// </summary>
    private static readonly string[] Arguments =
    [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ];

    /// <summary>Starts Playwright's driver and a headless Chromium, or fails with the install command when Chromium is missing.</summary>
    public static async Task<(IPlaywright Playwright, IBrowser Browser)> LaunchAsync()
    {
        if (!File.Exists(ExecutablePath))
        {
            throw new InvalidOperationException(
                $"Chromium was not found at {ExecutablePath}, and the web interface tests need it. Install Debian's " +
                "package with 'apt-get install chromium' (scripts/test.sh does this when run as root). " +
                "Do not run 'playwright install': the tests use only the system browser.");
        }

        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                Args = Arguments,
                Timeout = 60_000,
            });
            return (playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Net.Http.Headers;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// A client that behaves like a browser of the web interface: it keeps the session cookie from the last
/// <c>Set-Cookie</c> and sends it with every request, and sends <c>X-CSRF-Token</c> only when a test passes a token.
/// Cookies are handled here rather than by a cookie container, so tests can read the cookie's attributes and send
/// a <c>Secure</c> cookie over plain HTTP.
/// </summary>
public sealed class SessionBrowser : IDisposable
{
    public const string CookieName = "dtr_session";

    public SessionBrowser(RegistryFactory factory, string baseAddress = "http://localhost")
    {
        Http = factory.CreateClient(new WebApplicationFactoryClientOptions
        {
            AllowAutoRedirect = false,
            HandleCookies = false,
            BaseAddress = new Uri(baseAddress),
        });
    }

    public HttpClient Http { get; }

    /// <summary>The value of the session cookie the browser holds, or null.</summary>
    public string? Cookie { get; set; }

    /// <summary>The antiforgery token of the last session response.</summary>
    public string? CsrfToken { get; private set; }

    /// <summary>Signs in, asserts success and returns the session response body.</summary>
    public async Task<JsonElement> SignInAsync(string userName, string password)
    {
        using var response = await PostSessionAsync(new { userName, password });
        return await ManagementClient.ReadJsonAsync(response);
    }

    /// <summary>Sends <c>POST /api/v0/session</c> with a JSON body and keeps the cookie and token it returns.</summary>
    public async Task<HttpResponseMessage> PostSessionAsync(object body)
    {
        var response = await SendAsync(HttpMethod.Post, "/session", body);
        if (response.StatusCode == HttpStatusCode.OK)
        {
            using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            CsrfToken = document.RootElement.GetProperty("csrfToken").GetString();
        }

        return response;
    }

    /// <summary>
    /// Sends a request to <c>/api/v0</c> + <paramref name="path"/> with the cookie, a JSON body when given, and the
    /// <c>X-CSRF-Token</c> header when <paramref name="csrfToken"/> is not null. Applies any <c>Set-Cookie</c> of the
    /// session cookie to <see cref="Cookie"/>.
    /// </summary>
    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null, string? csrfToken = null, string? authorization = null)
    {
        using var request = new HttpRequestMessage(method, ManagementClient.Prefix + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (Cookie is not null)
        {
            request.Headers.Add("Cookie", $"{CookieName}={Cookie}");
        }

        if (csrfToken is not null)
        {
            request.Headers.Add("X-CSRF-Token", csrfToken);
        }

        if (authorization is not null)
        {
            request.Headers.Add("Authorization", authorization);
        }

        var response = await Http.SendAsync(request);
        if (SessionCookie(response) is { } cookie)
        {
            Cookie = cookie.Expires < DateTimeOffset.UtcNow ? null : cookie.Value.ToString();
        }

        return response;
    }

    /// <summary>Returns the session cookie that <paramref name="response"/> sets, or null.</summary>
    public static SetCookieHeaderValue? SessionCookie(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Set-Cookie", out var values))
        {
            return null;
        }

        return values.Select(value => SetCookieHeaderValue.Parse(value)).SingleOrDefault(cookie => cookie.Name == CookieName);
    }

    public void Dispose() => Http.Dispose();
}

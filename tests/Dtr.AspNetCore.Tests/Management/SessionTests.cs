using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Net.Http.Headers;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class SessionTests : IClassFixture<ManagementFactory>
{
    private const string InvalidSessionMessage = "Your session has expired or is invalid; sign in again.";
    private const string InvalidCsrfMessage = "The request's antiforgery token is missing or invalid; reload the page and retry.";

    private readonly ManagementFactory _factory;

    public SessionTests(ManagementFactory factory) => _factory = factory;

    [Fact]
    public async Task SignIn_WithPassword_ReturnsSession()
    {
        await CreateUserAsync("sess-pw");
        using var browser = new SessionBrowser(_factory);
        var before = DateTimeOffset.UtcNow;

        using var response = await browser.PostSessionAsync(new { userName = "sess-pw", password = PasswordOf("sess-pw") });

        var body = await ReadJsonAsync(response);
        Assert.Equal("sess-pw", body.GetProperty("userName").GetString());
        Assert.False(body.GetProperty("isAdmin").GetBoolean());
        Assert.True(body.GetProperty("authenticationEnabled").GetBoolean());
        Assert.Equal(22, body.GetProperty("csrfToken").GetString()!.Length);
        var expiresText = body.GetProperty("expiresAt").GetString()!;
        Assert.EndsWith("Z", expiresText, StringComparison.Ordinal);
        var expiresAt = DateTimeOffset.Parse(expiresText, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(expiresAt, before.AddHours(8).AddSeconds(-2), DateTimeOffset.UtcNow.AddHours(8).AddSeconds(1));
        Assert.Equal(5, body.EnumerateObject().Count());
        Assert.Equal("no-store", RegistryClient.Header(response, "Cache-Control"));
        Assert.NotNull(browser.Cookie);
    }

    [Fact]
    public async Task SignIn_CookieAttributes()
    {
        await CreateUserAsync("sess-cookie");
        using var browser = new SessionBrowser(_factory);

        using var response = await browser.PostSessionAsync(new { userName = "sess-cookie", password = PasswordOf("sess-cookie") });

        await AssertStatusAsync(response, HttpStatusCode.OK, "signing in");
        var cookie = SessionBrowser.SessionCookie(response);
        Assert.NotNull(cookie);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(Microsoft.Net.Http.Headers.SameSiteMode.Strict, cookie.SameSite);
        Assert.Equal("/", cookie.Path.ToString());
        Assert.False(cookie.Secure);
        Assert.NotNull(cookie.Expires);
    }

    [Fact]
    public async Task SignIn_OverHttps_SetsSecure()
    {
        await CreateUserAsync("sess-https");
        using var browser = new SessionBrowser(_factory, "https://localhost");

        using var response = await browser.PostSessionAsync(new { userName = "sess-https", password = PasswordOf("sess-https") });

        await AssertStatusAsync(response, HttpStatusCode.OK, "signing in over https");
        Assert.True(SessionBrowser.SessionCookie(response)!.Secure);
    }

    [Fact]
    public async Task SignIn_WithAccessToken()
    {
        await CreateUserAsync("sess-pat");
        using var owner = _factory.CreateManagementClient("sess-pat", PasswordOf("sess-pat"));
        using var created = await owner.PostAsync("/users/sess-pat/tokens", new { label = "ui" });
        var token = (await ReadJsonAsync(created, HttpStatusCode.Created)).GetProperty("token").GetString()!;
        using var browser = new SessionBrowser(_factory);

        var session = await browser.SignInAsync("sess-pat", token);
        using var user = await browser.SendAsync(HttpMethod.Get, "/users/sess-pat");
        using var newToken = await browser.SendAsync(HttpMethod.Post, "/users/sess-pat/tokens", new { label = "more" }, browser.CsrfToken);

        Assert.Equal("sess-pat", session.GetProperty("userName").GetString());
        await AssertStatusAsync(user, HttpStatusCode.OK, "reading the user with the session");

        // A session is as strong as its sign-in, so one started with a token cannot create tokens.
        var problem = await AssertProblemAsync(newToken, HttpStatusCode.Forbidden);
        Assert.Contains("a browser session started with a personal access token", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SignIn_WrongPassword_Is401()
    {
        await CreateUserAsync("sess-wrong");
        using var browser = new SessionBrowser(_factory);

        using var response = await browser.PostSessionAsync(new { userName = "sess-wrong", password = "not-the-password" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(RegistryAuthenticator.InvalidCredentialsMessage, problem.GetProperty("detail").GetString());
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
        Assert.Null(SessionBrowser.SessionCookie(response));
    }

    [Fact]
    public async Task SignIn_NonJsonBody_Is415()
    {
        using var browser = new SessionBrowser(_factory);
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/session")
        {
            Content = new StringContent("userName=admin&password=x", Encoding.UTF8, "application/x-www-form-urlencoded"),
        };

        using var response = await browser.Http.SendAsync(request);

        await AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task SignIn_MissingPassword_Is400()
    {
        using var browser = new SessionBrowser(_factory);

        using var response = await browser.PostSessionAsync(new { userName = "admin" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("password", out _));
    }

    [Fact]
    public async Task GetSession_ReturnsSameSession()
    {
        await CreateUserAsync("sess-get");
        using var browser = new SessionBrowser(_factory);
        var signedIn = await browser.SignInAsync("sess-get", PasswordOf("sess-get"));

        using var response = await browser.SendAsync(HttpMethod.Get, "/session");

        var body = await ReadJsonAsync(response);
        Assert.Equal("sess-get", body.GetProperty("userName").GetString());
        Assert.Equal(signedIn.GetProperty("csrfToken").GetString(), body.GetProperty("csrfToken").GetString());
        Assert.Equal(signedIn.GetProperty("expiresAt").GetString(), body.GetProperty("expiresAt").GetString());
        Assert.True(body.GetProperty("authenticationEnabled").GetBoolean());
    }

    [Fact]
    public async Task GetSession_WithoutCookie_Is401WithoutChallenge()
    {
        using var browser = new SessionBrowser(_factory);

        using var response = await browser.SendAsync(HttpMethod.Get, "/session");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Fact]
    public async Task GetSession_GarbageCookie_Is401AndDeletesCookie()
    {
        using var browser = new SessionBrowser(_factory) { Cookie = "not-a-token" };

        using var response = await browser.SendAsync(HttpMethod.Get, "/session");

        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(InvalidSessionMessage, problem.GetProperty("detail").GetString());
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
        Assert.Null(browser.Cookie);
    }

    [Fact]
    public async Task ManagementGet_WithCookie_Works()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        using var response = await browser.SendAsync(HttpMethod.Get, "/users");

        var body = await ReadJsonAsync(response);
        Assert.Contains(ManagementFactory.AdminName, NamesIn(body, "users"));
    }

    [Fact]
    public async Task UnsafeRequest_NeedsCsrfToken()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        using var missing = await browser.SendAsync(HttpMethod.Post, "/organizations", new { name = "sess-csrf" });
        using var wrong = await browser.SendAsync(HttpMethod.Post, "/organizations", new { name = "sess-csrf" }, "AAAAAAAAAAAAAAAAAAAAAA");
        using var right = await browser.SendAsync(HttpMethod.Post, "/organizations", new { name = "sess-csrf" }, browser.CsrfToken);

        var missingProblem = await AssertProblemAsync(missing, HttpStatusCode.Forbidden);
        Assert.Equal(InvalidCsrfMessage, missingProblem.GetProperty("detail").GetString());
        var wrongProblem = await AssertProblemAsync(wrong, HttpStatusCode.Forbidden);
        Assert.Equal(InvalidCsrfMessage, wrongProblem.GetProperty("detail").GetString());
        await AssertStatusAsync(right, HttpStatusCode.Created, "creating an organization with the antiforgery token");
    }

    [Fact]
    public async Task UnsafeRequest_OtherSessionsToken_Is403()
    {
        using var first = new SessionBrowser(_factory);
        using var second = new SessionBrowser(_factory);
        await first.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        await second.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        using var response = await first.SendAsync(HttpMethod.Post, "/organizations", new { name = "sess-other" }, second.CsrfToken);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task PasswordSession_MayChangePassword_ThenEnds()
    {
        await CreateUserAsync("sess-change");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-change", PasswordOf("sess-change"));

        using var changed = await browser.SendAsync(HttpMethod.Patch, "/users/sess-change", new { password = "another-password-1" }, browser.CsrfToken);
        using var after = await browser.SendAsync(HttpMethod.Get, "/users/sess-change");

        await AssertStatusAsync(changed, HttpStatusCode.OK, "changing the password with a password session");
        var problem = await AssertProblemAsync(after, HttpStatusCode.Unauthorized);
        Assert.Equal(InvalidSessionMessage, problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task PasswordChange_EndsSession()
    {
        await CreateUserAsync("sess-reset");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-reset", PasswordOf("sess-reset"));
        using var admin = _factory.CreateAdminClient();

        using var changed = await admin.PatchAsync("/users/sess-reset", new { password = "reset-password-1" });
        using var response = await browser.SendAsync(HttpMethod.Get, "/users/sess-reset");

        await AssertStatusAsync(changed, HttpStatusCode.OK, "resetting the password");
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal(InvalidSessionMessage, problem.GetProperty("detail").GetString());
        Assert.False(response.Headers.Contains("WWW-Authenticate"));
    }

    [Fact]
    public async Task RevokedAccessToken_EndsSession()
    {
        await CreateUserAsync("sess-revoke");
        using var owner = _factory.CreateManagementClient("sess-revoke", PasswordOf("sess-revoke"));
        using var created = await owner.PostAsync("/users/sess-revoke/tokens", new { label = "ui" });
        var token = await ReadJsonAsync(created, HttpStatusCode.Created);
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-revoke", token.GetProperty("token").GetString()!);

        using var revoked = await owner.DeleteAsync("/users/sess-revoke/tokens/" + token.GetProperty("id").GetString());
        using var response = await browser.SendAsync(HttpMethod.Get, "/users/sess-revoke");

        await AssertStatusAsync(revoked, HttpStatusCode.NoContent, "revoking the token");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task DeactivatedUser_Is401()
    {
        await CreateUserAsync("sess-inactive");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-inactive", PasswordOf("sess-inactive"));
        using var admin = _factory.CreateAdminClient();

        using var deactivated = await admin.PatchAsync("/users/sess-inactive", new { isActive = false });
        using var response = await browser.SendAsync(HttpMethod.Get, "/users/sess-inactive");
        using var session = await browser.SendAsync(HttpMethod.Get, "/session");

        await AssertStatusAsync(deactivated, HttpStatusCode.OK, "deactivating the user");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        await AssertProblemAsync(session, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RecreatedUser_Is401()
    {
        await CreateUserAsync("sess-recreate");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-recreate", PasswordOf("sess-recreate"));
        var cookie = browser.Cookie;
        using var admin = _factory.CreateAdminClient();

        using var deleted = await admin.DeleteAsync("/users/sess-recreate");
        await AssertStatusAsync(deleted, HttpStatusCode.NoContent, "deleting the user");
        await Task.Delay(5);
        await admin.CreateUserAsync("sess-recreate");
        using var response = await browser.SendAsync(HttpMethod.Get, "/users/sess-recreate");

        Assert.NotNull(cookie);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task RegistryApi_IgnoresCookie()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        request.Headers.Add("Cookie", $"{SessionBrowser.CookieName}={browser.Cookie}");

        using var response = await browser.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer ", RegistryClient.Header(response, "WWW-Authenticate"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionToken_IsNoBearerOrRefreshToken()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/v2/");
        bearer.Headers.Authorization = new AuthenticationHeaderValue("Bearer", browser.Cookie);
        using var refresh = new HttpRequestMessage(HttpMethod.Post, "/auth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "refresh_token",
                ["refresh_token"] = browser.Cookie!,
                ["scope"] = "registry:catalog:*",
            }),
        };
        using var management = new HttpRequestMessage(HttpMethod.Get, Prefix + "/users");
        management.Headers.Authorization = new AuthenticationHeaderValue("Bearer", browser.Cookie);

        using var bearerResponse = await browser.Http.SendAsync(bearer);
        using var refreshResponse = await browser.Http.SendAsync(refresh);
        using var managementResponse = await browser.Http.SendAsync(management);

        Assert.Equal(HttpStatusCode.Unauthorized, bearerResponse.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refreshResponse.StatusCode);
        await AssertProblemAsync(managementResponse, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SignOut_NeedsCsrfToken_AndDeletesCookie()
    {
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        using var withoutToken = await browser.SendAsync(HttpMethod.Delete, "/session");
        Assert.NotNull(browser.Cookie);
        using var signedOut = await browser.SendAsync(HttpMethod.Delete, "/session", csrfToken: browser.CsrfToken);
        using var after = await browser.SendAsync(HttpMethod.Get, "/session");

        var problem = await AssertProblemAsync(withoutToken, HttpStatusCode.Forbidden);
        Assert.Equal(InvalidCsrfMessage, problem.GetProperty("detail").GetString());
        await AssertStatusAsync(signedOut, HttpStatusCode.NoContent, "signing out");
        var deletion = SessionBrowser.SessionCookie(signedOut);
        Assert.NotNull(deletion);
        Assert.True(deletion.Expires < DateTimeOffset.UtcNow);
        Assert.Equal("/", deletion.Path.ToString());
        Assert.Null(browser.Cookie);
        await AssertProblemAsync(after, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SignOut_WithoutSession_Is204()
    {
        using var browser = new SessionBrowser(_factory);

        using var response = await browser.SendAsync(HttpMethod.Delete, "/session");

        await AssertStatusAsync(response, HttpStatusCode.NoContent, "signing out without a session");
    }

    [Fact]
    public async Task AuthorizationHeader_WinsOverCookie()
    {
        await CreateUserAsync("sess-header");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        // A wrong basic credential fails although the cookie is valid.
        using var wrongBasic = await browser.SendAsync(HttpMethod.Get, "/users", authorization: BasicHeader("sess-header", "wrong").ToString());

        // The basic caller is not an administrator, although the session's user is.
        using var userBasic = await browser.SendAsync(HttpMethod.Get, "/users", authorization: BasicHeader("sess-header", PasswordOf("sess-header")).ToString());

        // With a basic credential, an unsafe request needs no antiforgery token, also when a cookie is sent.
        browser.Cookie = "not-a-token";
        using var adminBasic = await browser.SendAsync(
            HttpMethod.Post, "/organizations", new { name = "sess-header-org" }, authorization: BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword).ToString());

        await AssertProblemAsync(wrongBasic, HttpStatusCode.Unauthorized);
        Assert.Equal("Basic realm=\"Dtr\"", RegistryClient.Header(wrongBasic, "WWW-Authenticate"));
        await AssertProblemAsync(userBasic, HttpStatusCode.Forbidden);
        await AssertStatusAsync(adminBasic, HttpStatusCode.Created, "creating an organization with basic credentials and a bad cookie");
    }

    [Fact]
    public async Task SessionEvents_AreLogged()
    {
        await CreateUserAsync("sess-log");
        using var browser = new SessionBrowser(_factory);
        await browser.SignInAsync("sess-log", PasswordOf("sess-log"));
        using var signedOut = await browser.SendAsync(HttpMethod.Delete, "/session", csrfToken: browser.CsrfToken);
        await AssertStatusAsync(signedOut, HttpStatusCode.NoContent, "signing out");

        var records = _factory.Logs.Records;
        Assert.Contains(records, record => record.EventId.Id == 3114 && record.Message.Contains("sess-log", StringComparison.Ordinal));
        Assert.Contains(records, record => record.EventId.Id == 3115 && record.Message.Contains("sess-log", StringComparison.Ordinal));
        Assert.DoesNotContain(records, record => record.Message.Contains(PasswordOf("sess-log"), StringComparison.Ordinal));
        Assert.DoesNotContain(records, record => record.Message.Contains(browser.CsrfToken!, StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostStartedSession_WorksLikePasswordSession()
    {
        await CreateUserAsync("sess-sso");
        var sessions = _factory.Services.GetRequiredService<RegistrySessions>();
        var identity = _factory.Services.GetRequiredService<IIdentityStore>();
        var user = (await identity.GetUserAsync("sess-sso", CancellationToken.None))!;
        var signIn = new DefaultHttpContext();

        var started = await sessions.SignInAsync(signIn, user, new TokenSubject(user.Name, user.CreatedAt));
        var cookie = SetCookieHeaderValue.Parse(signIn.Response.Headers.SetCookie.ToString());
        var read = new DefaultHttpContext();
        read.Request.Headers.Cookie = $"{SessionBrowser.CookieName}={cookie.Value}";
        var caller = await sessions.TryReadSessionAsync(read);
        using var browser = new SessionBrowser(_factory) { Cookie = cookie.Value.ToString() };
        using var token = await browser.SendAsync(HttpMethod.Post, "/users/sess-sso/tokens", new { label = "sso" }, started.CsrfToken);

        Assert.Equal("sess-sso", started.UserName);
        Assert.Equal(SessionBrowser.CookieName, cookie.Name.ToString());
        Assert.Equal("sess-sso", caller?.UserName);
        Assert.False(caller?.IsAdmin);
        await AssertStatusAsync(token, HttpStatusCode.Created, "creating a token with a session the host started");
    }

    [Fact]
    public async Task SignIn_OtherUsersSubject_Throws()
    {
        await CreateUserAsync("sess-mismatch");
        var sessions = _factory.Services.GetRequiredService<RegistrySessions>();
        var identity = _factory.Services.GetRequiredService<IIdentityStore>();
        var user = (await identity.GetUserAsync("sess-mismatch", CancellationToken.None))!;

        await Assert.ThrowsAsync<ArgumentException>(() => sessions.SignInAsync(new DefaultHttpContext(), user, new TokenSubject("admin", user.CreatedAt)));
    }

    [Fact]
    public async Task OpenApi_ListsSessionOperations()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync("/openapi.json");

        var document = await ReadJsonAsync(response);
        var path = document.GetProperty("paths").GetProperty("/api/v0/session");
        Assert.Equal("SignIn", path.GetProperty("post").GetProperty("operationId").GetString());
        Assert.Equal("GetSession", path.GetProperty("get").GetProperty("operationId").GetString());
        Assert.Equal("SignOut", path.GetProperty("delete").GetProperty("operationId").GetString());
    }

    private async Task CreateUserAsync(string name)
    {
        using var admin = _factory.CreateAdminClient();
        await admin.CreateUserAsync(name);
    }
}

public sealed class SessionOptionTests
{
    [Fact]
    public async Task AuthDisabled_ReturnsAdministratorShape()
    {
        await using var factory = new RegistryFactory();
        using var browser = new SessionBrowser(factory);

        using var response = await browser.SendAsync(HttpMethod.Get, "/session");

        await AssertStatusAsync(response, HttpStatusCode.OK, "reading the session with authentication off");
        Assert.Equal(
            """{"userName":null,"isAdmin":true,"authenticationEnabled":false,"csrfToken":null,"expiresAt":null}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task SecureAlways_SetsSecureOverHttp()
    {
        await using var factory = new SecureCookieFactory();
        using var browser = new SessionBrowser(factory);

        using var response = await browser.PostSessionAsync(new { userName = ManagementFactory.AdminName, password = ManagementFactory.AdminPassword });

        await AssertStatusAsync(response, HttpStatusCode.OK, "signing in");
        Assert.True(SessionBrowser.SessionCookie(response)!.Secure);
    }

    [Fact]
    public async Task ExpiredSession_Is401()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var factory = new ClockFactory(clock);
        using var browser = new SessionBrowser(factory);
        await browser.SignInAsync(ManagementFactory.AdminName, ManagementFactory.AdminPassword);

        clock.Advance(TimeSpan.FromHours(7));
        using var beforeExpiry = await browser.SendAsync(HttpMethod.Get, "/users");
        clock.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(1));
        using var afterExpiry = await browser.SendAsync(HttpMethod.Get, "/users");

        await AssertStatusAsync(beforeExpiry, HttpStatusCode.OK, "using the session before it expires");
        var problem = await AssertProblemAsync(afterExpiry, HttpStatusCode.Unauthorized);
        Assert.Equal("Your session has expired or is invalid; sign in again.", problem.GetProperty("detail").GetString());
        Assert.False(afterExpiry.Headers.Contains("WWW-Authenticate"));
    }

    [Fact]
    public async Task FailedSignIns_Are429()
    {
        await using var factory = new LowLoginLimitFactory();
        using var browser = new SessionBrowser(factory);

        for (var attempt = 0; attempt < 2; attempt++)
        {
            using var failed = await browser.PostSessionAsync(new { userName = "admin", password = "wrong-password" });
            await AssertProblemAsync(failed, HttpStatusCode.Unauthorized);
        }

        using var limited = await browser.PostSessionAsync(new { userName = "admin", password = ManagementFactory.AdminPassword });

        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.Parse(RegistryClient.Header(limited, "Retry-After")!, System.Globalization.CultureInfo.InvariantCulture) > 0);
        Assert.Null(SessionBrowser.SessionCookie(limited));
    }

    [Theory]
    [InlineData("00:04:59")]
    [InlineData("30.00:00:01")]
    public void SessionLifetime_OutOfRange_IsInvalid(string lifetime)
    {
        var options = new RegistryOptions { DataDirectory = "data" };
        options.Auth.SessionLifetime = TimeSpan.Parse(lifetime, System.Globalization.CultureInfo.InvariantCulture);

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, failure => failure.StartsWith("Registry:Auth:SessionLifetime is", StringComparison.Ordinal));
    }

    [Fact]
    public void SessionCookieSecure_Undefined_IsInvalid()
    {
        var options = new RegistryOptions { DataDirectory = "data" };
        options.Auth.SessionCookieSecure = (SessionCookieSecurePolicy)7;

        var result = new RegistryOptionsValidator().Validate(null, options);

        Assert.Contains(result.Failures!, failure => failure.StartsWith("Registry:Auth:SessionCookieSecure is", StringComparison.Ordinal));
    }

    /// <summary>A management host that marks the session cookie Secure on every request.</summary>
    private sealed class SecureCookieFactory : ManagementFactory
    {
        public SecureCookieFactory()
            : base(new Dictionary<string, string?>
            {
                ["Registry:Admin:Password"] = AdminPassword,
                ["Registry:Auth:SessionCookieSecure"] = "Always",
            })
        {
        }
    }

    /// <summary>A management host whose clock the test moves.</summary>
    private sealed class ClockFactory(FakeTimeProvider clock) : ManagementFactory
    {
        protected override void ConfigureTestServices(IServiceCollection services) =>
            services.Replace(ServiceDescriptor.Singleton<TimeProvider>(clock));
    }
}

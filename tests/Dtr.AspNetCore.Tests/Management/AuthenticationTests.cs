using System.Net;
using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class AuthenticationTests : IClassFixture<ManagementFactory>
{
    private readonly ManagementFactory _factory;

    public AuthenticationTests(ManagementFactory factory) => _factory = factory;

    [Theory]
    [InlineData("/users")]
    [InlineData("/organizations")]
    [InlineData("/repositories")]
    [InlineData("/users/admin/tokens")]
    public async Task Anonymous_Is401WithBasicChallenge(string path)
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync(path);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Basic realm=\"Dtr\"", RegistryClient.Header(response, "WWW-Authenticate"));
    }

    [Fact]
    public async Task WrongPassword_Is401()
    {
        using var client = _factory.CreateManagementClient(ManagementFactory.AdminName, "not-the-password");

        using var response = await client.GetAsync("/users");

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("Basic realm=\"Dtr\"", RegistryClient.Header(response, "WWW-Authenticate"));
    }
}

/// <summary>A host that allows two failed sign-ins per user name a minute.</summary>
public sealed class LowLoginLimitFactory : ManagementFactory
{
    public LowLoginLimitFactory()
        : base(new Dictionary<string, string?>
        {
            ["Registry:Admin:Password"] = AdminPassword,
            ["Registry:Auth:FailedLoginLimit"] = "2",
        })
    {
    }
}

public sealed class LoginLimitTests : IClassFixture<LowLoginLimitFactory>
{
    private readonly LowLoginLimitFactory _factory;

    public LoginLimitTests(LowLoginLimitFactory factory) => _factory = factory;

    [Fact]
    public async Task FailedSignIns_Become429()
    {
        using var wrong = _factory.CreateManagementClient(ManagementFactory.AdminName, "wrong-password");

        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var attempt = 0; attempt < 4; attempt++)
        {
            last?.Dispose();
            last = await wrong.GetAsync("/users");
            statuses.Add(last.StatusCode);
        }

        using var limited = last!;
        Assert.Equal(HttpStatusCode.Unauthorized, statuses[0]);
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[^1]);
        await AssertProblemAsync(limited, HttpStatusCode.TooManyRequests);
        Assert.True(int.TryParse(RegistryClient.Header(limited, "Retry-After"), out var seconds), "Retry-After is not a number of seconds.");
        Assert.True(seconds > 0, $"Retry-After is {seconds}.");
    }
}

/// <summary>A host whose authenticator rejects every request as rate-limited for 90.5 seconds.</summary>
public sealed class RateLimitedFactory : ManagementFactory
{
    protected override void ConfigureTestServices(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Singleton<IRegistryAuthenticator>(new RateLimitedAuthenticator()));

    private sealed class RateLimitedAuthenticator : IRegistryAuthenticator
    {
        public ValueTask<AuthenticationOutcome> AuthenticateAsync(HttpContext context, bool allowBasic, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AuthenticationOutcome.Failure("Too many failed sign-ins for this user.", TimeSpan.FromSeconds(90.5)));
    }
}

public sealed class RateLimitTests : IClassFixture<RateLimitedFactory>
{
    private readonly RateLimitedFactory _factory;

    public RateLimitTests(RateLimitedFactory factory) => _factory = factory;

    [Fact]
    public async Task RateLimited_Is429WithRetryAfter()
    {
        using var client = _factory.CreateManagementClient(ManagementFactory.AdminName, "guess");

        using var response = await client.GetAsync("/users");

        var problem = await AssertProblemAsync(response, HttpStatusCode.TooManyRequests);
        Assert.Equal("91", RegistryClient.Header(response, "Retry-After"));
        Assert.Equal("Too many failed sign-ins for this user.", problem.GetProperty("detail").GetString());
    }
}

/// <summary>A host with <c>Registry:Auth:Enabled=false</c>.</summary>
public sealed class AuthDisabledFactory : ManagementFactory
{
    public AuthDisabledFactory()
        : base(new Dictionary<string, string?> { ["Registry:Auth:Enabled"] = "false" })
    {
    }
}

public sealed class AuthDisabledTests : IClassFixture<AuthDisabledFactory>
{
    private readonly AuthDisabledFactory _factory;

    public AuthDisabledTests(AuthDisabledFactory factory) => _factory = factory;

    [Fact]
    public async Task AuthDisabled_AnonymousIsAdministrator()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var organization = await anonymous.PostAsync("/organizations", new { name = "open-org" });
        using var users = await anonymous.GetAsync("/users");

        var created = await ReadJsonAsync(organization, HttpStatusCode.Created);
        Assert.Empty(created.GetProperty("owners").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
    }

    [Fact]
    public async Task AuthDisabled_NoAdministratorCreated()
    {
        _ = _factory.Services;
        var identity = _factory.Services.GetRequiredService<IIdentityStore>();

        Assert.Null(await identity.GetUserAsync(ManagementFactory.AdminName));
        Assert.DoesNotContain(_factory.Logs.Records, record => record.EventId.Id is 3150 or 3151);
    }
}

using System.Net;
using System.Text.RegularExpressions;
using Dtr.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>A host without <c>Registry:Admin:Password</c>, optionally on another host's data folder.</summary>
public sealed class GeneratedPasswordFactory : ManagementFactory
{
    public GeneratedPasswordFactory(string? dataDirectory = null)
        : base(dataDirectory is null
            ? new Dictionary<string, string?>()
            : new Dictionary<string, string?> { ["Registry:DataDirectory"] = dataDirectory })
    {
    }
}

public sealed partial class BootstrapTests
{
    private const int GeneratedPasswordEvent = 3150;
    private const int ConfiguredPasswordEvent = 3151;

    [Fact]
    public async Task ConfiguredPassword_CreatesAdministrator()
    {
        await using var factory = new ManagementFactory();
        using var admin = factory.CreateAdminClient();

        using var response = await admin.GetAsync($"/users/{ManagementFactory.AdminName}");

        var user = await ManagementClient.ReadJsonAsync(response);
        Assert.True(user.GetProperty("isAdmin").GetBoolean());
        Assert.Single(factory.Logs.Records, record => record.EventId.Id == ConfiguredPasswordEvent);
        Assert.DoesNotContain(factory.Logs.Records, record => record.EventId.Id == GeneratedPasswordEvent);
        Assert.DoesNotContain(factory.Logs.Records, record => record.Message.Contains(ManagementFactory.AdminPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task GeneratedPassword_LoggedOnceAndWorks()
    {
        await using var first = new GeneratedPasswordFactory();
        _ = first.Services;

        var warning = Assert.Single(first.Logs.Records, record => record.EventId.Id == GeneratedPasswordEvent);
        Assert.Equal(LogLevel.Warning, warning.Level);
        var match = GeneratedPasswordPattern().Match(warning.Message);
        Assert.True(match.Success, $"No password in: {warning.Message}");
        var password = match.Groups["password"].Value;
        Assert.True(password.Length >= 16, $"The generated password '{password}' is short.");
        Assert.Single(first.Logs.Records, record => record.Message.Contains(password, StringComparison.Ordinal));
        using (var admin = first.CreateManagementClient(ManagementFactory.AdminName, password))
        {
            using var response = await admin.GetAsync("/users");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // A second start on the same data finds the administrator and logs no password.
        await using var second = new GeneratedPasswordFactory(first.DataDirectory);
        _ = second.Services;
        Assert.DoesNotContain(second.Logs.Records, record => record.EventId.Id == GeneratedPasswordEvent);
        Assert.DoesNotContain(second.Logs.Records, record => record.Message.Contains(password, StringComparison.Ordinal));
        var users = await second.Services.GetRequiredService<IIdentityStore>().ListUsersAsync(null, 10);
        Assert.Equal([ManagementFactory.AdminName], users.Select(user => user.Name));
    }

    [GeneratedRegex("with password (?<password>\\S+);")]
    private static partial Regex GeneratedPasswordPattern();
}

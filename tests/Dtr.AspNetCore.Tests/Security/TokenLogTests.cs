using System.Net;
using Dtr.AspNetCore.Tests.Management;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Tests.Security;

/// <summary>Checks that token requests cannot flood the log: one line for all denials, and bounded client values.</summary>
public sealed class TokenLogTests : IAsyncLifetime
{
    private const string Password = "frank-password-1";
    private const string TokenEndpointsCategory = "Dtr.AspNetCore.Endpoints.TokenEndpoints";

    private readonly LoggingFactory _factory = new();

    public async Task InitializeAsync() => await _factory.CreateUserAsync("frank", Password);

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task Denials_OneLinePerRequest()
    {
        var scopes = Enumerable.Range(0, 10).Select(index => $"repository:other/repo{index}:pull,push")
            .Append("repository:Not_Valid:pull")
            .Append("unknown:thing:pull")
            .Append("registry:catalog:pull");

        using var response = await PostPasswordGrantAsync("frank", Password, string.Join(' ', scopes));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var lines = _factory.Logs.Records.Where(record => record.Category == TokenEndpointsCategory && record.Level >= LogLevel.Information).ToList();
        var line = Assert.Single(lines);
        Assert.Contains("repository:other/repo9:pull,push", line.Message, StringComparison.Ordinal);
        Assert.Contains("registry:catalog:pull", line.Message, StringComparison.Ordinal);
        Assert.Contains("2 scopes", line.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LongScopeName_TruncatedInLog()
    {
        var longName = "other/" + new string('x', 5000);

        using var response = await PostPasswordGrantAsync("frank", Password, $"repository:{longName}:pull registry:catalog:{new string('y', 5000)}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var messages = _factory.Logs.Records.Where(record => record.Category == TokenEndpointsCategory).Select(record => record.Message).ToList();
        Assert.NotEmpty(messages);
        Assert.All(messages, message => Assert.DoesNotContain(new string('x', 201), message, StringComparison.Ordinal));
        Assert.All(messages, message => Assert.DoesNotContain(new string('y', 201), message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task LongUserName_TruncatedInLog()
    {
        var longUser = new string('z', 5000);

        using var response = await PostPasswordGrantAsync(longUser, "wrong", "");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var messages = _factory.Logs.Records.Select(record => record.Message).Where(message => message.Contains("zzz", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(messages);
        Assert.All(messages, message => Assert.DoesNotContain(new string('z', 201), message, StringComparison.Ordinal));
    }

    private async Task<HttpResponseMessage> PostPasswordGrantAsync(string userName, string password, string scope)
    {
        using var client = _factory.CreateAnonymousClient();
        var form = new Dictionary<string, string> { ["grant_type"] = "password", ["username"] = userName, ["password"] = password, ["scope"] = scope };
        return await client.SendAsync(HttpMethod.Post, "/auth/token", new FormUrlEncodedContent(form));
    }

    /// <summary>An authentication host that keeps its log records, with debug messages of the registry on.</summary>
    private sealed class LoggingFactory : AuthRegistryFactory
    {
        public LoggingFactory()
            : base(new Dictionary<string, string?> { ["Logging:LogLevel:Dtr"] = "Debug" })
        {
        }

        public TestLogProvider Logs { get; } = new();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureLogging(logging => logging.AddProvider(Logs));
        }
    }
}

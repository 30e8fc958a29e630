using System.Net;
using System.Text;
using System.Text.Json;
using static Dtr.AspNetCore.Tests.Management.ManagementClient;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>How the management API rejects request bodies it cannot use.</summary>
public sealed class RequestBodyTests : IClassFixture<ManagementFactory>, IDisposable
{
    private const int MaxBodyBytes = 64 * 1024;

    private readonly ManagementClient _admin;

    public RequestBodyTests(ManagementFactory factory) => _admin = factory.CreateAdminClient();

    public void Dispose() => _admin.Dispose();

    private async Task<HttpResponseMessage> PostRawAsync(string path, HttpContent content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + path) { Content = content };
        request.Headers.Authorization = BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        return await _admin.Http.SendAsync(request);
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Theory]
    [InlineData("""{"name":"body-a","role":"owner"}""", "$.role", "unknown")]
    [InlineData("""{"name":5}""", "$.name", "must be a string")]
    [InlineData("""{"name":{"first":"x"}}""", "$.name", "must be a string")]
    [InlineData("""["body-b"]""", "$", "JSON array")]
    [InlineData("\"body-c\"", "$", "JSON string")]
    [InlineData("null", "$", "JSON null")]
    [InlineData("""{"name":""", "$", "not valid JSON")]
    [InlineData("", "$", "empty")]
    [InlineData("""{"name":"body-d","name":"body-e"}""", "$.name", "more than once")]
    [InlineData("""{"name":"body-f","Name":"body-g"}""", "$.Name", "more than once")]
    [InlineData("""{"odd key":1}""", "$['odd key']", "unknown")]
    public async Task CreateOrganization_BadBodyNamesField(string body, string path, string message)
    {
        using var response = await PostRawAsync("/organizations", Json(body));

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(path, out var fieldErrors), $"The problem names no '{path}' field: {problem}");
        Assert.Contains(message, fieldErrors[0].GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Dtr.", problem.GetRawText(), StringComparison.Ordinal);
        Assert.DoesNotContain("System.", problem.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateUser_WrongBooleanNamesField()
    {
        using var response = await _admin.PostAsync("/users", new { name = "body-user", password = "long-enough-1", isAdmin = "yes" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("$.isAdmin")[0].GetString();
        Assert.Equal("The field 'isAdmin' must be true, false or null, but it is a JSON string.", message);
    }

    [Fact]
    public async Task UnknownField_ListsAcceptedFields()
    {
        using var response = await _admin.PostAsync("/users", new { name = "body-user", password = "long-enough-1", role = "admin" });

        var problem = await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("$.role")[0].GetString();
        Assert.Equal("The field 'role' is unknown; the accepted fields are name, password, email, fullName, isAdmin.", message);
    }

    [Fact]
    public async Task OversizedBody_Is413WithLimit()
    {
        var body = JsonSerializer.Serialize(new { name = new string('a', MaxBodyBytes) });

        using var response = await PostRawAsync("/organizations", Json(body));

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OversizedChunkedBody_Is413WithLimit()
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { name = new string('a', MaxBodyBytes) }));
        var content = new StreamContent(new MemoryStream(body));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");

        using var request = new HttpRequestMessage(HttpMethod.Post, Prefix + "/organizations") { Content = content };
        request.Headers.Authorization = BasicHeader(ManagementFactory.AdminName, ManagementFactory.AdminPassword);
        request.Headers.TransferEncodingChunked = true;

        using var response = await _admin.Http.SendAsync(request);

        var problem = await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("65536 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}

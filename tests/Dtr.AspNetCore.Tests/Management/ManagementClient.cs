using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Dtr.AspNetCore.Tests.Management;

/// <summary>
/// An <see cref="HttpClient"/> for the management API that signs every request in with HTTP basic credentials,
/// plus the setup steps tests share. Each setup step asserts its own success, so a failing setup names the step.
/// </summary>
public sealed class ManagementClient : IDisposable
{
    public const string Prefix = "/api/v0";

    private readonly string? _userName;
    private readonly string? _password;

    public ManagementClient(HttpClient http, string? userName, string? password)
    {
        Http = http;
        _userName = userName;
        _password = password;
    }

    public HttpClient Http { get; }

    /// <summary>The basic credentials this client sends, or null for an anonymous client.</summary>
    public AuthenticationHeaderValue? Authorization => _userName is null ? null : BasicHeader(_userName, _password ?? "");

    public Task<HttpResponseMessage> GetAsync(string path) => SendAsync(HttpMethod.Get, path);

    public Task<HttpResponseMessage> DeleteAsync(string path) => SendAsync(HttpMethod.Delete, path);

    public Task<HttpResponseMessage> PostAsync(string path, object? body) => SendAsync(HttpMethod.Post, path, body);

    public Task<HttpResponseMessage> PutAsync(string path, object? body = null) => SendAsync(HttpMethod.Put, path, body);

    public Task<HttpResponseMessage> PatchAsync(string path, object body) => SendAsync(HttpMethod.Patch, path, body);

    /// <summary>Sends a request to <c>/api/v0</c> + <paramref name="path"/>, with <paramref name="body"/> as JSON when given.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, Prefix + path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (_userName is not null)
        {
            request.Headers.Authorization = BasicHeader(_userName, _password ?? "");
        }

        return Http.SendAsync(request);
    }

    public static AuthenticationHeaderValue BasicHeader(string userName, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(userName + ":" + password)));

    /// <summary>Creates a user with a password of <c>name + "-password"</c>.</summary>
    public async Task CreateUserAsync(string name, bool isAdmin = false)
    {
        using var response = await PostAsync("/users", new { name, password = PasswordOf(name), isAdmin });
        await AssertStatusAsync(response, HttpStatusCode.Created, $"creating user {name}");
    }

    public static string PasswordOf(string userName) => userName + "-password";

    public async Task CreateOrganizationAsync(string name)
    {
        using var response = await PostAsync("/organizations", new { name });
        await AssertStatusAsync(response, HttpStatusCode.Created, $"creating organization {name}");
    }

    public async Task CreateTeamAsync(string organization, string team, params string[] members)
    {
        using var response = await PostAsync($"/organizations/{organization}/teams", new { name = team });
        await AssertStatusAsync(response, HttpStatusCode.Created, $"creating team {organization}/{team}");
        foreach (var member in members)
        {
            using var added = await PutAsync($"/organizations/{organization}/teams/{team}/members/{member}");
            await AssertStatusAsync(added, HttpStatusCode.NoContent, $"adding {member} to team {organization}/{team}");
        }
    }

    public async Task CreateRepositoryAsync(string namespaceName, string name, string visibility = "private")
    {
        using var response = await PostAsync($"/repositories/{namespaceName}", new { name, visibility });
        await AssertStatusAsync(response, HttpStatusCode.Created, $"creating repository {namespaceName}/{name}");
    }

    public async Task GrantAsync(string repository, string team, string accessLevel)
    {
        using var response = await PutAsync($"/repositories/{repository}/teamAccess/{team}", new { accessLevel });
        await AssertStatusAsync(response, HttpStatusCode.OK, $"granting {team} {accessLevel} on {repository}");
    }

    /// <summary>Asserts the status and returns the JSON body.</summary>
    public static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        await AssertStatusAsync(response, status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a problem details response with the status and returns its body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        await AssertStatusAsync(response, status, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var problem = document.RootElement.Clone();
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("title").GetString()));
        Assert.False(string.IsNullOrEmpty(problem.GetProperty("type").GetString()));
        return problem;
    }

    public static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode status, string step)
    {
        if (response.StatusCode != status)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.Fail($"{step}: expected {(int)status}, got {(int)response.StatusCode} {body}");
        }
    }

    public static List<string> NamesIn(JsonElement list, string property, string field = "name") =>
        list.GetProperty(property).EnumerateArray().Select(item => item.GetProperty(field).GetString()!).ToList();

    public void Dispose() => Http.Dispose();
}

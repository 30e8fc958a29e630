using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Calls the management REST API under <c>/api/v0</c> with HTTP basic authentication. Each method asserts a
/// success status and puts the request, the response body and the registry's log in the failure message.
/// </summary>
internal sealed class ManagementApiClient : IDisposable
{
    private const string Prefix = "/api/v0";
    private readonly HttpClient _http;
    private readonly string _userName;
    private readonly Func<string> _describeRegistry;

    public ManagementApiClient(Uri registryRoot, string userName, string passwordOrToken, Func<string> describeRegistry)
    {
        _userName = userName;
        _describeRegistry = describeRegistry;
        _http = new HttpClient { BaseAddress = registryRoot, Timeout = TimeSpan.FromMinutes(1) };
        _http.DefaultRequestHeaders.Authorization = BasicAuthorization(userName, passwordOrToken);
    }

    /// <summary>Returns the <c>Authorization: Basic</c> header value for a user name and password.</summary>
    public static AuthenticationHeaderValue BasicAuthorization(string userName, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{password}")));

    public Task<JsonNode?> CreateUserAsync(string name, string password, string? email = null, bool isAdmin = false) =>
        SendAsync(HttpMethod.Post, "users", new JsonObject
        {
            ["name"] = name,
            ["password"] = password,
            ["email"] = email,
            ["isAdmin"] = isAdmin,
        });

    public Task<JsonNode?> CreateOrganizationAsync(string name) =>
        SendAsync(HttpMethod.Post, "organizations", new JsonObject { ["name"] = name });

    public Task<JsonNode?> CreateTeamAsync(string organization, string team) =>
        SendAsync(HttpMethod.Post, $"organizations/{organization}/teams", new JsonObject { ["name"] = team });

    public Task<JsonNode?> AddTeamMemberAsync(string organization, string team, string user) =>
        SendAsync(HttpMethod.Put, $"organizations/{organization}/teams/{team}/members/{user}", null);

    /// <summary>Creates a repository in a user's or organization's namespace.</summary>
    /// <param name="visibility"><c>public</c> or <c>private</c>.</param>
    public Task<JsonNode?> CreateRepositoryAsync(
        string @namespace, string name, string visibility, bool scanOnPush = false, bool immutableTags = false, string? description = null) =>
        SendAsync(HttpMethod.Post, $"repositories/{@namespace}", new JsonObject
        {
            ["name"] = name,
            ["visibility"] = visibility,
            ["scanOnPush"] = scanOnPush,
            ["immutableTags"] = immutableTags,
            ["description"] = description,
        });

    /// <summary>Changes the given settings of a repository (<c>PATCH</c>); fields not in <paramref name="changes"/> stay.</summary>
    public Task<JsonNode?> UpdateRepositoryAsync(string @namespace, string name, JsonObject changes) =>
        SendAsync(HttpMethod.Patch, $"repositories/{@namespace}/{name}", changes);

    /// <summary>Grants a team of the repository's organization an access level on it.</summary>
    /// <param name="accessLevel"><c>read-only</c>, <c>read-write</c> or <c>admin</c>.</param>
    public Task<JsonNode?> SetTeamAccessAsync(string @namespace, string repository, string team, string accessLevel) =>
        SendAsync(HttpMethod.Put, $"repositories/{@namespace}/{repository}/teamAccess/{team}", new JsonObject { ["accessLevel"] = accessLevel });

    /// <summary>Creates a personal access token for a user and returns its id and the token, which is shown only once.</summary>
    public async Task<(string Id, string Token)> CreateAccessTokenAsync(string user, string? label = null)
    {
        var response = await SendAsync(HttpMethod.Post, $"users/{user}/tokens", new JsonObject { ["label"] = label });
        var id = response?["id"]?.ToString();
        var token = response?["token"]?.GetValue<string>();
        Assert.True(!string.IsNullOrEmpty(id), $"POST {Prefix}/users/{user}/tokens returned no token id: {response?.ToJsonString()}");
        Assert.True(!string.IsNullOrEmpty(token), $"POST {Prefix}/users/{user}/tokens returned no token: {response?.ToJsonString()}");
        return (id!, token!);
    }

    public Task<JsonNode?> RevokeAccessTokenAsync(string user, string id) =>
        SendAsync(HttpMethod.Delete, $"users/{user}/tokens/{id}", null);

    /// <summary>Sends a request to <c>/api/v0/{path}</c>, asserts a 2xx status and returns the JSON body, or null when it is empty.</summary>
    public async Task<JsonNode?> SendAsync(HttpMethod method, string path, JsonNode? body)
    {
        using var request = new HttpRequestMessage(method, $"{Prefix}/{path}");
        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode,
            $"{method} {Prefix}/{path} as {_userName} returned {(int)response.StatusCode} {response.ReasonPhrase}; expected 2xx.\n" +
            $"Request body: {body?.ToJsonString() ?? "(none)"}\nResponse body: {text}\n{_describeRegistry()}");
        return string.IsNullOrWhiteSpace(text) ? null : JsonNode.Parse(text);
    }

    public void Dispose() => _http.Dispose();
}

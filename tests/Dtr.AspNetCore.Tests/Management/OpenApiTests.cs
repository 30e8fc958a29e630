using System.Net;
using System.Text.Json;

namespace Dtr.AspNetCore.Tests.Management;

public sealed class OpenApiTests : IClassFixture<ManagementFactory>
{
    private readonly ManagementFactory _factory;

    public OpenApiTests(ManagementFactory factory) => _factory = factory;

    [Fact]
    public async Task OpenApi_ListsManagementRoutes()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync("/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        Assert.StartsWith("3.", root.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = root.GetProperty("paths").EnumerateObject().Select(path => path.Name).ToList();
        string[] expected =
        [
            "/api/v0/users",
            "/api/v0/users/{user}",
            "/api/v0/users/{user}/tokens",
            "/api/v0/users/{user}/tokens/{id}",
            "/api/v0/organizations",
            "/api/v0/organizations/{org}",
            "/api/v0/organizations/{org}/owners/{user}",
            "/api/v0/organizations/{org}/teams",
            "/api/v0/organizations/{org}/teams/{team}",
            "/api/v0/organizations/{org}/teams/{team}/members/{user}",
            "/api/v0/repositories",
            "/api/v0/repositories/{namespace}",
            "/api/v0/repositories/{namespace}/{repo}",
            "/api/v0/repositories/{namespace}/{repo}/tags",
            "/api/v0/repositories/{namespace}/{repo}/teamAccess",
            "/api/v0/repositories/{namespace}/{repo}/teamAccess/{team}",
            "/api/v0/scanning/database",
            "/api/v0/scanning/database/update",
            "/api/v0/repositories/{namespace}/{repo}/manifests/{digest}/scan",
            "/api/v0/repositories/{namespace}/{repo}/manifests/{digest}/sbom",
            "/api/v0/repositories/{namespace}/{repo}/scanning/policy",
        ];
        foreach (var path in expected)
        {
            Assert.Contains(path, paths);
        }

        Assert.DoesNotContain(paths, path => path.StartsWith("/v2", StringComparison.Ordinal) || path.EndsWith("openapi.json", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OpenApi_OperationsNamedWithJsonBodies()
    {
        using var anonymous = _factory.CreateManagementClient();

        using var response = await anonymous.GetAsync("/openapi.json");

        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var createUser = document.RootElement.GetProperty("paths").GetProperty("/api/v0/users").GetProperty("post");
        Assert.Equal("CreateUser", createUser.GetProperty("operationId").GetString());
        Assert.False(string.IsNullOrEmpty(createUser.GetProperty("summary").GetString()));
        var content = createUser.GetProperty("requestBody").GetProperty("content").EnumerateObject().Select(c => c.Name).ToList();
        Assert.Equal(["application/json"], content);
        var operations = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject())
            .ToList();
        Assert.All(operations, operation => Assert.True(operation.Value.TryGetProperty("operationId", out _), $"An operation has no operationId: {operation.Name}"));
    }
}

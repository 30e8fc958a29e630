using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>A finished management API call: the status, the body as text and, when it is JSON, parsed.</summary>
internal sealed record ApiResponse(string Request, HttpStatusCode Status, string? ContentType, string Text)
{
    /// <summary>The body parsed as JSON, or null when it is empty or not JSON.</summary>
    public JsonNode? Json
    {
        get
        {
            try
            {
                return string.IsNullOrWhiteSpace(Text) ? null : JsonNode.Parse(Text);
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
    }

    /// <summary>Asserts the status and returns the JSON body, naming the request, the body and the registry's log on failure.</summary>
    public JsonNode AssertStatus(HttpStatusCode expected, Func<string> describeRegistry)
    {
        Assert.True(Status == expected,
            $"{Request} returned {(int)Status} {Status}; expected {(int)expected} {expected}.\nResponse body: {Text}\n{describeRegistry()}");
        return Json ?? new JsonObject();
    }
}

/// <summary>
/// Calls the scanning endpoints of the management API (<c>/api/v0/scanning/...</c> and the per-manifest scan, SBOM
/// and policy routes) with HTTP basic authentication, or anonymously when no user is given. The methods return
/// every response, so tests can check rejections as well as successes.
/// </summary>
internal sealed class ScanningApiClient : IDisposable
{
    private const string Prefix = "/api/v0";
    private static readonly string[] FinalStatuses = ["completed", "partial", "failed"];

    private readonly HttpClient _http;
    private readonly string _caller;
    private readonly Func<string> _describeRegistry;

    public ScanningApiClient(Uri registryRoot, (string UserName, string Password)? credentials, Func<string> describeRegistry)
    {
        _describeRegistry = describeRegistry;
        _caller = credentials is { } signIn ? signIn.UserName : "an anonymous caller";
        _http = new HttpClient { BaseAddress = registryRoot, Timeout = TimeSpan.FromMinutes(2) };
        if (credentials is { } user)
        {
            _http.DefaultRequestHeaders.Authorization = ManagementApiClient.BasicAuthorization(user.UserName, user.Password);
        }
    }

    public string DescribeRegistry() => _describeRegistry();

    public Task<ApiResponse> GetDatabaseAsync() => SendAsync(HttpMethod.Get, "scanning/database", null);

    /// <summary>Uploads an archive as the body, with the signature base64-encoded in <c>X-Dtr-Signature</c> when given.</summary>
    public Task<ApiResponse> UploadDatabaseAsync(byte[] archive, byte[]? signature, string? source = null)
    {
        var content = new ByteArrayContent(archive);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var headers = signature is null ? [] : new[] { ("X-Dtr-Signature", Convert.ToBase64String(signature)) };
        return SendAsync(HttpMethod.Put, DatabasePath(source), content, headers);
    }

    /// <summary>Uploads an archive as <c>multipart/form-data</c> with the parts <c>archive</c> and, when given, <c>signature</c> as raw bytes.</summary>
    public Task<ApiResponse> UploadDatabaseMultipartAsync(byte[] archive, byte[]? signature, string? source = null)
    {
        var form = new MultipartFormDataContent();
        form.Add(new ByteArrayContent(archive), "archive", "osv.tar.gz");
        if (signature is not null)
        {
            form.Add(new ByteArrayContent(signature), "signature", "osv.tar.gz.sig");
        }

        return SendAsync(HttpMethod.Put, DatabasePath(source), form);
    }

    public Task<ApiResponse> StartDatabaseUpdateAsync() => SendAsync(HttpMethod.Post, "scanning/database/update", null);

    public Task<ApiResponse> RequestScanAsync(string repository, string digest) =>
        SendAsync(HttpMethod.Post, $"{RepositoryPath(repository)}/manifests/{digest}/scan", null);

    public Task<ApiResponse> GetScanAsync(string repository, string digest, string? severity = null) =>
        SendAsync(HttpMethod.Get, $"{RepositoryPath(repository)}/manifests/{digest}/scan{(severity is null ? "" : "?severity=" + severity)}", null);

    public Task<ApiResponse> GetSbomAsync(string repository, string digest) =>
        SendAsync(HttpMethod.Get, $"{RepositoryPath(repository)}/manifests/{digest}/sbom", null);

    public Task<ApiResponse> ListTagsAsync(string repository) =>
        SendAsync(HttpMethod.Get, $"{RepositoryPath(repository)}/tags", null);

    public Task<ApiResponse> GetPolicyAsync(string repository) =>
        SendAsync(HttpMethod.Get, $"{RepositoryPath(repository)}/scanning/policy", null);

    public Task<ApiResponse> PutPolicyAsync(string repository, JsonObject policy) =>
        SendAsync(HttpMethod.Put, $"{RepositoryPath(repository)}/scanning/policy", new StringContent(policy.ToJsonString(), Encoding.UTF8, "application/json"));

    /// <summary>
    /// Polls the scan of a manifest until its status is completed, partial or failed and <paramref name="until"/>, when
    /// given, holds for the result, and returns that result. Fails with the last result after <paramref name="timeout"/>.
    /// </summary>
    public async Task<JsonNode> WaitForScanAsync(string repository, string digest, TimeSpan timeout, Func<JsonNode, bool>? until = null)
    {
        var clock = Stopwatch.StartNew();
        ApiResponse? last = null;
        while (clock.Elapsed < timeout)
        {
            last = await GetScanAsync(repository, digest);
            if (last.Status == HttpStatusCode.OK && last.Json is { } scan &&
                FinalStatuses.Contains(scan["status"]?.GetValue<string>()) && (until is null || until(scan)))
            {
                return scan;
            }

            await Task.Delay(250);
        }

        Assert.Fail(
            $"The scan of {repository}@{digest} did not reach the expected state within {timeout.TotalSeconds:F0} s.\n" +
            $"Last response: {(int?)last?.Status} {last?.Text}\n{_describeRegistry()}");
        throw new UnreachableException();
    }

    /// <summary>Returns the vulnerabilities of a scan result that have the given id.</summary>
    public static IReadOnlyList<JsonNode> Findings(JsonNode scan, string id) =>
        (scan["vulnerabilities"]?.AsArray() ?? [])
            .Where(v => v?["id"]?.GetValue<string>() == id)
            .Select(v => v!)
            .ToList();

    public void Dispose() => _http.Dispose();

    private static string DatabasePath(string? source) =>
        source is null ? "scanning/database" : $"scanning/database?source={Uri.EscapeDataString(source)}";

    private static string RepositoryPath(string repository) => $"repositories/{repository}";

    private async Task<ApiResponse> SendAsync(HttpMethod method, string path, HttpContent? content, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, $"{Prefix}/{path}") { Content = content };
        foreach (var (name, value) in headers)
        {
            request.Headers.Add(name, value);
        }

        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return new ApiResponse($"{method} {Prefix}/{path} as {_caller}", response.StatusCode, response.Content.Headers.ContentType?.MediaType, text);
    }
}

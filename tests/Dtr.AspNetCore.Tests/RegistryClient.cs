using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace Dtr.AspNetCore.Tests;

/// <summary>
/// An <see cref="HttpClient"/> for the registry API with the steps most tests share: pushing blobs and manifests
/// and reading OCI error bodies. Each step asserts its own success, so a failing setup names the step.
/// </summary>
public sealed class RegistryClient : IDisposable
{
    public const string OctetStream = "application/octet-stream";
    public const string ApiVersionHeader = "Docker-Distribution-API-Version";
    public const string ContentDigestHeader = "Docker-Content-Digest";

    public RegistryClient(HttpClient http) => Http = http;

    public HttpClient Http { get; }

    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, HttpContent? content = null, IEnumerable<(string Name, string Value)>? headers = null)
    {
        var request = new HttpRequestMessage(method, url) { Content = content };
        foreach (var (name, value) in headers ?? [])
        {
            // Content headers such as Content-Range belong to the content; HttpClient drops them from request headers.
            var added = request.Headers.TryAddWithoutValidation(name, value)
                || (request.Content?.Headers.TryAddWithoutValidation(name, value) ?? false);
            if (!added)
            {
                throw new ArgumentException($"The header {name} cannot be sent on this request; content headers need a body.", nameof(headers));
            }
        }

        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> GetAsync(string url, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Get, url, null, headers);

    public Task<HttpResponseMessage> HeadAsync(string url) => SendAsync(HttpMethod.Head, url);

    public Task<HttpResponseMessage> DeleteAsync(string url) => SendAsync(HttpMethod.Delete, url);

    /// <summary>Uploads a blob with one <c>POST ?digest=</c> and returns its sha256 digest.</summary>
    public async Task<string> PushBlobAsync(string repository, byte[] content)
    {
        var digest = TestContent.Sha256(content);
        using var response = await SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={digest}", Binary(content));
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Pushing blob {digest} to {repository} returned {await DescribeAsync(response)}.");
        return digest;
    }

    /// <summary>Starts an upload session and returns its <c>Location</c>.</summary>
    public async Task<string> StartUploadAsync(string repository)
    {
        using var response = await SendAsync(HttpMethod.Post, $"/v2/{repository}/blobs/uploads/");
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"Starting an upload in {repository} returned {await DescribeAsync(response)}.");
        return response.Headers.Location?.ToString() ?? throw new InvalidOperationException("The upload response has no Location header.");
    }

    /// <summary>Pushes a manifest and returns the <c>Docker-Content-Digest</c> of the response.</summary>
    public async Task<string> PushManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        using var response = await PutManifestAsync(repository, reference, manifest, mediaType);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"Pushing manifest {reference} to {repository} returned {await DescribeAsync(response)}.");
        return Header(response, ContentDigestHeader) ?? throw new InvalidOperationException("The manifest response has no Docker-Content-Digest header.");
    }

    public Task<HttpResponseMessage> PutManifestAsync(string repository, string reference, byte[] manifest, string mediaType)
    {
        var content = new ByteArrayContent(manifest);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return SendAsync(HttpMethod.Put, $"/v2/{repository}/manifests/{reference}", content);
    }

    /// <summary>
    /// Pushes a config blob, one layer blob and an OCI image manifest that references them, and returns the manifest.
    /// </summary>
    public async Task<TestManifest> PushImageAsync(string repository, string reference, int seed = 1)
    {
        var config = TestContent.Json($$"""{"architecture":"amd64","os":"linux","seed":{{seed}}}""");
        var layer = TestContent.RandomBytes(64, seed);
        await PushBlobAsync(repository, config);
        await PushBlobAsync(repository, layer);

        var manifest = TestContent.OciManifest(
            TestContent.Descriptor(TestContent.OciConfig, config),
            [TestContent.Descriptor(TestContent.OciLayer, layer)]);
        var digest = await PushManifestAsync(repository, reference, manifest.Bytes, manifest.MediaType);
        Assert.Equal(manifest.Digest, digest);
        return manifest;
    }

    /// <summary>Returns the tags of a repository, asserting that the listing succeeded.</summary>
    public async Task<List<string>> ListTagsAsync(string repository)
    {
        using var response = await GetAsync($"/v2/{repository}/tags/list");
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Listing tags of {repository} returned {await DescribeAsync(response)}.");
        using var document = JsonDocument.Parse(await response.Content.ReadAsByteArrayAsync());
        return document.RootElement.GetProperty("tags").EnumerateArray().Select(tag => tag.GetString()!).ToList();
    }

    /// <summary>
    /// Asserts the status and the OCI error code of a response and returns the first error object.
    /// HEAD responses have no body, so only their status is checked.
    /// </summary>
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var description = await DescribeAsync(response);
        Assert.True(response.StatusCode == status, $"Expected {(int)status} {code}, got {description}.");
        if (response.RequestMessage?.Method == HttpMethod.Head)
        {
            return default;
        }

        var error = await ReadFirstErrorAsync(response);
        Assert.True(error.ValueKind == JsonValueKind.Object, $"Expected an OCI error body, got {description}.");
        Assert.Equal(code, error.GetProperty("code").GetString());
        return error;
    }

    /// <summary>Returns <c>errors[0]</c> of an OCI error body, or an undefined element when the body is not one.</summary>
    public static async Task<JsonElement> ReadFirstErrorAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync();
        try
        {
            using var document = JsonDocument.Parse(body);
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array
                && errors.GetArrayLength() > 0)
            {
                return errors[0].Clone();
            }
        }
        catch (JsonException)
        {
        }

        return default;
    }

    /// <summary>Returns a header from the response or its content headers, joined with ", " when repeated, or null.</summary>
    public static string? Header(HttpResponseMessage response, string name)
    {
        var values = HeaderValues(response, name);
        return values.Count == 0 ? null : string.Join(", ", values);
    }

    /// <summary>Returns every value of a header, whether it came as repeated lines or one comma-separated line.</summary>
    public static List<string> HeaderValues(HttpResponseMessage response, string name)
    {
        var values = new List<string>();
        if (response.Headers.NonValidated.TryGetValues(name, out var headerValues))
        {
            values.AddRange(headerValues);
        }

        if (response.Content.Headers.NonValidated.TryGetValues(name, out var contentValues))
        {
            values.AddRange(contentValues);
        }

        return values;
    }

    /// <summary>Appends a query parameter to a URL that may already have a query.</summary>
    public static string WithQuery(string url, string parameter) => url + (url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + parameter;

    public static ByteArrayContent Binary(byte[] content)
    {
        var result = new ByteArrayContent(content);
        result.Headers.ContentType = new MediaTypeHeaderValue(OctetStream);
        return result;
    }

    /// <summary>Describes a response for assertion messages: status and body.</summary>
    public static async Task<string> DescribeAsync(HttpResponseMessage response)
    {
        var body = response.RequestMessage?.Method == HttpMethod.Head ? "" : await response.Content.ReadAsStringAsync();
        if (body.Length > 500)
        {
            body = body[..500] + "…";
        }

        return $"{(int)response.StatusCode} {body}";
    }

    public void Dispose() => Http.Dispose();
}

using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Raw OCI distribution requests against one host of <see cref="ScaledOutRegistryFixture"/>, with an optional bearer
/// token. Each method asserts the status the specification requires and puts the hosts' logs in the failure message.
/// </summary>
internal sealed class ScaledOutRequests(ScaledOutRegistryFixture fixture)
{
    /// <summary>Starts an upload with <c>POST /v2/&lt;name&gt;/blobs/uploads/</c> and returns its location as a path and query.</summary>
    public async Task<string> StartUploadAsync(ScaledOutHost host, string repository, string? token = null)
    {
        using var response = await SendAsync(host, HttpMethod.Post, $"/v2/{repository}/blobs/uploads/", token);
        await AssertStatusAsync(response, HttpStatusCode.Accepted, host, $"POST /v2/{repository}/blobs/uploads/");
        return LocationPath(host, response);
    }

    /// <summary>Sends one chunk with <c>PATCH</c> and <c>Content-Range</c>, and returns the next location.</summary>
    public async Task<string> PatchChunkAsync(ScaledOutHost host, string location, ReadOnlyMemory<byte> chunk, long offset)
    {
        using var content = new ReadOnlyMemoryContent(chunk);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        // The OCI form of Content-Range (start-end, no unit) is not the RFC 9110 form that HttpClient validates.
        content.Headers.TryAddWithoutValidation("Content-Range", $"{offset}-{offset + chunk.Length - 1}");
        using var response = await SendAsync(host, HttpMethod.Patch, location, token: null, content);
        await AssertStatusAsync(response, HttpStatusCode.Accepted, host, $"PATCH {location} (bytes {offset} to {offset + chunk.Length - 1})");

        var range = response.Headers.TryGetValues("Range", out var values) ? values.Single() : "(none)";
        Assert.True(range == $"0-{offset + chunk.Length - 1}",
            $"PATCH {location} on {host.Name} returned Range {range}; expected 0-{offset + chunk.Length - 1}.\n{fixture.DescribeHosts()}");
        return LocationPath(host, response);
    }

    /// <summary>Returns the <c>Range</c> header of <c>GET</c> on an upload's location, which reports the bytes received.</summary>
    public async Task<string> GetUploadRangeAsync(ScaledOutHost host, string location)
    {
        using var response = await SendAsync(host, HttpMethod.Get, location, token: null);
        await AssertStatusAsync(response, HttpStatusCode.NoContent, host, $"GET {location}");
        return response.Headers.TryGetValues("Range", out var values) ? values.Single() : "(none)";
    }

    /// <summary>Completes an upload with <c>PUT ?digest=</c> and no body, and returns the response for the caller to check.</summary>
    public Task<HttpResponseMessage> CompleteUploadAsync(ScaledOutHost host, string location, string digest)
    {
        var separator = location.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return SendAsync(host, HttpMethod.Put, $"{location}{separator}digest={Uri.EscapeDataString(digest)}", token: null);
    }

    /// <summary>Pushes a blob in one <c>POST ?digest=</c> request and returns its digest.</summary>
    public async Task<string> PushBlobAsync(ScaledOutHost host, string repository, byte[] content, string? token = null)
    {
        var digest = Sha256.Of(content);
        using var body = new ByteArrayContent(content);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(host, HttpMethod.Post, $"/v2/{repository}/blobs/uploads/?digest={Uri.EscapeDataString(digest)}", token, body);
        await AssertStatusAsync(response, HttpStatusCode.Created, host, $"POST /v2/{repository}/blobs/uploads/?digest={digest}");
        return digest;
    }

    /// <summary>
    /// Pushes a config blob, one layer of <paramref name="layer"/> and an OCI image manifest that references them,
    /// tagged <paramref name="tag"/>, and returns the manifest's digest.
    /// </summary>
    public async Task<string> PushImageAsync(ScaledOutHost host, string repository, string tag, byte[] layer, string? token = null)
    {
        var config = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["architecture"] = "amd64",
            ["os"] = "linux",
            ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray(Sha256.Of(layer)) },
        });
        var configDigest = await PushBlobAsync(host, repository, config, token);
        var layerDigest = await PushBlobAsync(host, repository, layer, token);

        var manifest = JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["schemaVersion"] = 2,
            ["mediaType"] = MediaTypes.OciManifest,
            ["config"] = new Descriptor(MediaTypes.OciConfig, configDigest, config.Length).ToJson(),
            ["layers"] = new JsonArray(new Descriptor(MediaTypes.OciLayerTar, layerDigest, layer.Length).ToJson()),
        });
        using var body = new ByteArrayContent(manifest);
        body.Headers.ContentType = new MediaTypeHeaderValue(MediaTypes.OciManifest);
        using var response = await SendAsync(host, HttpMethod.Put, $"/v2/{repository}/manifests/{tag}", token, body);
        await AssertStatusAsync(response, HttpStatusCode.Created, host, $"PUT /v2/{repository}/manifests/{tag}");
        return Sha256.Of(manifest);
    }

    /// <summary>Returns the status and <c>Docker-Content-Digest</c> of <c>GET</c> on a manifest.</summary>
    public async Task<(HttpStatusCode Status, string? Digest)> GetManifestAsync(ScaledOutHost host, string repository, string reference, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v2/{repository}/manifests/{reference}");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciManifest));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await host.Http.SendAsync(request);
        var digest = response.Headers.TryGetValues("Docker-Content-Digest", out var values) ? values.Single() : null;
        return (response.StatusCode, digest);
    }

    /// <summary>Returns the tags that <c>GET /v2/&lt;name&gt;/tags/list</c> lists, asserting 200.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(ScaledOutHost host, string repository)
    {
        using var response = await SendAsync(host, HttpMethod.Get, $"/v2/{repository}/tags/list", token: null);
        await AssertStatusAsync(response, HttpStatusCode.OK, host, $"GET /v2/{repository}/tags/list");
        var tags = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["tags"]?.AsArray() ?? [];
        return tags.Select(tag => tag!.GetValue<string>()).ToList();
    }

    /// <summary>Downloads a blob, asserting 200, and returns its bytes.</summary>
    public async Task<byte[]> GetBlobAsync(ScaledOutHost host, string repository, string digest)
    {
        using var response = await SendAsync(host, HttpMethod.Get, $"/v2/{repository}/blobs/{digest}", token: null);
        await AssertStatusAsync(response, HttpStatusCode.OK, host, $"GET /v2/{repository}/blobs/{digest}");
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>Sends a request to a host, with a bearer token when one is given.</summary>
    public static async Task<HttpResponseMessage> SendAsync(ScaledOutHost host, HttpMethod method, string path, string? token, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await host.Http.SendAsync(request);
    }

    /// <summary>Asserts a response's status, with the response body and every host's log in the failure message.</summary>
    public async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode expected, ScaledOutHost host, string request)
    {
        if (response.StatusCode == expected)
        {
            return;
        }

        var body = await response.Content.ReadAsStringAsync();
        Assert.Fail($"{request} on {host.Name} returned {(int)response.StatusCode}; expected {(int)expected}.\nResponse body: {body}\n{fixture.DescribeHosts()}");
    }

    /// <summary>
    /// Returns the path and query of a response's <c>Location</c>, so the next request of an upload can go to any host.
    /// Each host puts its own address, its <c>Registry:PublicBaseUrl</c>, in absolute locations.
    /// </summary>
    private string LocationPath(ScaledOutHost host, HttpResponseMessage response)
    {
        var location = response.Headers.Location;
        Assert.True(location is not null, $"{host.Name} sent no Location header with {(int)response.StatusCode}.\n{fixture.DescribeHosts()}");
        return new Uri(host.Http.BaseAddress!, location).PathAndQuery;
    }
}

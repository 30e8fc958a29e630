using System.Text.Json;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Security;
using Dtr.Errors;
using Dtr.Manifests;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// The listing endpoints: <c>/v2/&lt;name&gt;/tags/list</c>, <c>/v2/_catalog</c> and
/// <c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>.
/// </summary>
internal sealed class ListingEndpoints
{
    private readonly IMetadataStore _metadata;
    private readonly RegistryOptions _options;

    public ListingEndpoints(IMetadataStore metadata, IOptions<RegistryOptions> options)
    {
        _metadata = metadata;
        _options = options.Value;
    }

    /// <summary>Lists tags in lexical order, a page at a time, with a <c>Link</c> header when more remain.</summary>
    public async Task ListTagsAsync(HttpContext context, RepositoryName repository)
    {
        var (limit, last) = RequestParsing.ParsePagination(context.Request, _options.MaxPageSize);

        // One extra row shows whether another page follows.
        var tags = await _metadata.ListTagsAsync(repository, last, limit + 1, context.RequestAborted)
            ?? throw new RegistryException(OciErrorCode.NameUnknown, $"The repository '{repository}' does not exist.");

        var page = tags.Count > limit ? tags.Take(limit).ToList() : tags;
        if (tags.Count > limit && page.Count > 0)
        {
            AddNextLink(context, $"/v2/{repository}/tags/list", limit, page[^1]);
        }

        await WriteJsonAsync(context, "application/json", writer =>
        {
            writer.WriteString("name", repository.Value);
            WriteStringArray(writer, "tags", page);
        });
    }

    /// <summary>
    /// Lists repositories in lexical order, a page at a time, with a <c>Link</c> header when more remain. When
    /// permissions are enforced, the list holds only the repositories the caller may pull.
    /// </summary>
    public async Task ListRepositoriesAsync(HttpContext context, RequestAccess access)
    {
        var (limit, last) = RequestParsing.ParsePagination(context.Request, _options.MaxPageSize);
        var names = access.Identity is { } identity
            ? await identity.ListVisibleRepositoriesAsync(access.Caller.UserName, access.Caller.IsAdmin, last, limit + 1, context.RequestAborted)
            : await _metadata.ListRepositoriesAsync(last, limit + 1, context.RequestAborted);

        var page = names.Count > limit ? names.Take(limit).ToList() : names;
        if (names.Count > limit && page.Count > 0)
        {
            AddNextLink(context, "/v2/_catalog", limit, page[^1]);
        }

        await WriteJsonAsync(context, "application/json", writer => WriteStringArray(writer, "repositories", page));
    }

    /// <summary>
    /// Lists the manifests whose subject is the digest, as an OCI image index; an empty index when there are none.
    /// </summary>
    public async Task ListReferrersAsync(HttpContext context, RepositoryName repository, string digestText)
    {
        var subject = RequestParsing.ParseDigest(digestText, "subject digest");
        var artifactType = context.Request.Query["artifactType"].FirstOrDefault();
        if (string.IsNullOrEmpty(artifactType))
        {
            artifactType = null;
        }

        var referrers = await _metadata.ListReferrersAsync(repository, subject, artifactType, context.RequestAborted);
        if (artifactType is not null)
        {
            context.Response.Headers[RegistryHeaders.OciFiltersApplied] = "artifactType";
        }

        await WriteJsonAsync(context, MediaTypes.OciIndex, writer =>
        {
            writer.WriteNumber("schemaVersion", 2);
            writer.WriteString("mediaType", MediaTypes.OciIndex);
            writer.WritePropertyName("manifests");
            JsonSerializer.Serialize(writer, referrers, RegistryJson.Options);
        });
    }

    private static void AddNextLink(HttpContext context, string path, int limit, string last)
    {
        var query = QueryString.Create(new KeyValuePair<string, string?>[]
        {
            new("n", limit.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("last", last),
        });
        context.Response.Headers.Link = $"<{RegistryUrls.Relative(context.Request, path + query.ToUriComponent())}>; rel=\"next\"";
    }

    private static void WriteStringArray(Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, string contentType, Action<Utf8JsonWriter> writeProperties)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writeProperties(writer);
            writer.WriteEndObject();
        }

        context.Response.ContentType = contentType;
        context.Response.ContentLength = buffer.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
        }
    }
}

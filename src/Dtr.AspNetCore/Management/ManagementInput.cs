using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Management;

/// <summary>Reads and validates request bodies, names and paging parameters, throwing <see cref="ManagementProblem"/> on bad input.</summary>
internal static class ManagementInput
{
    /// <summary>The minimum password length, in characters.</summary>
    public const int MinPasswordLength = 8;

    /// <summary>The maximum length of a user, organization or team name, in characters.</summary>
    public const int MaxNameLength = 64;

    /// <summary>The maximum length of free text such as a description, e-mail address, full name or token label.</summary>
    public const int MaxTextLength = 1024;

    /// <summary>The maximum size of a JSON request body, in bytes (64 KiB).</summary>
    public const int MaxBodyBytes = 64 * 1024;

    private const string NameGrammar =
        "lowercase letters and digits, optionally joined by '.', '_', '__' or runs of '-', starting and ending with a letter or digit";

    // Case-insensitive names, as ASP.NET Core's web defaults. ParseBody checks field names and JSON kinds first, so
    // the deserializer's own messages, which name .NET types, do not reach the client.
    private static readonly JsonSerializerOptions BodyOptions = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        TypeInfoResolver = new DefaultJsonTypeInfoResolver(),
    };

    /// <summary>Reads a JSON object request body of at most <see cref="MaxBodyBytes"/>.</summary>
    public static async Task<T> ReadBodyAsync<T>(HttpContext context)
        where T : class
    {
        var content = await ReadJsonBytesAsync(context);
        return ParseBody<T>(content);
    }

    /// <summary>
    /// Reads the bytes of a request body of at most <see cref="MaxBodyBytes"/> whose Content-Type is JSON, including
    /// <c>+json</c> types such as <c>application/merge-patch+json</c>. It does not parse them.
    /// </summary>
    public static async Task<byte[]> ReadJsonBytesAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.HasJsonContentType())
        {
            throw ManagementProblem.UnsupportedMediaType(
                $"The request body must be JSON with Content-Type: application/json, but the Content-Type is '{request.ContentType}'.");
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            throw ManagementProblem.ContentTooLarge(
                $"The request body is {request.ContentLength} bytes; the maximum is {MaxBodyBytes} bytes (64 KiB).");
        }

        return await ReadLimitedAsync(request.Body, context.RequestAborted);
    }

    /// <summary>
    /// Parses a request body into <typeparamref name="T"/>. Invalid JSON, a value other than an object, an unknown
    /// or repeated field, and a field of the wrong JSON kind each throw a 400 whose <c>errors</c> member is keyed by
    /// the JSON path (<c>$</c> for the whole body).
    /// </summary>
    public static T ParseBody<T>(byte[] content)
        where T : class
    {
        if (content.Length == 0)
        {
            throw ManagementProblem.Invalid("$", "The request body is empty; send a JSON object.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException error)
        {
            // The reader's positions count from 0.
            throw ManagementProblem.Invalid(
                "$",
                $"The request body is not valid JSON: the error is at line {error.LineNumber + 1}, byte {error.BytePositionInLine + 1} of that line.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ManagementProblem.Invalid("$", $"The request body is {DescribeKind(root.ValueKind)}; send a JSON object.");
            }

            CheckFields(root, BodyOptions.GetTypeInfo(typeof(T)));
            try
            {
                return root.Deserialize<T>(BodyOptions)
                    ?? throw ManagementProblem.Invalid("$", "The request body is JSON null; send a JSON object.");
            }
            catch (JsonException error)
            {
                // CheckFields covers the field kinds of every request type, so this is a value those checks do not
                // know, such as a number out of range. The exception's message names .NET types, so it is not shown.
                var path = error.Path ?? "$";
                throw ManagementProblem.Invalid(path, $"The value at '{path}' is invalid for this field.");
            }
        }
    }

    /// <summary>Checks that every field of the body is known, appears once and has a JSON kind the field accepts.</summary>
    private static void CheckFields(JsonElement body, JsonTypeInfo typeInfo)
    {
        var fields = new Dictionary<string, JsonPropertyInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in typeInfo.Properties)
        {
            fields[property.Name] = property;
        }

        // Names match case-insensitively, so "name" and "Name" are the same field.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in body.EnumerateObject())
        {
            var path = JsonPath(member.Name);
            if (!fields.TryGetValue(member.Name, out var field))
            {
                throw ManagementProblem.Invalid(
                    path,
                    $"The field '{member.Name}' is unknown; the accepted fields are {string.Join(", ", typeInfo.Properties.Select(p => p.Name))}.");
            }

            if (!seen.Add(member.Name))
            {
                throw ManagementProblem.Invalid(path, $"The field '{member.Name}' appears more than once; send each field once.");
            }

            if (ExpectedKind(field.PropertyType) is { } expected && !expected.Accepts(member.Value.ValueKind))
            {
                throw ManagementProblem.Invalid(
                    path,
                    $"The field '{field.Name}' must be {expected.Description}, but it is {DescribeKind(member.Value.ValueKind)}.");
            }
        }
    }

    /// <summary>The JSON kinds a field of a request type accepts, or null for a type these checks leave to the deserializer.</summary>
    private static FieldKind? ExpectedKind(Type type)
    {
        if (type == typeof(string))
        {
            return new FieldKind("a string or null", kind => kind is JsonValueKind.String or JsonValueKind.Null);
        }

        if (type == typeof(bool) || type == typeof(bool?))
        {
            return new FieldKind("true, false or null", kind => kind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null);
        }

        if (type == typeof(int) || type == typeof(int?))
        {
            return new FieldKind("a whole number or null", kind => kind is JsonValueKind.Number or JsonValueKind.Null);
        }

        return null;
    }

    private sealed record FieldKind(string Description, Func<JsonValueKind, bool> Accepts);

    private static string DescribeKind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "a JSON object",
        JsonValueKind.Array => "a JSON array",
        JsonValueKind.String => "a JSON string",
        JsonValueKind.Number => "a JSON number",
        JsonValueKind.True or JsonValueKind.False => "a JSON boolean",
        JsonValueKind.Null => "JSON null",
        _ => "not a JSON value",
    };

    /// <summary>Returns the JSON path of a top-level field: <c>$.name</c>, or <c>$['odd name']</c> for other names.</summary>
    private static string JsonPath(string name)
    {
        var simple = name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
        return simple ? "$." + name : "$['" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "']";
    }

    private static async Task<byte[]> ReadLimitedAsync(Stream body, CancellationToken cancellationToken)
    {
        // A chunked body has no Content-Length, so the limit is enforced while reading as well.
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                throw ManagementProblem.ContentTooLarge($"The request body is longer than the maximum of {MaxBodyBytes} bytes (64 KiB).");
            }
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// Checks a user, organization, team or repository-name component, and returns it. <paramref name="field"/> names
    /// the request field or path parameter in the error.
    /// </summary>
    public static string RequireName(string? value, string field)
    {
        if (string.IsNullOrEmpty(value))
        {
            throw ManagementProblem.Invalid(field, $"The {field} is missing; it must be {NameGrammar}.");
        }

        if (value.Length > MaxNameLength)
        {
            throw ManagementProblem.Invalid(field, $"The {field} is {value.Length} characters long; the maximum is {MaxNameLength}.");
        }

        if (!RepositoryName.IsValidComponent(value))
        {
            throw ManagementProblem.Invalid(field, $"The {field} '{value}' is invalid; it must be {NameGrammar}.");
        }

        return value;
    }

    /// <summary>Parses the full name of a repository inside <paramref name="namespaceName"/>.</summary>
    public static RepositoryName RequireRepositoryName(string namespaceName, string? repository, string field)
    {
        RequireName(namespaceName, "namespace");
        if (string.IsNullOrEmpty(repository))
        {
            throw ManagementProblem.Invalid(field, $"The {field} is missing; give the repository name inside the namespace, such as 'app' or 'tools/app'.");
        }

        if (!RepositoryName.TryParse(namespaceName + "/" + repository, out var name, out var error))
        {
            throw ManagementProblem.Invalid(field, error);
        }

        return name;
    }

    /// <summary>Checks a new password.</summary>
    public static string RequirePassword(string? password, string field = "password")
    {
        if (string.IsNullOrEmpty(password))
        {
            throw ManagementProblem.Invalid(field, $"The {field} is missing; give at least {MinPasswordLength} characters.");
        }

        if (password.Length < MinPasswordLength)
        {
            throw ManagementProblem.Invalid(field, $"The {field} is {password.Length} characters long; the minimum is {MinPasswordLength}.");
        }

        if (password.Length > MaxTextLength)
        {
            throw ManagementProblem.Invalid(field, $"The {field} is {password.Length} characters long; the maximum is {MaxTextLength}.");
        }

        return password;
    }

    /// <summary>Checks the length of an optional free-text field and returns it.</summary>
    public static string? CheckText(string? value, string field)
    {
        if (value is not null && value.Length > MaxTextLength)
        {
            throw ManagementProblem.Invalid(field, $"The {field} is {value.Length} characters long; the maximum is {MaxTextLength}.");
        }

        return value;
    }

    /// <summary>
    /// Reads the <c>n</c> and <c>last</c> query parameters. A missing <c>n</c>, or one above
    /// <paramref name="maxPageSize"/>, means <paramref name="maxPageSize"/>.
    /// </summary>
    public static (int Limit, string? Last) ReadPaging(HttpRequest request, int maxPageSize)
    {
        var limit = maxPageSize;
        var values = request.Query["n"];
        if (values.Count > 0)
        {
            if (values.Count > 1 || !int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
            {
                throw ManagementProblem.Invalid("n", $"The page size n='{values}' is invalid; give one integer from 1 to {maxPageSize}.");
            }

            limit = Math.Min(n, maxPageSize);
        }

        var last = request.Query["last"];
        return (limit, last.Count > 0 && !string.IsNullOrEmpty(last[0]) ? last[0] : null);
    }

    /// <summary>
    /// Reads an optional search text from the query string, or returns null when the parameter is missing or empty.
    /// Throws a 400 for more than one value or a text longer than <paramref name="maxLength"/> characters.
    /// </summary>
    public static string? ReadSearchText(HttpRequest request, string parameter, int maxLength)
    {
        var values = request.Query[parameter];
        if (values.Count > 1)
        {
            throw ManagementProblem.Invalid(parameter, $"The parameter {parameter} appears {values.Count} times; send it once.");
        }

        var text = values.Count == 0 ? null : values[0];
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (text.Length > maxLength)
        {
            throw ManagementProblem.Invalid(parameter, $"The parameter {parameter} is {text.Length} characters long; the maximum is {maxLength}.");
        }

        return text;
    }

    /// <summary>
    /// Returns the first <paramref name="limit"/> items of a listing that read one extra item, and when that extra
    /// item exists, adds a <c>Link</c> header to the next page, resuming after the last item shown. The link keeps
    /// the request's other query parameters, such as filters, so the next page is filtered alike.
    /// </summary>
    public static IReadOnlyList<T> Page<T>(HttpContext context, IReadOnlyList<T> items, int limit, Func<T, string> key)
    {
        if (items.Count <= limit)
        {
            return items;
        }

        var page = items.Take(limit).ToList();
        var parameters = new List<KeyValuePair<string, string?>>();
        foreach (var (name, values) in context.Request.Query)
        {
            if (name is not ("n" or "last"))
            {
                parameters.AddRange(values.Select(value => new KeyValuePair<string, string?>(name, value)));
            }
        }

        parameters.Add(new("n", limit.ToString(CultureInfo.InvariantCulture)));
        parameters.Add(new("last", key(page[^1])));
        var query = QueryString.Create(parameters);
        var request = context.Request;
        context.Response.Headers.Link = $"<{request.PathBase}{request.Path}{query.ToUriComponent()}>; rel=\"next\"";
        return page;
    }
}

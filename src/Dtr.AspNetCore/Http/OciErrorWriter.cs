using System.Text.Json;
using Dtr.Errors;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Http;

/// <summary>
/// Writes failures as the OCI error body: <c>{"errors":[{"code":"…","message":"…","detail":…}]}</c>.
/// </summary>
internal static class OciErrorWriter
{
    /// <summary>Writes the error with its status and headers, unless the response has already started.</summary>
    public static async Task WriteAsync(HttpContext context, RegistryException error)
    {
        if (context.Response.HasStarted)
        {
            // Headers are gone; the only honest signal left is to abort the connection.
            context.Abort();
            return;
        }

        context.Response.Clear();
        RegistryHeaders.AddApiVersion(context.Response);
        context.Response.StatusCode = error.Error.Status;
        if (error.Headers is not null)
        {
            foreach (var (name, value) in error.Headers)
            {
                context.Response.Headers[name] = value;
            }
        }

        await WriteBodyAsync(context, error.Error.Code, error.Message, error.Detail);
    }

    /// <summary>Writes an error body with a code outside the catalogue, such as <c>UNKNOWN</c> for server faults.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            context.Abort();
            return;
        }

        context.Response.Clear();
        RegistryHeaders.AddApiVersion(context.Response);
        context.Response.StatusCode = status;
        await WriteBodyAsync(context, code, message, null);
    }

    private static async Task WriteBodyAsync(HttpContext context, string code, string message, object? detail)
    {
        context.Response.ContentType = "application/json";
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("errors");
            writer.WriteStartObject();
            writer.WriteString("code", code);
            writer.WriteString("message", message);
            if (detail is not null)
            {
                writer.WritePropertyName("detail");
                JsonSerializer.Serialize(writer, detail, detail.GetType(), RegistryJson.Options);
            }

            writer.WriteEndObject();
            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        context.Response.ContentLength = buffer.Length;
        await context.Response.Body.WriteAsync(buffer.GetBuffer().AsMemory(0, (int)buffer.Length), context.RequestAborted);
    }
}

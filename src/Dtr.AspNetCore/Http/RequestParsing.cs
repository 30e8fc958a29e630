using System.Globalization;
using Dtr.Digests;
using Dtr.Errors;
using Dtr.Names;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Http;

/// <summary>Turns path segments, query parameters and headers into typed values, or into OCI errors.</summary>
internal static class RequestParsing
{
    /// <summary>Parses a repository name, or throws NAME_INVALID.</summary>
    public static RepositoryName ParseName(string text)
    {
        if (!RepositoryName.TryParse(text, out var name, out var error))
        {
            throw new RegistryException(OciErrorCode.NameInvalid, error);
        }

        return name;
    }

    /// <summary>Parses a digest, or throws DIGEST_INVALID.</summary>
    public static Digest ParseDigest(string? text, string what)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw new RegistryException(OciErrorCode.DigestInvalid, $"The {what} is missing; give a digest such as sha256:<64 hex digits>.");
        }

        if (!Digest.TryParse(text, out var digest, out var error))
        {
            throw new RegistryException(OciErrorCode.DigestInvalid, $"The {what} is invalid. {error}");
        }

        return digest;
    }

    /// <summary>
    /// Reads the <c>n</c> and <c>last</c> parameters of a listing. A missing <c>n</c>, or one above
    /// <paramref name="maxPageSize"/>, means <paramref name="maxPageSize"/>.
    /// </summary>
    public static (int Limit, string? Last) ParsePagination(HttpRequest request, int maxPageSize)
    {
        var limit = maxPageSize;
        var nValues = request.Query["n"];
        if (nValues.Count > 0)
        {
            if (nValues.Count > 1 || !int.TryParse(nValues[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new RegistryException(
                    OciErrorCode.PaginationNumberInvalid,
                    $"The page size n='{nValues}' is invalid; give one non-negative integer.");
            }

            limit = Math.Min(n, maxPageSize);
        }

        var last = request.Query["last"];
        return (limit, last.Count > 0 && !string.IsNullOrEmpty(last[0]) ? last[0] : null);
    }

    /// <summary>
    /// Parses an upload's <c>Content-Range</c> header, <c>&lt;start&gt;-&lt;end&gt;</c> (inclusive; a <c>bytes </c>
    /// prefix and a <c>/&lt;total&gt;</c> suffix are accepted), and checks it against <c>Content-Length</c>. Returns
    /// null when the header is absent.
    /// </summary>
    public static long? ParseUploadContentRange(HttpRequest request)
    {
        var header = request.Headers.ContentRange;
        if (header.Count == 0 || string.IsNullOrEmpty(header[0]))
        {
            return null;
        }

        // The distribution specification's form is "<start>-<end>". The HTTP form "bytes <start>-<end>/<total>"
        // (RFC 9110) is accepted too, and its total is ignored because an upload's total is not known in advance.
        var text = header[0].AsSpan().Trim();
        if (text.StartsWith("bytes", StringComparison.OrdinalIgnoreCase))
        {
            text = text[5..].TrimStart(" =");
        }

        var slash = text.IndexOf('/');
        if (slash >= 0)
        {
            text = text[..slash];
        }

        var dash = text.IndexOf('-');
        if (dash <= 0
            || !long.TryParse(text[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var start)
            || !long.TryParse(text[(dash + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var end)
            || end < start)
        {
            throw new RegistryException(
                OciErrorCode.RangeInvalid,
                $"The Content-Range '{header[0]}' is invalid; send '<start>-<end>' with inclusive byte offsets, such as 0-1023.");
        }

        if (request.ContentLength is { } contentLength && contentLength != end - start + 1)
        {
            throw new RegistryException(
                OciErrorCode.SizeInvalid,
                $"The Content-Range '{header[0]}' covers {end - start + 1} bytes, but Content-Length is {contentLength}.");
        }

        return start;
    }

    /// <summary>Returns the media type of the <c>Content-Type</c> header without parameters, or null.</summary>
    public static string? GetMediaType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon >= 0 ? contentType[..semicolon] : contentType).Trim();
        return mediaType.Length == 0 ? null : mediaType.ToLowerInvariant();
    }
}

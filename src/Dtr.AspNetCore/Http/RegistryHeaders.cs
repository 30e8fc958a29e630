using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Http;

/// <summary>Names and helpers of the headers that the distribution API uses.</summary>
internal static class RegistryHeaders
{
    public const string ApiVersion = "Docker-Distribution-API-Version";
    public const string ApiVersionValue = "registry/2.0";
    public const string ContentDigest = "Docker-Content-Digest";
    public const string UploadUuid = "Docker-Upload-UUID";
    public const string OciSubject = "OCI-Subject";
    public const string OciTag = "OCI-Tag";
    public const string OciFiltersApplied = "OCI-Filters-Applied";
    public const string OciChunkMinLength = "OCI-Chunk-Min-Length";

    /// <summary>Adds <c>Docker-Distribution-API-Version: registry/2.0</c>, which every <c>/v2/</c> response carries.</summary>
    public static void AddApiVersion(HttpResponse response) => response.Headers[ApiVersion] = ApiVersionValue;

    /// <summary>
    /// Formats the <c>Range</c> header of an upload holding <paramref name="length"/> bytes: <c>0-&lt;length-1&gt;</c>,
    /// and <c>0-0</c> when it is empty, as the CNCF registry sends and clients expect.
    /// </summary>
    public static string FormatUploadRange(long length) => length > 0 ? $"0-{length - 1}" : "0-0";
}

using Dtr.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Telemetry;

/// <summary>The operation names of the <c>/v2</c> API that tag the registry's metrics.</summary>
internal static class RegistryOperations
{
    public const string Base = "base";
    public const string Catalog = "catalog.get";
    public const string TagsList = "tags.list";
    public const string ReferrersList = "referrers.list";
    public const string ManifestGet = "manifest.get";
    public const string ManifestHead = "manifest.head";
    public const string ManifestPut = "manifest.put";
    public const string ManifestDelete = "manifest.delete";
    public const string BlobGet = "blob.get";
    public const string BlobHead = "blob.head";
    public const string BlobDelete = "blob.delete";
    public const string UploadStart = "upload.start";
    public const string UploadGet = "upload.get";
    public const string UploadPatch = "upload.patch";
    public const string UploadPut = "upload.put";
    public const string UploadDelete = "upload.delete";

    /// <summary>The name for a path that matches no endpoint, or a method that the endpoint does not support.</summary>
    public const string Unknown = "unknown";

    /// <summary>Returns the operation of a request, or <see cref="Unknown"/>. The result is one of the constants above.</summary>
    public static string Of(RegistryRouteKind kind, string method) => kind switch
    {
        RegistryRouteKind.Base => ReadOnly(method, Base),
        RegistryRouteKind.Catalog => ReadOnly(method, Catalog),
        RegistryRouteKind.Tags => ReadOnly(method, TagsList),
        RegistryRouteKind.Referrers => ReadOnly(method, ReferrersList),
        RegistryRouteKind.Manifest => ByMethod(method, ManifestGet, ManifestHead, ManifestPut, patch: Unknown, ManifestDelete),
        RegistryRouteKind.Blob => ByMethod(method, BlobGet, BlobHead, put: Unknown, patch: Unknown, BlobDelete),
        RegistryRouteKind.UploadStart => HttpMethods.IsPost(method) ? UploadStart : Unknown,
        RegistryRouteKind.Upload => ByMethod(method, UploadGet, head: Unknown, UploadPut, UploadPatch, UploadDelete),
        _ => Unknown,
    };

    private static string ReadOnly(string method, string operation) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) ? operation : Unknown;

    private static string ByMethod(string method, string get, string head, string put, string patch, string delete)
    {
        if (HttpMethods.IsGet(method))
        {
            return get;
        }

        if (HttpMethods.IsHead(method))
        {
            return head;
        }

        if (HttpMethods.IsPut(method))
        {
            return put;
        }

        if (HttpMethods.IsPatch(method))
        {
            return patch;
        }

        return HttpMethods.IsDelete(method) ? delete : Unknown;
    }
}

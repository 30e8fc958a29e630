using System.Diagnostics;
using Dtr.AspNetCore.Http;
using Dtr.AspNetCore.Logging;
using Dtr.AspNetCore.Routing;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Telemetry;
using Dtr.AspNetCore.Tls;
using Dtr.Errors;
using Dtr.Names;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Polly;

namespace Dtr.AspNetCore.Endpoints;

/// <summary>
/// The single entry point of every <c>/v2/…</c> request: it adds the API version header, splits the path, checks
/// the caller's access, sends the request to its endpoint, and turns every failure into an OCI error response.
/// </summary>
internal sealed class RegistryRequestHandler
{
    private readonly BlobEndpoints _blobs;
    private readonly UploadEndpoints _uploads;
    private readonly ManifestEndpoints _manifests;
    private readonly ListingEndpoints _listings;
    private readonly RegistryAccessGate _gate;
    private readonly RegistryMetrics _metrics;
    private readonly ILogger<RegistryRequestHandler> _logger;

    public RegistryRequestHandler(
        BlobEndpoints blobs,
        UploadEndpoints uploads,
        ManifestEndpoints manifests,
        ListingEndpoints listings,
        RegistryAccessGate gate,
        RegistryMetrics metrics,
        ILogger<RegistryRequestHandler> logger)
    {
        _gate = gate;
        _metrics = metrics;
        _blobs = blobs;
        _uploads = uploads;
        _manifests = manifests;
        _listings = listings;
        _logger = logger;
    }

    /// <summary>Handles one request whose path starts with <c>/v2</c>; <paramref name="path"/> is the rest.</summary>
    public async Task HandleAsync(HttpContext context, string path)
    {
        var started = Stopwatch.GetTimestamp();
        var route = RegistryRoute.Parse(path);
        try
        {
            await HandleRouteAsync(context, route);
        }
        finally
        {
            var operation = RegistryOperations.Of(route.Kind, context.Request.Method);
            _metrics.RequestFinished(operation, context.Response.StatusCode, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task HandleRouteAsync(HttpContext context, RegistryRoute route)
    {
        RegistryHeaders.AddApiVersion(context.Response);
        string? denial = null;
        try
        {
            await DispatchAsync(context, route);
        }
        catch (RegistryException error)
        {
            RegistryLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, error.Error.Code, error.Message);
            if (IsAuditedDenial(context, error))
            {
                denial = error.Message;
            }

            await OciErrorWriter.WriteAsync(context, error);
        }
        catch (BadHttpRequestException error)
        {
            // Kestrel's own checks: a body shorter than Content-Length, a body over a server limit, a malformed chunk.
            RegistryLog.RequestRejected(_logger, context.Request.Method, context.Request.Path, "BAD_REQUEST", error.Message);
            var code = error.StatusCode == StatusCodes.Status413PayloadTooLarge ? OciErrorCode.ContentTooLarge : OciErrorCode.SizeInvalid;
            await OciErrorWriter.WriteAsync(context, new RegistryException(code, $"The request body is invalid: {error.Message}"));
        }
        catch (Exception error) when (context.RequestAborted.IsCancellationRequested
                                      && error is OperationCanceledException or ConnectionResetException or IOException)
        {
            // The client disconnected, so no response can be sent.
            RegistryLog.RequestAborted(_logger, context.Request.Method, context.Request.Path);
        }
        catch (ExecutionRejectedException error)
        {
            // A store's resilience pipeline gave up: a transient fault outlived its retries, an attempt timed out, or the
            // circuit is open. The client may retry.
            RegistryLog.StorageUnavailable(_logger, context.Request.Method, context.Request.Path, error);
            await OciErrorWriter.WriteAsync(
                context,
                new RegistryException(OciErrorCode.Unavailable, "The registry's storage is not responding; retry the request in a few seconds.")
                {
                    Headers = new Dictionary<string, string> { ["Retry-After"] = "5" },
                });
        }
        catch (Exception error) when (error is not OperationCanceledException)
        {
            // A fault on the server side (storage, database): log it for the operator and give the client an OCI
            // error body instead of an empty 500.
            RegistryLog.RequestFailed(_logger, context.Request.Method, context.Request.Path, error);
            await OciErrorWriter.WriteAsync(
                context,
                StatusCodes.Status500InternalServerError,
                "UNKNOWN",
                "The registry failed to handle the request; the server log has the details.");
        }

        RecordAudit(context, route, denial);
    }

    /// <summary>
    /// Returns whether a rejection is a permission decision that the audit log records: a 403 <c>DENIED</c>, or a 401
    /// for a request that sent credentials in the <c>Authorization</c> header or a client certificate that was
    /// rejected. A 401 challenge to a client that sent none is the normal start of a token exchange, so it is not
    /// recorded.
    /// </summary>
    private static bool IsAuditedDenial(HttpContext context, RegistryException error) =>
        error.Error == OciErrorCode.Denied
        || (error.Error == OciErrorCode.Unauthorized
            && (!Microsoft.Extensions.Primitives.StringValues.IsNullOrEmpty(context.Request.Headers.Authorization)
                || ClientCertificateRejection.Get(context) is not null));

    /// <summary>Records manifest pushes, manifest and blob deletions, and denials in the audit log.</summary>
    private static void RecordAudit(HttpContext context, RegistryRoute route, string? denial)
    {
        var method = context.Request.Method;
        var action = route.Kind switch
        {
            RegistryRouteKind.Manifest when HttpMethods.IsPut(method) => "manifest.push",
            RegistryRouteKind.Manifest when HttpMethods.IsDelete(method) => "manifest.delete",
            RegistryRouteKind.Blob when HttpMethods.IsDelete(method) => "blob.delete",
            _ => denial is null ? null : "access.denied",
        };
        if (action is null || context.RequestServices.GetService<Audit.AuditLog>() is not { } audit)
        {
            return;
        }

        var detail = denial ?? route.Argument;
        var actor = RegistryAccessGate.GetActor(context);
        if (denial is not null && ClientCertificateRejection.Get(context) is { } rejection)
        {
            actor ??= rejection.UserName;
            detail = rejection.Detail;
        }

        audit.Record(context, actor, route.Name, action, context.Response.StatusCode, detail);
    }

    private async Task DispatchAsync(HttpContext context, RegistryRoute route)
    {
        var method = context.Request.Method;
        switch (route.Kind)
        {
            case RegistryRouteKind.Base:
                await _gate.AuthorizeAsync(context, route.Kind, repository: null);
                if (RequireMethod(method, HttpMethods.Get, HttpMethods.Head))
                {
                    await WriteBaseAsync(context);
                }

                return;

            case RegistryRouteKind.Catalog:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Head);
                var catalogAccess = await _gate.AuthorizeAsync(context, route.Kind, repository: null);
                await _listings.ListRepositoriesAsync(context, catalogAccess);
                return;
        }

        if (route.Kind == RegistryRouteKind.None || route.Name is null)
        {
            throw new RegistryException(
                OciErrorCode.EndpointNotFound,
                $"No registry endpoint matches '{context.Request.Path}'.");
        }

        var name = RequestParsing.ParseName(route.Name);
        var argument = route.Argument ?? "";
        var access = await _gate.AuthorizeAsync(context, route.Kind, name);
        await DispatchRepositoryAsync(context, route, name, argument, access);
    }

    private Task DispatchRepositoryAsync(HttpContext context, RegistryRoute route, RepositoryName name, string argument, RequestAccess access)
    {
        var method = context.Request.Method;
        switch (route.Kind)
        {
            case RegistryRouteKind.Tags:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Head);
                return _listings.ListTagsAsync(context, name);

            case RegistryRouteKind.Referrers:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Head);
                return _listings.ListReferrersAsync(context, name, argument);

            case RegistryRouteKind.Manifest:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Delete);
                if (HttpMethods.IsPut(method))
                {
                    return _manifests.PutAsync(context, name, argument);
                }

                return HttpMethods.IsDelete(method)
                    ? _manifests.DeleteAsync(context, name, argument)
                    : _manifests.GetAsync(context, name, argument, headOnly: HttpMethods.IsHead(method));

            case RegistryRouteKind.Blob:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Head, HttpMethods.Delete);
                return HttpMethods.IsDelete(method)
                    ? _blobs.DeleteAsync(context, name, argument)
                    : _blobs.GetAsync(context, name, argument, headOnly: HttpMethods.IsHead(method));

            case RegistryRouteKind.UploadStart:
                RequireMethodOrThrow(method, HttpMethods.Post);
                return _uploads.StartAsync(context, name, access);

            case RegistryRouteKind.Upload:
                RequireMethodOrThrow(method, HttpMethods.Get, HttpMethods.Patch, HttpMethods.Put, HttpMethods.Delete);
                if (HttpMethods.IsGet(method))
                {
                    return _uploads.GetStatusAsync(context, name, argument);
                }

                if (HttpMethods.IsPatch(method))
                {
                    return _uploads.PatchAsync(context, name, argument);
                }

                return HttpMethods.IsPut(method)
                    ? _uploads.PutAsync(context, name, argument)
                    : _uploads.DeleteAsync(context, name, argument);

            default:
                throw new InvalidOperationException($"Unhandled route kind {route.Kind}.");
        }
    }

    private static Task WriteBaseAsync(HttpContext context)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = 2;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("{}", context.RequestAborted);
    }

    private static bool RequireMethod(string method, params string[] allowed)
    {
        RequireMethodOrThrow(method, allowed);
        return true;
    }

    private static void RequireMethodOrThrow(string method, params string[] allowed)
    {
        foreach (var candidate in allowed)
        {
            if (string.Equals(method, candidate, StringComparison.OrdinalIgnoreCase))
            {
                return;
            }
        }

        throw new RegistryException(
            OciErrorCode.Unsupported,
            $"The method {method} is not supported here; use {string.Join(", ", allowed)}.")
        {
            Headers = new Dictionary<string, string> { ["Allow"] = string.Join(", ", allowed) },
        };
    }
}

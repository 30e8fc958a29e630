using System.Globalization;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Management;
using Dtr.Gc;
using Dtr.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.GarbageCollection;

/// <summary>
/// The garbage collection part of the management API (<c>/gc</c>): starting, listing, inspecting and cancelling runs,
/// and estimating what a run would free. Only system administrators may use it.
/// </summary>
/// <remarks>
/// Runs are recorded in the metadata store, so every host that shares it lists the same runs, and a run started on
/// one host can be cancelled through another.
/// </remarks>
internal sealed class GarbageCollectionEndpoints
{
    private readonly IGarbageCollector _collector;
    private readonly RegistryOptions _options;
    private readonly ILogger<GarbageCollectionEndpoints> _logger;

    public GarbageCollectionEndpoints(IGarbageCollector collector, IOptions<RegistryOptions> options, ILogger<GarbageCollectionEndpoints> logger)
    {
        _collector = collector;
        _options = options.Value;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var gc = group.MapGroup("/gc").WithTags("Garbage collection");

        // The body is optional, so a POST without one starts a real run that keeps untagged manifests.
        gc.MapPost("/runs", ([FromServices] GarbageCollectionEndpoints e, HttpContext c) => e.StartAsync(c))
            .WithName("StartGarbageCollection")
            .WithSummary("Start a garbage collection run on this host; body {dryRun, deleteUntagged, maxDurationMinutes}, every field optional (system administrators)")
            .Accepts(typeof(StartRunRequest), isOptional: true, ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<RunResponse>(StatusCodes.Status202Accepted).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        gc.MapGet("/runs", ([FromServices] GarbageCollectionEndpoints e, HttpContext c) => e.ListAsync(c))
            .WithName("ListGarbageCollectionRuns").WithSummary("List garbage collection runs of every host, newest first, a page at a time (system administrators)")
            .Produces<RunListResponse>().ProducesValidationProblem();

        gc.MapGet("/runs/{id}", ([FromServices] GarbageCollectionEndpoints e, HttpContext c, string id) => e.GetAsync(c, id))
            .WithName("GetGarbageCollectionRun").WithSummary("Get a run's state and counts (system administrators)")
            .Produces<RunResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        gc.MapGet("/runs/{id}/items", ([FromServices] GarbageCollectionEndpoints e, HttpContext c, string id) => e.ListItemsAsync(c, id))
            .WithName("ListGarbageCollectionRunItems")
            .WithSummary("List what a run removed, or what a dry run would remove, in order; ?kind=manifest|blobLink|blob|upload (system administrators)")
            .Produces<RunItemListResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        gc.MapPost("/runs/{id}/cancel", ([FromServices] GarbageCollectionEndpoints e, HttpContext c, string id) => e.CancelAsync(c, id))
            .WithName("CancelGarbageCollectionRun").WithSummary("Ask a running run to stop, on whichever host it runs (system administrators)")
            .Produces<RunResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        gc.MapGet("/reclaimable", ([FromServices] GarbageCollectionEndpoints e, HttpContext c) => e.GetReclaimableAsync(c))
            .WithName("GetReclaimableStorage")
            .WithSummary("Estimate what a run would free now; ?deleteUntagged=true counts untagged manifests (system administrators)")
            .Produces<ReclaimableResponse>().ProducesValidationProblem();
    }

    private async Task<IResult> StartAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "start garbage collection runs");

        var body = HasBody(context.Request)
            ? await ManagementInput.ReadBodyAsync<StartRunRequest>(context)
            : new StartRunRequest(null, null, null);
        var maxMinutes = (int)GarbageCollectionRequest.MaxDurationLimit.TotalMinutes;
        if (body.MaxDurationMinutes is < 1 || body.MaxDurationMinutes > maxMinutes)
        {
            throw ManagementProblem.Invalid(
                "maxDurationMinutes",
                $"The maxDurationMinutes {body.MaxDurationMinutes} is invalid; give a whole number of minutes from 1 to {maxMinutes} (30 days), or leave it out for no time budget.");
        }

        var request = new GarbageCollectionRequest
        {
            DryRun = body.DryRun ?? false,
            DeleteUntagged = body.DeleteUntagged ?? false,
            MaxDuration = body.MaxDurationMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null,
            RequestedBy = caller.UserName,
            Trigger = GarbageCollectionTrigger.Manual,
        };

        GarbageCollectionRun run;
        try
        {
            run = await _collector.StartAsync(request, context.RequestAborted);
        }
        catch (GarbageCollectionConflictException conflict)
        {
            throw ManagementProblem.Conflict(conflict.Message, new Dictionary<string, object?> { ["runningRunId"] = conflict.RunningRunId });
        }

        GarbageCollectionHttpLog.RunStarted(_logger, run.Id, UserEndpoints.Describe(caller), request.DryRun, request.DeleteUntagged);
        return TypedResults.Accepted(RunPath(context, run.Id), RunResponse.From(run));
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        ManagementAccess.RequireAdmin(ManagementRequestFilter.GetCaller(context), "list garbage collection runs");

        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        var runs = await _collector.ListRunsAsync(last, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, runs, limit, run => run.Id);
        return TypedResults.Ok(new RunListResponse(page.Select(RunResponse.From).ToList()));
    }

    private async Task<IResult> GetAsync(HttpContext context, string id)
    {
        ManagementAccess.RequireAdmin(ManagementRequestFilter.GetCaller(context), "read garbage collection runs");
        var run = await RequireRunAsync(id, context.RequestAborted);
        return TypedResults.Ok(RunResponse.From(run));
    }

    private async Task<IResult> ListItemsAsync(HttpContext context, string id)
    {
        ManagementAccess.RequireAdmin(ManagementRequestFilter.GetCaller(context), "list the items of garbage collection runs");

        var kind = ReadItemKind(context.Request);
        var (limit, lastText) = ManagementInput.ReadPaging(context.Request, _options.MaxPageSize);
        long last = 0;
        if (lastText is not null && (!long.TryParse(lastText, NumberStyles.None, CultureInfo.InvariantCulture, out last) || last < 0))
        {
            throw ManagementProblem.Invalid("last", $"The last='{lastText}' is invalid; give the position of the last item of the previous page, a whole number from 0.");
        }

        await RequireRunAsync(id, context.RequestAborted);
        var items = await _collector.ListRunItemsAsync(id, last, limit + 1, kind, context.RequestAborted);
        var page = ManagementInput.Page(context, items, limit, item => item.Position.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new RunItemListResponse(page.Select(RunItemResponse.From).ToList()));
    }

    private async Task<IResult> CancelAsync(HttpContext context, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "cancel garbage collection runs");

        if (!await _collector.CancelAsync(id, context.RequestAborted))
        {
            var ended = await RequireRunAsync(id, context.RequestAborted);
            throw ManagementProblem.Conflict(
                $"The garbage collection run '{id}' is not running; it ended with status {GarbageCollectionNames.Format(ended.Status)}.");
        }

        GarbageCollectionHttpLog.CancelRequested(_logger, id, UserEndpoints.Describe(caller));
        var run = await RequireRunAsync(id, context.RequestAborted);
        return TypedResults.Accepted(RunPath(context, id), RunResponse.From(run));
    }

    private async Task<IResult> GetReclaimableAsync(HttpContext context)
    {
        ManagementAccess.RequireAdmin(ManagementRequestFilter.GetCaller(context), "estimate reclaimable storage");

        var deleteUntagged = false;
        var values = context.Request.Query["deleteUntagged"];
        if (values.Count > 0 && (values.Count > 1 || !bool.TryParse(values[0], out deleteUntagged)))
        {
            throw ManagementProblem.Invalid("deleteUntagged", $"The deleteUntagged='{values}' is invalid; use true or false.");
        }

        var estimate = await _collector.EstimateReclaimableAsync(deleteUntagged, context.RequestAborted);
        return TypedResults.Ok(ReclaimableResponse.From(deleteUntagged, estimate));
    }

    private async Task<GarbageCollectionRun> RequireRunAsync(string id, CancellationToken cancellationToken) =>
        await _collector.GetRunAsync(id, cancellationToken)
        ?? throw ManagementProblem.NotFound($"The garbage collection run '{id}' does not exist; GET /gc/runs lists the runs that are kept.");

    private static GarbageCollectionItemKind? ReadItemKind(HttpRequest request)
    {
        var values = request.Query["kind"];
        if (values.Count == 0 || (values.Count == 1 && string.IsNullOrEmpty(values[0])))
        {
            return null;
        }

        if (values.Count > 1 || GarbageCollectionNames.ParseItemKind(values[0]!) is not { } kind)
        {
            throw ManagementProblem.Invalid("kind", $"The kind='{values}' is invalid; use one of {string.Join(", ", GarbageCollectionNames.ItemKinds)}.");
        }

        return kind;
    }

    /// <summary>Returns whether the request carries a body; a POST without one takes every default.</summary>
    private static bool HasBody(HttpRequest request)
    {
        if (request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return false;
        }

        if (request.ContentLength is { } length)
        {
            return length > 0;
        }

        return request.ContentType is not null || request.Headers.TransferEncoding.Count > 0;
    }

    private static string RunPath(HttpContext context, string id) =>
        $"{context.Request.PathBase}{ManagementEndpoints.Prefix(context)}/gc/runs/{Uri.EscapeDataString(id)}";
}

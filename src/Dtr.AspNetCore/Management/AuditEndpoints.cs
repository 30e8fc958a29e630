using System.Globalization;
using Dtr.AspNetCore.Configuration;
using Dtr.Metadata;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>The <c>/audit</c> endpoint: the audit log, newest first, for system administrators.</summary>
internal sealed class AuditEndpoints
{
    private readonly RegistryOptions _options;

    public AuditEndpoints(IOptions<RegistryOptions> options) => _options = options.Value;

    public static void Map(IEndpointRouteBuilder group)
    {
        group.MapGet("/audit", ([FromServices] AuditEndpoints e, HttpContext c) => e.ListAsync(c))
            .WithTags("Audit")
            .WithName("ListAuditEntries")
            .WithSummary("List audit entries, newest first, a page at a time (administrators only)")
            .Produces<AuditEntryListResponse>()
            .ProducesValidationProblem();
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "read the audit log");

        var store = context.RequestServices.GetService<IAuditStore>()
            ?? throw ManagementProblem.Unavailable("The metadata store does not keep an audit log.");
        var request = context.Request;
        var (limit, last) = ManagementInput.ReadPaging(request, _options.MaxPageSize);
        long? before = null;
        if (last is not null)
        {
            before = long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
                ? sequence
                : throw ManagementProblem.Invalid("last", $"The cursor last='{last}' is invalid; use the value from the Link header of the previous page.");
        }

        var filter = new AuditFilter(
            ManagementInput.ReadSearchText(request, "actor", AuditEntry.MaxFieldLength),
            ManagementInput.ReadSearchText(request, "repository", AuditEntry.MaxFieldLength),
            ManagementInput.ReadSearchText(request, "action", AuditEntry.MaxFieldLength),
            ReadResult(request),
            ReadTime(request, "since"),
            ReadTime(request, "until"));
        var entries = await store.ListAuditEntriesAsync(filter, before, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, entries, limit, entry => entry.Sequence.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new AuditEntryListResponse(page.Select(AuditEntryResponse.From).ToList()));
    }

    private static AuditResult? ReadResult(HttpRequest request)
    {
        var text = ManagementInput.ReadSearchText(request, "result", 20);
        return text switch
        {
            null => null,
            "succeeded" => AuditResult.Succeeded,
            "denied" => AuditResult.Denied,
            "failed" => AuditResult.Failed,
            _ => throw ManagementProblem.Invalid("result", $"The result '{text}' is invalid; use succeeded, denied or failed."),
        };
    }

    private static DateTimeOffset? ReadTime(HttpRequest request, string parameter)
    {
        var text = ManagementInput.ReadSearchText(request, parameter, 64);
        if (text is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time
            : throw ManagementProblem.Invalid(parameter, $"The time {parameter}='{text}' is invalid; use an ISO 8601 time such as 2026-01-31T12:00:00Z.");
    }
}

/// <summary>A page of audit entries.</summary>
internal sealed record AuditEntryListResponse(IReadOnlyList<AuditEntryResponse> Entries);

/// <summary>One audit entry. <c>Result</c> is succeeded, denied or failed.</summary>
internal sealed record AuditEntryResponse(
    long Sequence,
    DateTimeOffset Time,
    string? Actor,
    string? ClientAddress,
    string? Repository,
    string Action,
    string Result,
    int Status,
    string? Detail)
{
    public static AuditEntryResponse From(StoredAuditEntry stored)
    {
        var entry = stored.Entry;
        var result = entry.Result switch
        {
            AuditResult.Succeeded => "succeeded",
            AuditResult.Denied => "denied",
            _ => "failed",
        };
        return new AuditEntryResponse(stored.Sequence, entry.Time, entry.Actor, entry.ClientAddress, entry.Repository, entry.Action, result, entry.Status, entry.Detail);
    }
}

using System.Globalization;
using System.Net;
using Dtr.AspNetCore.Configuration;
using Dtr.AspNetCore.Security;
using Dtr.AspNetCore.Webhooks;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Dtr.Scanning;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// Webhook subscriptions: <c>/webhooks</c>. System administrators manage every subscription, and only they may
/// subscribe to the whole registry. Namespace owners manage the subscriptions of their namespace and its
/// repositories, and repository administrators those of their repository.
/// </summary>
internal sealed class WebhookEndpoints
{
    private readonly ManagementAccess _access;
    private readonly WebhookSubscriptionCache _cache;
    private readonly WebhookWakeSignal _wake;
    private readonly IOptionsMonitor<RegistryOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<WebhookEndpoints> _logger;

    public WebhookEndpoints(
        ManagementAccess access,
        WebhookSubscriptionCache cache,
        WebhookWakeSignal wake,
        IOptionsMonitor<RegistryOptions> options,
        TimeProvider time,
        ILogger<WebhookEndpoints> logger)
    {
        _access = access;
        _cache = cache;
        _wake = wake;
        _options = options;
        _time = time;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var webhooks = group.MapGroup("/webhooks").WithTags("Webhooks");

        webhooks.MapPost("", ([FromServices] WebhookEndpoints e, HttpContext c) => e.CreateAsync(c))
            .WithName("CreateWebhook").WithSummary("Subscribe a URL to events of a repository, a namespace or the whole registry; the response shows the signing secret once")
            .Accepts<CreateWebhookRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<WebhookCreatedResponse>(StatusCodes.Status201Created)
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapGet("", ([FromServices] WebhookEndpoints e, HttpContext c) => e.ListAsync(c))
            .WithName("ListWebhooks").WithSummary("List webhooks by id, a page at a time; ?namespace= or ?repository= filters, and non-administrators must give one")
            .Produces<WebhookListResponse>().ProducesValidationProblem();

        webhooks.MapGet("/{id}", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.GetAsync(c, id))
            .WithName("GetWebhook").WithSummary("Get a webhook; the secret is never shown again")
            .Produces<WebhookResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPatch("/{id}", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.UpdateAsync(c, id))
            .WithName("UpdateWebhook").WithSummary("Change a webhook's url, events, minSeverity, enabled or description")
            .Accepts<UpdateWebhookRequest>(ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<WebhookResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapDelete("/{id}", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.DeleteAsync(c, id))
            .WithName("DeleteWebhook").WithSummary("Delete a webhook with its queued deliveries and delivery log")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{id}/secret", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.RotateSecretAsync(c, id))
            .WithName("RotateWebhookSecret").WithSummary("Replace a webhook's signing secret and show the new one once; queued deliveries are signed with it")
            .Produces<WebhookSecretResponse>().ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{id}/test", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.SendTestAsync(c, id))
            .WithName("SendWebhookTestEvent").WithSummary("Queue a webhook.test event for the webhook, even when it is disabled or does not subscribe to it")
            .Produces<WebhookDeliveryQueuedResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapGet("/{id}/deliveries", ([FromServices] WebhookEndpoints e, HttpContext c, string id) => e.ListDeliveriesAsync(c, id))
            .WithName("ListWebhookDeliveries").WithSummary("List the webhook's delivery attempts, newest first, a page at a time")
            .Produces<WebhookAttemptListResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        webhooks.MapPost("/{id}/deliveries/{deliveryId}/redeliver", ([FromServices] WebhookEndpoints e, HttpContext c, string id, string deliveryId) => e.RedeliverAsync(c, id, deliveryId))
            .WithName("RedeliverWebhookDelivery").WithSummary("Queue a new delivery with the same event and payload as an earlier one")
            .Produces<WebhookDeliveryQueuedResponse>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static IWebhookStore RequireStore(HttpContext context) =>
        context.RequestServices.GetService<IWebhookStore>()
        ?? throw ManagementProblem.Unavailable("The metadata store does not keep webhooks.");

    private async Task<IResult> CreateAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var request = await ManagementInput.ReadBodyAsync<CreateWebhookRequest>(context);
        var (scope, target) = ParseScope(request.Scope, request.Target);
        var url = ValidateUrl(request.Url);
        var events = ParseEvents(request.Events) ?? throw ManagementProblem.Invalid("events", $"The events are missing; give one or more of {string.Join(", ", WebhookEventNames.All)}.");
        var minSeverity = ParseSeverity(request.MinSeverity) ?? Severity.High;
        var description = CheckDescription(request.Description);

        await RequireManagerAsync(context, caller, scope, target, "create webhooks");
        RecordAuditRepository(context, scope, target);

        var now = _time.GetUtcNow();
        var subscription = new WebhookSubscription(0, scope, target, url, events, minSeverity, request.Enabled ?? true, WebhookSignature.NewSecret(), description, caller.UserName, now, now);
        var created = await store.CreateWebhookAsync(subscription, context.RequestAborted);
        _cache.Invalidate();
        WebhookLog.WebhookChanged(_logger, created.Id, FormatScope(scope), target, "created", UserEndpoints.Describe(caller));
        var location = ManagementEndpoints.Prefix(context) + "/webhooks/" + created.Id.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Created(location, WebhookCreatedResponse.From(created));
    }

    private async Task<IResult> ListAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.CurrentValue.MaxPageSize);
        long? after = null;
        if (last is not null)
        {
            after = long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var id)
                ? id
                : throw ManagementProblem.Invalid("last", $"The cursor last='{last}' is invalid; use the value from the Link header of the previous page.");
        }

        var namespaceName = ManagementInput.ReadSearchText(context.Request, "namespace", RepositoryName.MaxLength);
        var repositoryText = ManagementInput.ReadSearchText(context.Request, "repository", RepositoryName.MaxLength);
        if (namespaceName is not null && repositoryText is not null)
        {
            throw ManagementProblem.Invalid("repository", "Give either namespace= or repository=, not both.");
        }

        if (namespaceName is not null)
        {
            ManagementInput.RequireName(namespaceName, "namespace");
            await _access.RequireNamespaceOwnerAsync(caller, namespaceName, "list webhooks", context.RequestAborted);
        }
        else if (repositoryText is not null)
        {
            var repository = ParseRepository(repositoryText, "repository");
            await RequireRepositoryAdminAsync(caller, repository, context.RequestAborted);
        }
        else if (!caller.IsAdmin)
        {
            throw ManagementProblem.Forbidden("Only system administrators may list every webhook; give ?namespace= or ?repository= to list those you manage.");
        }

        var subscriptions = await store.ListWebhooksAsync(new WebhookQuery(namespaceName, repositoryText), after, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, subscriptions, limit, subscription => subscription.Id.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new WebhookListResponse(page.Select(WebhookResponse.From).ToList()));
    }

    private async Task<IResult> GetAsync(HttpContext context, string id)
    {
        var subscription = await RequireWebhookAsync(context, id, "read webhooks");
        return TypedResults.Ok(WebhookResponse.From(subscription));
    }

    private async Task<IResult> UpdateAsync(HttpContext context, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var body = await ManagementInput.ReadJsonBytesAsync(context);
        var request = ManagementInput.ParseBody<UpdateWebhookRequest>(body);
        var present = ReadPresentFields(body);
        RejectNull(present, "url", "the absolute http or https URL that receives the events");
        RejectNull(present, "events", "one or more event types");
        RejectNull(present, "minSeverity", "critical, high, medium, low or unknown");
        RejectNull(present, "enabled", "true or false");
        var subscription = await RequireWebhookAsync(context, id, "change webhooks");

        // A description of null or "" removes it; a missing member keeps the stored value.
        var description = present.ContainsKey("description")
            ? CheckDescription(string.IsNullOrEmpty(request.Description) ? null : request.Description)
            : subscription.Description;
        var changed = subscription with
        {
            Url = request.Url is null ? subscription.Url : ValidateUrl(request.Url),
            Events = ParseEvents(request.Events) ?? subscription.Events,
            MinSeverity = ParseSeverity(request.MinSeverity) ?? subscription.MinSeverity,
            Enabled = request.Enabled ?? subscription.Enabled,
            Description = description,
            UpdatedAt = _time.GetUtcNow(),
        };
        if (!await store.UpdateWebhookAsync(changed, context.RequestAborted))
        {
            throw NotFound(id);
        }

        _cache.Invalidate();
        WebhookLog.WebhookChanged(_logger, changed.Id, FormatScope(changed.Scope), changed.Target, "changed", UserEndpoints.Describe(caller));
        return TypedResults.Ok(WebhookResponse.From(changed));
    }

    private async Task<IResult> DeleteAsync(HttpContext context, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var subscription = await RequireWebhookAsync(context, id, "delete webhooks");
        if (!await store.DeleteWebhookAsync(subscription.Id, context.RequestAborted))
        {
            throw NotFound(id);
        }

        _cache.Invalidate();
        WebhookLog.WebhookChanged(_logger, subscription.Id, FormatScope(subscription.Scope), subscription.Target, "deleted", UserEndpoints.Describe(caller));
        return TypedResults.NoContent();
    }

    private async Task<IResult> RotateSecretAsync(HttpContext context, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var subscription = await RequireWebhookAsync(context, id, "rotate webhook secrets");
        var changed = subscription with { Secret = WebhookSignature.NewSecret(), UpdatedAt = _time.GetUtcNow() };
        if (!await store.UpdateWebhookAsync(changed, context.RequestAborted))
        {
            throw NotFound(id);
        }

        _cache.Invalidate();
        WebhookLog.WebhookChanged(_logger, changed.Id, FormatScope(changed.Scope), changed.Target, "given a new secret", UserEndpoints.Describe(caller));
        return TypedResults.Ok(new WebhookSecretResponse(changed.Id, changed.Secret));
    }

    private async Task<IResult> SendTestAsync(HttpContext context, string id)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        var store = RequireStore(context);
        var subscription = await RequireWebhookAsync(context, id, "test webhooks");
        var now = _time.GetUtcNow();
        var eventId = Guid.NewGuid().ToString();
        var registry = context.RequestServices.GetRequiredService<Http.RegistryUrls>().Registry(context.Request);
        var payload = new WebhookPayload(eventId, WebhookEventNames.Test, now, registry, subscription.Target, null, null, null, caller.UserName, null, subscription.Id);
        var ids = await store.EnqueueWebhookDeliveriesAsync(
            [new WebhookDeliveryRequest(subscription.Id, eventId, WebhookEventNames.Test, payload.Serialize(), now)],
            context.RequestAborted);
        if (ids[0] == 0)
        {
            throw NotFound(id);
        }

        _wake.Set();
        return TypedResults.Accepted((string?)null, new WebhookDeliveryQueuedResponse(ids[0], eventId));
    }

    private async Task<IResult> ListDeliveriesAsync(HttpContext context, string id)
    {
        var store = RequireStore(context);
        var subscription = await RequireWebhookAsync(context, id, "read webhook deliveries");
        var (limit, last) = ManagementInput.ReadPaging(context.Request, _options.CurrentValue.MaxPageSize);
        long? before = null;
        if (last is not null)
        {
            before = long.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var sequence)
                ? sequence
                : throw ManagementProblem.Invalid("last", $"The cursor last='{last}' is invalid; use the value from the Link header of the previous page.");
        }

        var attempts = await store.ListWebhookAttemptsAsync(subscription.Id, before, limit + 1, context.RequestAborted);
        var page = ManagementInput.Page(context, attempts, limit, attempt => attempt.Sequence.ToString(CultureInfo.InvariantCulture));
        return TypedResults.Ok(new WebhookAttemptListResponse(page.Select(WebhookAttemptResponse.From).ToList()));
    }

    private async Task<IResult> RedeliverAsync(HttpContext context, string id, string deliveryIdText)
    {
        var store = RequireStore(context);
        var subscription = await RequireWebhookAsync(context, id, "redeliver webhook events");
        if (!long.TryParse(deliveryIdText, NumberStyles.None, CultureInfo.InvariantCulture, out var deliveryId)
            || await store.GetWebhookDeliveryAsync(deliveryId, context.RequestAborted) is not { } delivery
            || delivery.WebhookId != subscription.Id)
        {
            throw ManagementProblem.NotFound($"The webhook {subscription.Id} has no delivery '{deliveryIdText}'; deliveries are deleted after Registry:Webhooks:Retention.");
        }

        var ids = await store.EnqueueWebhookDeliveriesAsync(
            [new WebhookDeliveryRequest(subscription.Id, delivery.EventId, delivery.EventType, delivery.Payload, _time.GetUtcNow())],
            context.RequestAborted);
        if (ids[0] == 0)
        {
            throw NotFound(id);
        }

        _wake.Set();
        return TypedResults.Accepted((string?)null, new WebhookDeliveryQueuedResponse(ids[0], delivery.EventId));
    }

    /// <summary>
    /// Returns the subscription after checking that the caller manages it. A caller who does not manage it gets the
    /// same 404 as for a missing id, so ids reveal neither that a webhook exists nor the name it targets.
    /// </summary>
    private async Task<WebhookSubscription> RequireWebhookAsync(HttpContext context, string id, string action)
    {
        var store = RequireStore(context);
        if (!long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var webhookId)
            || await store.GetWebhookAsync(webhookId, context.RequestAborted) is not { } subscription)
        {
            throw NotFound(id);
        }

        try
        {
            await RequireManagerAsync(context, ManagementRequestFilter.GetCaller(context), subscription.Scope, subscription.Target, action);
        }
        catch (ManagementProblem problem) when (problem.Status is StatusCodes.Status403Forbidden or StatusCodes.Status404NotFound)
        {
            throw NotFound(id);
        }

        RecordAuditRepository(context, subscription.Scope, subscription.Target);
        return subscription;
    }

    /// <summary>
    /// Names the repository of a repository-scoped webhook in the audit record of the request, so that
    /// <c>GET /audit?repository=</c> finds changes to its webhooks. Namespace and registry webhooks name no repository.
    /// </summary>
    private static void RecordAuditRepository(HttpContext context, WebhookScope scope, string? target)
    {
        if (scope == WebhookScope.Repository && target is not null)
        {
            ManagementRequestFilter.SetAuditRepository(context, target);
        }
    }

    private async Task RequireManagerAsync(HttpContext context, RegistryCaller caller, WebhookScope scope, string? target, string action)
    {
        switch (scope)
        {
            case WebhookScope.Registry:
                ManagementAccess.RequireAdmin(caller, action + " for the whole registry");
                break;
            case WebhookScope.Namespace:
                await _access.RequireNamespaceOwnerAsync(caller, target!, action, context.RequestAborted);
                break;
            default:
                await RequireRepositoryAdminAsync(caller, ParseRepository(target!, "target"), context.RequestAborted);
                break;
        }
    }

    private async Task RequireRepositoryAdminAsync(RegistryCaller caller, RepositoryName repository, CancellationToken cancellationToken) =>
        await _access.RequireRepositoryAsync(caller, repository, AccessLevel.Admin, "managing its webhooks", cancellationToken);

    /// <summary>
    /// Returns each top-level member of a JSON object body, by name (case-insensitive), with whether its value is null.
    /// <see cref="ManagementInput.ParseBody{T}"/> has already checked that the body is an object without repeated names.
    /// </summary>
    private static Dictionary<string, bool> ReadPresentFields(byte[] body)
    {
        using var document = System.Text.Json.JsonDocument.Parse(body);
        var fields = new Dictionary<string, bool>(StringComparer.OrdinalIgnoreCase);
        foreach (var member in document.RootElement.EnumerateObject())
        {
            fields[member.Name] = member.Value.ValueKind == System.Text.Json.JsonValueKind.Null;
        }

        return fields;
    }

    private static void RejectNull(Dictionary<string, bool> present, string field, string expected)
    {
        if (present.TryGetValue(field, out var isNull) && isNull)
        {
            throw ManagementProblem.Invalid(field, $"The {field} cannot be null; give {expected}, or leave the field out to keep its value.");
        }
    }

    private static ManagementProblem NotFound(string id) => ManagementProblem.NotFound($"The webhook '{id}' does not exist.");

    private static (WebhookScope Scope, string? Target) ParseScope(string? scope, string? target)
    {
        switch (scope)
        {
            case "registry":
                return target is null
                    ? (WebhookScope.Registry, null)
                    : throw ManagementProblem.Invalid("target", "A webhook of scope 'registry' takes no target; remove it.");
            case "namespace":
                return (WebhookScope.Namespace, ManagementInput.RequireName(target, "target"));
            case "repository":
                return (WebhookScope.Repository, ParseRepository(target, "target").Value);
            default:
                throw ManagementProblem.Invalid("scope", $"The scope '{scope}' is invalid; use repository, namespace or registry.");
        }
    }

    private static RepositoryName ParseRepository(string? text, string field)
    {
        if (string.IsNullOrEmpty(text))
        {
            throw ManagementProblem.Invalid(field, $"The {field} is missing; give a repository name such as 'acme/app'.");
        }

        return RepositoryName.TryParse(text, out var name, out var error) && name.Value.Contains('/', StringComparison.Ordinal)
            ? name
            : throw ManagementProblem.Invalid(field, $"The repository '{text}' is invalid: {error ?? "give the namespace and the name, such as 'acme/app'"}.");
    }

    /// <summary>Checks that the URL is absolute http or https, and not private when the options forbid it.</summary>
    private string ValidateUrl(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw ManagementProblem.Invalid("url", "The url is missing; give the absolute http or https URL that receives the events.");
        }

        if (text.Length > WebhookSubscription.MaxUrlLength)
        {
            throw ManagementProblem.Invalid("url", $"The url is {text.Length} characters long; the maximum is {WebhookSubscription.MaxUrlLength}.");
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps) || url.Host.Length == 0)
        {
            throw ManagementProblem.Invalid("url", $"The url '{text}' is invalid; give an absolute http or https URL such as https://ci.example.com/hooks/dtr.");
        }

        if (!string.IsNullOrEmpty(url.UserInfo))
        {
            throw ManagementProblem.Invalid("url", "The url contains a user name or password; put credentials in the receiver's path or query, or verify the signature instead.");
        }

        if (!_options.CurrentValue.Webhooks.AllowPrivateAddresses
            && (url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var address) && WebhookAddressPolicy.IsPrivate(address))))
        {
            throw ManagementProblem.Invalid("url", $"The url '{text}' points at an address that is not public (loopback, private, link-local, multicast or another reserved range), which Registry:Webhooks:AllowPrivateAddresses=false forbids.");
        }

        return url.AbsoluteUri;
    }

    private static WebhookEventTypes? ParseEvents(IReadOnlyList<string>? names)
    {
        if (names is null)
        {
            return null;
        }

        var events = WebhookEventTypes.None;
        foreach (var name in names)
        {
            if (!WebhookEventNames.TryParse(name, out var type))
            {
                throw ManagementProblem.Invalid("events", $"The event '{name}' is invalid; use {string.Join(", ", WebhookEventNames.All)}.");
            }

            events |= type;
        }

        return events == WebhookEventTypes.None
            ? throw ManagementProblem.Invalid("events", $"The events are empty; give one or more of {string.Join(", ", WebhookEventNames.All)}.")
            : events;
    }

    private static Severity? ParseSeverity(string? text)
    {
        if (text is null)
        {
            return null;
        }

        return Dtr.Scanning.Service.SeverityNames.TryParse(text, out var severity)
            ? severity
            : throw ManagementProblem.Invalid("minSeverity", $"The minSeverity '{text}' is invalid; use critical, high, medium, low or unknown.");
    }

    private static string? CheckDescription(string? description) =>
        description is not null && description.Length > WebhookSubscription.MaxDescriptionLength
            ? throw ManagementProblem.Invalid("description", $"The description is {description.Length} characters long; the maximum is {WebhookSubscription.MaxDescriptionLength}.")
            : description;

    internal static string FormatScope(WebhookScope scope) => scope switch
    {
        WebhookScope.Registry => "registry",
        WebhookScope.Namespace => "namespace",
        _ => "repository",
    };
}

/// <summary>The body of <c>POST /webhooks</c>.</summary>
/// <param name="Url">The absolute http or https URL that receives the events.</param>
/// <param name="Scope">repository, namespace or registry.</param>
/// <param name="Target">The repository (such as acme/app) or namespace name; none for registry.</param>
/// <param name="Events">The event types, such as image.pushed.</param>
/// <param name="MinSeverity">The lowest severity that raises scan.vulnerabilities_found; default high.</param>
/// <param name="Enabled">Whether events are sent; default true.</param>
/// <param name="Description">A note, at most 1000 characters.</param>
internal sealed record CreateWebhookRequest(string? Url, string? Scope, string? Target, IReadOnlyList<string>? Events, string? MinSeverity, bool? Enabled, string? Description);

/// <summary>
/// The body of <c>PATCH /webhooks/{id}</c>. A missing member keeps its value, and a null or empty description removes
/// it. The other members cannot be null.
/// </summary>
internal sealed record UpdateWebhookRequest(string? Url, IReadOnlyList<string>? Events, string? MinSeverity, bool? Enabled, string? Description);

/// <summary>A webhook subscription, without its secret.</summary>
internal sealed record WebhookResponse(
    long Id,
    string Scope,
    string? Target,
    string Url,
    IReadOnlyList<string> Events,
    string MinSeverity,
    bool Enabled,
    string? Description,
    string? CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    public static WebhookResponse From(WebhookSubscription subscription) => new(
        subscription.Id,
        WebhookEndpoints.FormatScope(subscription.Scope),
        subscription.Target,
        subscription.Url,
        WebhookEventNames.FormatAll(subscription.Events),
        Dtr.Scanning.Service.SeverityNames.Format(subscription.MinSeverity),
        subscription.Enabled,
        subscription.Description,
        subscription.CreatedBy,
        subscription.CreatedAt,
        subscription.UpdatedAt);
}

/// <summary>A new webhook subscription with its signing secret, which no later response shows.</summary>
internal sealed record WebhookCreatedResponse(
    long Id,
    string Scope,
    string? Target,
    string Url,
    IReadOnlyList<string> Events,
    string MinSeverity,
    bool Enabled,
    string? Description,
    string? CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string Secret)
{
    public static WebhookCreatedResponse From(WebhookSubscription subscription)
    {
        var response = WebhookResponse.From(subscription);
        return new WebhookCreatedResponse(
            response.Id, response.Scope, response.Target, response.Url, response.Events, response.MinSeverity, response.Enabled,
            response.Description, response.CreatedBy, response.CreatedAt, response.UpdatedAt, subscription.Secret);
    }
}

/// <summary>A page of webhooks.</summary>
internal sealed record WebhookListResponse(IReadOnlyList<WebhookResponse> Webhooks);

/// <summary>A webhook's new signing secret, shown once.</summary>
internal sealed record WebhookSecretResponse(long Id, string Secret);

/// <summary>A queued delivery.</summary>
internal sealed record WebhookDeliveryQueuedResponse(long DeliveryId, string EventId);

/// <summary>A page of delivery attempts.</summary>
internal sealed record WebhookAttemptListResponse(IReadOnlyList<WebhookAttemptResponse> Attempts);

/// <summary>
/// One delivery attempt. <c>StatusCode</c> is null when no response arrived, <c>Error</c> null when the attempt
/// succeeded, and <c>Result</c> is succeeded or failed.
/// </summary>
internal sealed record WebhookAttemptResponse(
    long Sequence,
    long DeliveryId,
    string EventId,
    string EventType,
    int Attempt,
    DateTimeOffset Time,
    string Result,
    int? StatusCode,
    string? Error,
    long DurationMilliseconds)
{
    public static WebhookAttemptResponse From(StoredWebhookAttempt stored) => new(
        stored.Sequence,
        stored.DeliveryId,
        stored.EventId,
        stored.EventType,
        stored.Attempt.Number,
        stored.Attempt.Time,
        stored.Attempt.Succeeded ? "succeeded" : "failed",
        stored.Attempt.StatusCode,
        stored.Attempt.Error,
        (long)stored.Attempt.Duration.TotalMilliseconds);
}

using System.Text.Json;
using Dtr.AspNetCore.Management;
using Dtr.Metadata;
using Dtr.Scanning.Service;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// The runtime settings part of the management API (<c>/settings</c>): reading the effective settings and changing
/// them with a JSON merge patch. Only system administrators may use it.
/// </summary>
internal sealed class SettingsEndpoints
{
    /// <summary>The media type of a JSON merge patch (RFC 7396).</summary>
    public const string MergePatchContentType = "application/merge-patch+json";

    // A save that loses the race with another host's save reads the new document and applies the patch again.
    private const int MaxSaveAttempts = 5;

    private readonly RegistrySettings _settings;
    private readonly IBlobStore _blobs;
    private readonly IMetadataStore _metadata;
    private readonly IServiceProvider _services;
    private readonly ILogger<SettingsEndpoints> _logger;

    public SettingsEndpoints(RegistrySettings settings, IBlobStore blobs, IMetadataStore metadata, IServiceProvider services, ILogger<SettingsEndpoints> logger)
    {
        _settings = settings;
        _blobs = blobs;
        _metadata = metadata;
        _services = services;
        _logger = logger;
    }

    public static void Map(IEndpointRouteBuilder group)
    {
        var settings = group.MapGroup("/settings").WithTags("Settings");

        settings.MapGet("", ([FromServices] SettingsEndpoints e, HttpContext c) => e.GetAsync(c))
            .WithName("GetSettings")
            .WithSummary("Get the effective runtime settings and storage usage (system administrators)")
            .Produces<SettingsResponse>();

        settings.MapPatch("", ([FromServices] SettingsEndpoints e, HttpContext c) => e.PatchAsync(c))
            .WithName("PatchSettings")
            .WithSummary("Change runtime settings with a JSON merge patch; null resets a member to its configured value (system administrators)")
            .Accepts(typeof(SettingsResponse), MergePatchContentType, ManagementEndpoints.JsonContentType, ManagementEndpoints.AnyContentType)
            .Produces<SettingsResponse>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);
    }

    private async Task<IResult> GetAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "read the registry settings");
        return TypedResults.Ok(await ToResponseAsync(_settings.Current, context.RequestAborted));
    }

    private async Task<IResult> PatchAsync(HttpContext context)
    {
        var caller = ManagementRequestFilter.GetCaller(context);
        ManagementAccess.RequireAdmin(caller, "change the registry settings");
        var patch = SettingsPatch.Parse(await ManagementInput.ReadJsonBytesAsync(context));
        if (!_settings.IsStored)
        {
            throw ManagementProblem.Conflict("The metadata store of this registry does not keep settings, so they can only be changed in configuration.");
        }

        var cancellationToken = context.RequestAborted;
        for (var attempt = 0; attempt < MaxSaveAttempts; attempt++)
        {
            EffectiveSettings latest;
            try
            {
                latest = await _settings.ReadLatestAsync(cancellationToken);
            }
            catch (Exception exception) when (exception is JsonException or UriFormatException)
            {
                // Only a document written by something other than this endpoint gets here.
                throw ManagementProblem.Conflict($"The stored settings cannot be read ({exception.Message}); send null for each section to reset them.");
            }

            var document = patch.ApplyTo(latest);
            var preview = _settings.Preview(document, latest);
            Validate(patch, preview);

            var saved = await _settings.TrySaveAsync(document, latest, caller.UserName, cancellationToken);
            if (saved is not null)
            {
                SettingsLog.SettingsChanged(_logger, saved.Version, caller.UserName ?? "(anonymous)", string.Join(", ", patch.MemberNames));
                return TypedResults.Ok(await ToResponseAsync(saved, cancellationToken));
            }
        }

        throw ManagementProblem.Conflict($"The settings changed {MaxSaveAttempts} times while this request was applied; send it again.");
    }

    /// <summary>
    /// Validates the result with the start-up rules and messages, and throws a 400 keyed by the JSON path of each
    /// setting that a message names.
    /// </summary>
    private static void Validate(SettingsPatch patch, EffectiveSettings result)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var message in result.Validate())
        {
            var path = PathOfSetting(message);
            if (!errors.TryGetValue(path, out var list))
            {
                list = [];
                errors[path] = list;
            }

            list.Add(message);
        }

        if (patch.RequestsOnlineModeWithoutUrls(result))
        {
            errors["$.scanning.mode"] = ["'scanning.mode' is \"online\" but no database URL is set; send 'scanning.databaseUrls' with at least one URL."];
        }

        if (errors.Count > 0)
        {
            throw ManagementProblem.Invalid(
                errors.ToDictionary(entry => entry.Key, entry => entry.Value.ToArray(), StringComparer.Ordinal),
                "The settings are invalid: " + string.Join(" ", errors.SelectMany(entry => entry.Value)));
        }
    }

    /// <summary>Maps a validator message, which starts with the configuration key it is about, to the resource's JSON path.</summary>
    private static string PathOfSetting(string message) => message switch
    {
        _ when message.StartsWith("Registry:PublicBaseUrl", StringComparison.Ordinal) => "$.general.publicBaseUrl",
        _ when message.StartsWith("Registry:Scanning:DatabaseUrls", StringComparison.Ordinal) => "$.scanning.databaseUrls",
        _ when message.StartsWith("Registry:Scanning:UpdateInterval", StringComparison.Ordinal) => "$.scanning.updateIntervalMinutes",
        _ when message.StartsWith("Registry:GarbageCollection:ScheduleInterval", StringComparison.Ordinal) => "$.garbageCollection.scheduleIntervalMinutes",
        _ when message.StartsWith("Registry:GarbageCollection:ScheduleCron", StringComparison.Ordinal) => "$.garbageCollection.scheduleCron",
        _ when message.StartsWith("Registry:GarbageCollection:ScheduleTimeZone", StringComparison.Ordinal) => "$.garbageCollection.scheduleTimeZone",
        _ when message.StartsWith("Registry:GarbageCollection:ScheduleMaxDuration", StringComparison.Ordinal) => "$.garbageCollection.maxDurationMinutes",
        _ => "$",
    };

    private async Task<SettingsResponse> ToResponseAsync(EffectiveSettings settings, CancellationToken cancellationToken)
    {
        var options = settings.Options;
        var scanning = options.Scanning;
        var gc = options.GarbageCollection;

        long? blobCount = null;
        long? totalBytes = null;
        if (_services.GetService(typeof(ISettingsStore)) is ISettingsStore store)
        {
            var usage = await store.GetBlobUsageAsync(cancellationToken);
            blobCount = usage.BlobCount;
            totalBytes = usage.TotalBytes;
        }

        return new SettingsResponse(
            new GeneralSettingsResponse(options.PublicBaseUrl?.ToString(), options.CreateRepositoryOnPush),
            new ScanningSettingsResponse(
                scanning.Enabled,
                scanning.DatabaseUrls.Count > 0 ? "online" : "offline",
                scanning.DatabaseUrls.Select(DatabaseUrl.Redact).ToList(),
                scanning.UpdateInterval.TotalMinutes),
            new GarbageCollectionSettingsResponse(
                gc.ScheduleInterval?.TotalMinutes,
                gc.ScheduleCron,
                gc.ScheduleTimeZone,
                gc.ScheduleMaxDuration?.TotalMinutes,
                gc.ScheduleDeletesUntagged),
            new StorageSettingsResponse(
                Describe(_blobs)?.StorageKind ?? ITracingDecorator.Unwrap(_blobs).GetType().Name,
                Describe(_blobs)?.StorageLocation,
                Describe(_metadata)?.StorageKind ?? ITracingDecorator.Unwrap(_metadata).GetType().Name,
                blobCount,
                totalBytes),
            settings.UpdatedAt,
            settings.UpdatedBy);
    }

    private static IStorageDescription? Describe(object store) => ITracingDecorator.Unwrap(store) as IStorageDescription;
}

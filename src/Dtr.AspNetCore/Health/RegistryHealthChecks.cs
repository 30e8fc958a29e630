using System.Globalization;
using System.Text.Json;
using Dtr.Storage;
using Dtr.Telemetry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Dtr.AspNetCore.Health;

/// <summary>
/// Registers the storage readiness checks and writes the readiness response.
/// </summary>
internal static class RegistryHealthChecks
{
    /// <summary>The tag of the checks that the readiness endpoint runs. A host may tag checks of its own with it.</summary>
    public const string ReadyTag = "ready";

    public const string MetadataStoreCheckName = "metadata-store";

    public const string BlobStoreCheckName = "blob-store";

    /// <summary>The log category of the health check service of Microsoft.Extensions.Diagnostics.HealthChecks.</summary>
    public const string HealthCheckServiceCategory = "Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService";

    /// <summary>
    /// How long one check may run before it counts as failed. A store that accepts connections but never responds
    /// would otherwise hold the probe for as long as its resilience pipeline retries, which can take minutes.
    /// </summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Adds the metadata and blob store checks, tagged <see cref="ReadyTag"/>, once per service collection.</summary>
    public static void Add(IServiceCollection services)
    {
        // The health check service rejects two registrations with the same name, so a second AddDockerRegistry call
        // must not add the checks again.
        if (services.Any(service => service.ServiceType == typeof(MetadataStoreHealthCheck)))
        {
            return;
        }

        services.AddSingleton<ReadinessStateLog>();
        // The health check service logs every failed check at Error with its exception, on every run. The readiness
        // endpoint logs changes through ReadinessStateLog instead. Inserted first, the rule loses to a host's own
        // rule for the same category, such as Logging:LogLevel:{category} in configuration.
        // NOTE: the rule also hides the failures of checks that other health endpoints of the host run.
        services.Configure<LoggerFilterOptions>(options =>
            options.Rules.Insert(0, new LoggerFilterRule(null, HealthCheckServiceCategory, LogLevel.Critical, null)));
        services.AddSingleton<MetadataStoreHealthCheck>();
        services.AddSingleton<BlobStoreHealthCheck>();
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration(
                MetadataStoreCheckName,
                provider => provider.GetRequiredService<MetadataStoreHealthCheck>(),
                failureStatus: HealthStatus.Unhealthy,
                tags: [ReadyTag],
                timeout: CheckTimeout))
            .Add(new HealthCheckRegistration(
                BlobStoreCheckName,
                provider => provider.GetRequiredService<BlobStoreHealthCheck>(),
                failureStatus: HealthStatus.Unhealthy,
                tags: [ReadyTag],
                timeout: CheckTimeout));
    }

    /// <summary>Returns the store's <see cref="IStorageDescription.StorageKind"/>, or its type name when it has none.</summary>
    public static string DescribeKind(object store)
    {
        var inner = ITracingDecorator.Unwrap(store);
        return inner is IStorageDescription description ? description.StorageKind : inner.GetType().Name;
    }

    /// <summary>
    /// Logs the changes of each check's result through <see cref="ReadinessStateLog"/>, then writes the report as
    /// JSON: the overall status and total duration, and each check's name, status, duration and description.
    /// Exceptions and check data stay out, because the endpoint needs no authentication.
    /// </summary>
    public static async Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.RequestServices.GetService<ReadinessStateLog>()?.Record(report);
        context.Response.ContentType = "application/json; charset=utf-8";

        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        writer.WriteString("totalDuration", FormatDuration(report.TotalDuration));
        writer.WriteStartArray("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject();
            writer.WriteString("name", name);
            writer.WriteString("status", entry.Status.ToString());
            writer.WriteString("duration", FormatDuration(entry.Duration));
            writer.WriteString("description", entry.Description);
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    // The constant format, such as 00:00:00.0123456, which TimeSpan.Parse reads back.
    private static string FormatDuration(TimeSpan duration) => duration.ToString("c", CultureInfo.InvariantCulture);
}

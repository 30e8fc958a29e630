using Dtr.Telemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

/// <summary>
/// Exports the registry's metrics and spans with the OpenTelemetry .NET SDK, as configured. Both exporters are off by
/// default, and with both off the SDK is not registered, so no instrument is aggregated in memory.
/// <list type="bullet">
/// <item><c>Telemetry:Prometheus:Enabled=true</c> serves the metrics in the Prometheus text format at
/// <c>Telemetry:Prometheus:Path</c> (default <c>/metrics</c>).</item>
/// <item>A non-empty <c>OTEL_EXPORTER_OTLP_ENDPOINT</c>, as an environment variable or any other configuration source,
/// sends metrics and traces over OTLP. The exporter reads that key and the other standard <c>OTEL_EXPORTER_OTLP_*</c>
/// keys (protocol, headers, timeout) itself.</item>
/// </list>
/// </summary>
internal static class SampleTelemetry
{
    public const string PrometheusEnabledKey = "Telemetry:Prometheus:Enabled";
    public const string PrometheusPathKey = "Telemetry:Prometheus:Path";
    public const string DefaultPrometheusPath = "/metrics";
    public const string OtlpEndpointKey = "OTEL_EXPORTER_OTLP_ENDPOINT";

    // Meters that ASP.NET Core and the .NET runtime publish themselves (.NET 9 and later), so exporting them needs no
    // instrumentation package. Their tags contain route templates, methods, status codes and connection details, never
    // a request's path, so repository names do not appear in them.
    private static readonly string[] PlatformMeters =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "System.Runtime",
    ];

    /// <summary>
    /// Registers the configured exporters and returns the choice. An invalid setting registers nothing and is listed in
    /// <see cref="TelemetryChoice.Errors"/>.
    /// </summary>
    public static TelemetryChoice Add(IServiceCollection services, IConfiguration configuration)
    {
        var errors = new List<string>();
        var prometheusEnabled = ReadBoolean(configuration, PrometheusEnabledKey, errors);
        var prometheusPath = configuration[PrometheusPathKey] is { Length: > 0 } path ? path : DefaultPrometheusPath;
        if (!prometheusPath.StartsWith('/') || prometheusPath.Contains('?') || prometheusPath.Contains('#'))
        {
            errors.Add($"{PrometheusPathKey} '{prometheusPath}' is not a valid path. Set it to a path that starts with '/', such as {DefaultPrometheusPath}.");
        }

        // TODO: only the shared endpoint turns OTLP export on. OTEL_EXPORTER_OTLP_METRICS_ENDPOINT or
        // OTEL_EXPORTER_OTLP_TRACES_ENDPOINT set alone exports nothing.
        var otlpEndpoint = configuration[OtlpEndpointKey];
        var otlpEnabled = !string.IsNullOrWhiteSpace(otlpEndpoint);

        // "collector:4317" parses as an absolute URI whose scheme is "collector", so the scheme is checked too.
        var otlpUriValid = Uri.TryCreate(otlpEndpoint, UriKind.Absolute, out var otlpUri)
            && (otlpUri.Scheme == Uri.UriSchemeHttp || otlpUri.Scheme == Uri.UriSchemeHttps);
        if (otlpEnabled && !otlpUriValid)
        {
            errors.Add($"{OtlpEndpointKey} '{otlpEndpoint}' is not an http or https URL. Set it to the collector's address, such as http://127.0.0.1:4317, or remove it to send nothing.");
        }

        var choice = new TelemetryChoice(prometheusEnabled, prometheusPath, otlpEnabled, errors);
        if (errors.Count > 0 || (!prometheusEnabled && !otlpEnabled))
        {
            return choice;
        }

        var openTelemetry = services.AddOpenTelemetry();
        openTelemetry.WithMetrics(metrics =>
        {
            metrics.AddMeter(RegistryTelemetry.MeterName).AddMeter(PlatformMeters);
            if (prometheusEnabled)
            {
                metrics.AddPrometheusExporter();
            }

            if (otlpEnabled)
            {
                metrics.AddOtlpExporter();
            }
        });

        // Spans only go over OTLP. The ASP.NET Core source adds one server span per request, the parent of the store
        // spans that the registry starts.
        if (otlpEnabled)
        {
            openTelemetry.WithTracing(tracing => tracing
                .AddSource(RegistryTelemetry.ActivitySourceName, "Microsoft.AspNetCore")
                .AddOtlpExporter());
        }

        return choice;
    }

    /// <summary>
    /// Maps the Prometheus scrape endpoint when it is enabled, and logs which exporters are on. The endpoint needs no
    /// sign-in, as the health checks do.
    /// </summary>
    public static void Map(WebApplication app, TelemetryChoice choice)
    {
        if (choice.PrometheusEnabled)
        {
            app.MapPrometheusScrapingEndpoint(choice.PrometheusPath);
            app.Logger.LogInformation("Serving Prometheus metrics at {PrometheusPath} without sign-in", choice.PrometheusPath);
        }

        if (choice.OtlpEnabled)
        {
            app.Logger.LogInformation("Sending metrics and traces over OTLP to the endpoint in {OtlpEndpointKey}", OtlpEndpointKey);
        }
    }

    private static bool ReadBoolean(IConfiguration configuration, string key, List<string> errors)
    {
        var value = configuration[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        if (bool.TryParse(value, out var result))
        {
            return result;
        }

        errors.Add($"{key} '{value}' is not a boolean. Set it to true or false.");
        return false;
    }
}

/// <summary>The exporters that <see cref="SampleTelemetry.Add"/> registered, and the settings it rejected.</summary>
internal sealed record TelemetryChoice(bool PrometheusEnabled, string PrometheusPath, bool OtlpEnabled, IReadOnlyList<string> Errors);

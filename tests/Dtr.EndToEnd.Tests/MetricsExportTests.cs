using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Dtr.Tests.Shared;

namespace Dtr.EndToEnd.Tests;

/// <summary>The sample host with its Prometheus scrape endpoint on at the default path, <c>/metrics</c>.</summary>
public sealed class PrometheusRegistryFixture : RegistryFixture
{
    protected override IEnumerable<string> ExtraHostArguments => ["--Telemetry:Prometheus:Enabled=true"];

    // The tests count the pushes and uploads of a host that received nothing else, so they need a host of their own.
    protected override bool AcceptsExternalRegistry => false;
}

/// <summary>The sample host started with no telemetry settings, for the defaults.</summary>
public sealed class DefaultSettingsRegistryFixture : RegistryFixture
{
    protected override bool AcceptsExternalRegistry => false;
}

/// <summary>Pushes an image with skopeo and reads the registry's metrics from the sample host's Prometheus endpoint.</summary>
public sealed class PrometheusScrapeTests(PrometheusRegistryFixture registry) : IClassFixture<PrometheusRegistryFixture>
{
    private const string Repository = "e2e/metrics-push";

    [Fact]
    public async Task Push_AppearsInScrape()
    {
        using var work = new TemporaryDirectory();
        var image = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        await registry.Skopeo.CopyAsync($"oci:{work.Combine("layout")}:1", registry.Skopeo.Reference(Repository, "1"));
        var expectedBlobs = image.Layers.Count + 1;

        // The registry records a request after its response is complete, so the last request of the push may reach
        // the meter a moment after skopeo exits.
        var scrape = await ScrapeUntilAsync(series => Sum(series, "dtr_registry_uploads_completed_total") >= expectedBlobs);

        var manifestPuts = Find(scrape, "dtr_registry_requests_total", ("dtr_operation", "manifest.put"), ("http_response_status_code", "201"));
        Assert.True(manifestPuts.Count == 1,
            $"The scrape has {manifestPuts.Count} dtr_registry_requests_total series for manifest.put with status 201; expected 1.\n{scrape.Text}");
        Assert.Equal(1, manifestPuts[0].Value);

        var uploadPuts = Find(scrape, "dtr_registry_requests_total", ("dtr_operation", "upload.put"), ("http_response_status_code", "201"));
        Assert.True(uploadPuts.Count == 1,
            $"The scrape has {uploadPuts.Count} dtr_registry_requests_total series for upload.put with status 201; expected 1.\n{scrape.Text}");

        var baseRequests = Find(scrape, "dtr_registry_requests_total", ("dtr_operation", "base"));
        Assert.True(baseRequests.Count > 0, $"The scrape has no dtr_registry_requests_total series for GET /v2/.\n{scrape.Text}");

        var durations = Find(scrape, "dtr_registry_request_duration_seconds_count", ("dtr_operation", "manifest.put"), ("http_response_status_code", "201"));
        Assert.True(durations.Count == 1,
            $"The scrape has {durations.Count} dtr_registry_request_duration_seconds_count series for manifest.put; expected 1.\n{scrape.Text}");

        Assert.Equal(1, Sum(scrape, "dtr_registry_pushes_total"));
        Assert.Equal(expectedBlobs, Sum(scrape, "dtr_registry_uploads_completed_total"));

        // The registry's series carry only the meter's name and the documented tags, so a scrape reveals no
        // repository, tag or digest.
        foreach (var series in scrape.Series.Where(s => s.Name.StartsWith("dtr_", StringComparison.Ordinal)))
        {
            Assert.True(series.Labels["otel_scope_name"] == "Dtr.Registry", $"Series {series.Line} is not labelled with the meter Dtr.Registry.");
            var unexpected = series.Labels.Keys.Except(["otel_scope_name", "dtr_operation", "http_response_status_code", "le"]).ToList();
            Assert.True(unexpected.Count == 0, $"Series {series.Line} has labels other than the operation and the status: {string.Join(", ", unexpected)}.");
        }

        Assert.DoesNotContain(Repository, scrape.Text, StringComparison.Ordinal);
        Assert.DoesNotContain(image.Manifest.Digest, scrape.Text, StringComparison.Ordinal);

        // ASP.NET Core, Kestrel and the runtime publish their own meters, which the host exports as well.
        Assert.True(scrape.Series.Any(s => s.Name == "http_server_request_duration_seconds_count"),
            $"The scrape has no http_server_request_duration_seconds_count series from ASP.NET Core.\n{scrape.Text}");
        Assert.True(scrape.Series.Any(s => s.Name.StartsWith("kestrel_", StringComparison.Ordinal)),
            $"The scrape has no kestrel_ series.\n{scrape.Text}");
        Assert.True(scrape.Series.Any(s => s.Name.StartsWith("dotnet_", StringComparison.Ordinal)),
            $"The scrape has no dotnet_ series from the runtime.\n{scrape.Text}");
    }

    [Fact]
    public async Task ScrapeResponse_IsPrometheusText()
    {
        using var response = await registry.Http.GetAsync("/metrics");

        Assert.True(response.StatusCode == HttpStatusCode.OK,
            $"GET /metrics returned {(int)response.StatusCode}; expected 200.\n{registry.DescribeRegistry()}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("# TYPE dtr_registry_requests_total counter", text, StringComparison.Ordinal);
    }

    /// <summary>Scrapes <c>/metrics</c> until <paramref name="isComplete"/> accepts the series, for up to 10 seconds, and returns the last scrape.</summary>
    private async Task<Scrape> ScrapeUntilAsync(Func<Scrape, bool> isComplete)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var response = await registry.Http.GetAsync("/metrics");
            Assert.True(response.StatusCode == HttpStatusCode.OK,
                $"GET /metrics returned {(int)response.StatusCode}; expected 200.\n{registry.DescribeRegistry()}");
            var scrape = Scrape.Parse(await response.Content.ReadAsStringAsync());
            if (isComplete(scrape) || deadline.Elapsed > TimeSpan.FromSeconds(10))
            {
                return scrape;
            }

            // The exporter may serve a cached scrape for a short time, so the next request waits past it.
            await Task.Delay(500);
        }
    }

    private static List<Series> Find(Scrape scrape, string name, params (string Label, string Value)[] labels) =>
        scrape.Series
            .Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var value) && value == l.Value))
            .ToList();

    private static double Sum(Scrape scrape, string name) => scrape.Series.Where(s => s.Name == name).Sum(s => s.Value);
}

/// <summary>Checks that the sample host exports nothing by default and stops on invalid telemetry settings.</summary>
public sealed class MetricsDefaultTests(DefaultSettingsRegistryFixture registry) : IClassFixture<DefaultSettingsRegistryFixture>
{
    [Fact]
    public async Task MetricsPath_NotFoundByDefault()
    {
        using var response = await registry.Http.GetAsync("/metrics");

        Assert.True(response.StatusCode == HttpStatusCode.NotFound,
            $"GET /metrics returned {(int)response.StatusCode} on a host without Telemetry settings; expected 404.\n{registry.DescribeRegistry()}");
    }

    [Theory]
    [InlineData("--Telemetry:Prometheus:Enabled=yes", "  - Telemetry:Prometheus:Enabled 'yes' is not a boolean. Set it to true or false.")]
    [InlineData("--Telemetry:Prometheus:Path=metrics", "  - Telemetry:Prometheus:Path 'metrics' is not a valid path.")]
    [InlineData("--OTEL_EXPORTER_OTLP_ENDPOINT=collector:4317", "  - OTEL_EXPORTER_OTLP_ENDPOINT 'collector:4317' is not an http or https URL.")]
    public async Task InvalidSetting_StopsHost(string argument, string expectedLine)
    {
        using var work = new TemporaryDirectory();
        string[] arguments =
        [
            SampleHostProcess.FindHostAssembly(),
            "--urls", "http://127.0.0.1:0",
            $"--Registry:DataDirectory={work.Combine("data")}",
            "--Telemetry:Prometheus:Enabled=true",
            argument,
        ];

        var result = await CommandRunner.RunAsync("dotnet", arguments, TimeSpan.FromSeconds(60), work.Path);

        Assert.True(result.ExitCode == 1, $"The sample host exited with code {result.ExitCode}; expected 1.\n{result.Describe()}");
        Assert.Contains("The registry cannot start because its configuration is invalid:", result.StandardError, StringComparison.Ordinal);
        Assert.Contains(expectedLine, result.StandardError, StringComparison.Ordinal);
    }
}

/// <summary>Starts the sample host with an OTLP endpoint and receives its metrics and traces on a loopback HTTP server.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task OtlpEndpoint_ReceivesMetricsAndTraces()
    {
        using var collector = new WebhookReceiver();
        using var work = new TemporaryDirectory();
        var collectorUrl = new Uri(collector.Url).GetLeftPart(UriPartial.Authority);
        string[] arguments =
        [
            $"--Registry:DataDirectory={work.Combine("data")}",
            "--Registry:Auth:Enabled=false",
            $"--OTEL_EXPORTER_OTLP_ENDPOINT={collectorUrl}",
            "--OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf",
            "--OTEL_METRIC_EXPORT_INTERVAL=1000",
            "--OTEL_BSP_SCHEDULE_DELAY=500",
            "--OTEL_SERVICE_NAME=dtr-e2e-otlp",
        ];
        await using var host = await SampleHostProcess.StartAsync(arguments, HttpStatusCode.OK);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        // A manifest that does not exist still costs a metadata store call, which the registry wraps in a span.
        using var manifest = await http.GetAsync("/v2/e2e/otlp/manifests/1");
        Assert.True(manifest.StatusCode == HttpStatusCode.NotFound,
            $"GET of a missing manifest returned {(int)manifest.StatusCode}; expected 404.\n{host.Describe()}");

        // OTLP over HTTP encodes names as UTF-8 strings inside the protobuf message, so a byte search finds them.
        var metrics = await WaitForExportAsync(collector, host, "/v1/metrics", "dtr.registry.requests");
        Assert.Equal("POST", metrics.Method);
        Assert.True(Contains(metrics.Body, "Dtr.Registry"), "The OTLP metrics request does not name the meter Dtr.Registry.");
        Assert.True(Contains(metrics.Body, "dtr-e2e-otlp"), "The OTLP metrics request does not carry the service name from OTEL_SERVICE_NAME.");

        var traces = await WaitForExportAsync(collector, host, "/v1/traces", "metadata_store.");
        Assert.Equal("POST", traces.Method);
        Assert.True(Contains(traces.Body, "Dtr.Registry"), "The OTLP traces request does not name the activity source Dtr.Registry.");
    }

    /// <summary>Waits up to 30 seconds for a request to <paramref name="path"/> whose body contains <paramref name="name"/>, and returns it.</summary>
    private static async Task<ReceivedWebhook> WaitForExportAsync(WebhookReceiver collector, SampleHostProcess host, string path, string name)
    {
        try
        {
            return await collector.WaitForAsync(request => request.Path == path && Contains(request.Body, name), TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            var received = string.Join(", ", collector.Requests.Select(request => $"{request.Method} {request.Path} ({request.Body.Length} bytes)"));
            Assert.Fail($"The collector received no request to {path} that names {name} within 30 s. Received: [{received}].\n{host.Describe()}");
            throw;
        }
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(text)) >= 0;
}

/// <summary>One sample of a scrape in the Prometheus text format, such as <c>name{label="value"} 1</c>.</summary>
internal sealed record Series(string Name, IReadOnlyDictionary<string, string> Labels, double Value, string Line);

/// <summary>The samples of one scrape, with the text they were parsed from for assertion messages.</summary>
internal sealed partial record Scrape(string Text, IReadOnlyList<Series> Series)
{
    /// <summary>Parses the sample lines of a scrape and skips comments. Label values with escaped quotes are not expected here.</summary>
    public static Scrape Parse(string text)
    {
        var series = new List<Series>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var match = SampleLine().Match(line);
            Assert.True(match.Success, $"The scrape line '{line}' is not a Prometheus sample.");
            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(pair => pair.Groups["name"].Value, pair => pair.Groups["value"].Value);
            var value = ParseValue(match.Groups["value"].Value);
            series.Add(new Series(match.Groups["name"].Value, labels, value, line));
        }

        return new Scrape(text, series);
    }

    // Prometheus writes infinities as +Inf and -Inf, where .NET formats them as Infinity and -Infinity.
    private static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    // A sample line is the metric name, optional labels in braces, the value, and an optional timestamp in
    // milliseconds. Label values are quoted and may contain braces, such as the route template /v2/{**path}.
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>([^""}]|""([^""\\]|\\.)*"")*)\})? (?<value>\S+)( \d+)?$")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"(?<name>[a-zA-Z_][a-zA-Z0-9_]*)=""(?<value>[^""]*)""")]
    private static partial Regex LabelPair();
}

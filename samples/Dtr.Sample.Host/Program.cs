using Dtr.AspNetCore.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

// A registry moves large blobs, so Kestrel reads sockets into 64 KiB blocks instead of 4 KiB ones, which takes about a
// quarter of the CPU off every uploaded byte.
builder.Services.AddRegistryTransferBuffers();

// HTTPS is on when Registry:Tls:Enabled is true or a certificate file is configured. Every https:// address then
// presents the registry's certificate, which the management API can replace while the host runs.
var tlsOptions = builder.Configuration.GetSection("Registry:Tls").Get<RegistryTlsOptions>() ?? new RegistryTlsOptions();
var tlsEnabled = tlsOptions.Enabled || tlsOptions.HasConfiguredCertificate;
if (tlsEnabled)
{
    builder.WebHost.ConfigureKestrel(kestrel => kestrel.UseRegistryCertificate());
}

// Client certificates arrive only in a TLS handshake, so without HTTPS the setting would silently do nothing.
if (builder.Configuration.GetValue<bool>("Registry:ClientCertificates:Enabled") && !tlsEnabled)
{
    return ReportInvalidConfiguration(
        ["Registry:ClientCertificates:Enabled is true but HTTPS is off; set Registry:Tls:Enabled=true or configure a certificate in Registry:Tls."]);
}

// Serve on loopback port 5000 (5443 with HTTPS) unless --urls, ASPNETCORE_URLS or the "urls" setting sets another
// address.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls(tlsEnabled ? "https://127.0.0.1:5443" : "http://127.0.0.1:5000");
}

// Data lives in ./registry-data unless the "Registry" section (--Registry:DataDirectory=..., Registry__DataDirectory)
// sets another folder; the section is bound after the default, so it wins.
var registry = builder.Services.AddDockerRegistry(options => options.DataDirectory = "registry-data");
builder.Services.Configure<RegistryOptions>(builder.Configuration.GetSection(RegistryOptions.SectionName));

// Blobs and metadata stay in the data folder unless Storage:Driver or Metadata:Provider choose a shared service.
// The names are checked now, because the stores they select are registered before the host is built.
var backends = RegistryBackends.Add(registry, builder.Configuration);
if (backends.Errors.Count > 0)
{
    return ReportInvalidConfiguration(backends.Errors);
}

// Metrics and traces are exported only when Telemetry:Prometheus:Enabled is true or OTEL_EXPORTER_OTLP_ENDPOINT is set.
var telemetry = SampleTelemetry.Add(builder.Services, builder.Configuration);
if (telemetry.Errors.Count > 0)
{
    return ReportInvalidConfiguration(telemetry.Errors);
}

// Start failures are printed as short messages only when this assembly is the process's program. A test host that
// runs Program in process, as WebApplicationFactory does, needs the exception itself, because a normal return from
// Program leaves the factory with a disposed host and no cause.
var printStartFailures = System.Reflection.Assembly.GetEntryAssembly() == typeof(Program).Assembly;
var started = false;
try
{
    // Mapping the endpoints reads the registry options, so a malformed Registry setting already fails here.
    var app = builder.Build();
    app.MapRegistry();
    if (tlsEnabled)
    {
        // Loaded now, so an unreadable certificate file stops the host before it serves.
        app.Services.GetRequiredService<Dtr.AspNetCore.Tls.RegistryCertificateProvider>().EnsureLoadedAtStart();
    }

    // Load balancers poll /healthz/live and /healthz/ready, which need no sign-in.
    app.MapRegistryHealthChecks();
    SampleTelemetry.Map(app, telemetry);

    // The web interface under /ui, with its options from the Registry:Ui section.
    app.MapRegistryUi(ui => app.Configuration.GetSection("Registry:Ui").Bind(ui));
    app.Lifetime.ApplicationStarted.Register(() =>
    {
        started = true;
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        var dataDirectory = Path.GetFullPath(app.Services.GetRequiredService<IOptions<RegistryOptions>>().Value.DataDirectory!);
        app.Logger.LogInformation(
            "Dtr registry listening on {Addresses}, data folder {DataDirectory}, blob store {StorageDriver}, metadata store {MetadataProvider}",
            string.Join(", ", addresses), dataDirectory, backends.StorageDriver, backends.MetadataProvider);
    });

    app.Run();
}
catch (Exception error) when (printStartFailures && !started && ConfigurationFailures(error) is { Count: > 0 } failures)
{
    // Options are bound and validated when they are first read. Print each problem on its own line instead of a
    // stack trace.
    return ReportInvalidConfiguration(failures);
}
catch (Exception error) when (printStartFailures && !started && error is not HostAbortedException)
{
    // An unreachable database or a rejected storage check fails the start. The host has logged the stack trace
    // already, so the console gets only the messages.
    return ReportStartFailure(error);
}

return 0;

static int ReportInvalidConfiguration(IReadOnlyCollection<string> failures)
{
    Console.Error.WriteLine("The registry cannot start because its configuration is invalid:");
    foreach (var failure in failures)
    {
        Console.Error.WriteLine($"  - {failure}");
    }

    ReportProviderOptionNames(failures);
    return 1;
}

static int ReportStartFailure(Exception error)
{
    var messages = StartFailureMessages(error);
    Console.Error.WriteLine($"The registry cannot start: {messages[0]}");
    foreach (var message in messages.Skip(1))
    {
        Console.Error.WriteLine($"  caused by: {message}");
    }

    ReportProviderOptionNames(messages);
    return 1;
}

// The provider packages name their options classes in messages, but this host binds them from configuration sections.
static void ReportProviderOptionNames(IReadOnlyCollection<string> messages)
{
    string[] providerOptions = ["S3StorageOptions.", "AzureBlobStorageOptions.", "PostgreSqlMetadataOptions."];
    if (messages.Any(message => providerOptions.Any(prefix => message.Contains(prefix, StringComparison.Ordinal))))
    {
        Console.Error.WriteLine("In this host's configuration, S3StorageOptions.<Name> is Storage:S3:<Name>, AzureBlobStorageOptions.<Name> is Storage:AzureBlob:<Name>, and PostgreSqlMetadataOptions.<Name> is Metadata:PostgreSql:<Name>.");
    }
}

// Returns the first line of the message of each exception in the chain, outermost first, with the inner exceptions of
// an AggregateException in order. A message that an outer message already contains is left out, because wrappers
// such as StorageUnavailableException repeat the message of the fault they wrap.
static List<string> StartFailureMessages(Exception error)
{
    var messages = new List<string>();
    var pending = new Stack<Exception>();
    pending.Push(error);
    while (pending.TryPop(out var current))
    {
        if (current is AggregateException aggregate)
        {
            foreach (var inner in aggregate.InnerExceptions.Reverse())
            {
                pending.Push(inner);
            }

            continue;
        }

        // "Exception of type 'X' was thrown." is .NET's text for an exception created without a message; it adds nothing.
        var message = current.Message.Split('\n', 2)[0].Trim();
        var isPlaceholder = message.StartsWith("Exception of type '", StringComparison.Ordinal);
        if (message.Length > 0 && !isPlaceholder && !messages.Any(outer => outer.Contains(message, StringComparison.Ordinal)))
        {
            messages.Add(message);
        }

        if (current.InnerException is { } next)
        {
            pending.Push(next);
        }
    }

    if (messages.Count == 0)
    {
        messages.Add(error.GetType().FullName ?? error.GetType().Name);
    }

    return messages;
}

// Returns the configuration problems that failed the start, or an empty list when the error has another cause. The
// host throws one OptionsValidationException when one options type is invalid, and an AggregateException of them when
// several are. The configuration binder throws an InvalidOperationException that names the key and the expected type
// when a value cannot be converted, such as 'abc' for a time span.
static List<string> ConfigurationFailures(Exception error)
{
    var failures = new List<string>();
    IEnumerable<Exception> errors = error is AggregateException aggregate ? aggregate.InnerExceptions : [error];
    foreach (var current in errors)
    {
        if (current is OptionsValidationException validation)
        {
            failures.AddRange(validation.Failures);
        }
        else if (FindBindingFailure(current) is { } binding)
        {
            failures.Add(DescribeBindingFailure(binding));
        }
        else
        {
            return [];
        }
    }

    return failures;
}

// Returns the exception that the configuration binder threw, searching the inner exceptions, because a service
// factory or a hosted service may wrap it.
static InvalidOperationException? FindBindingFailure(Exception error)
{
    for (Exception? current = error; current is not null; current = current.InnerException)
    {
        if (current is InvalidOperationException failure && current.TargetSite?.DeclaringType == typeof(ConfigurationBinder))
        {
            return failure;
        }
    }

    return null;
}

// Returns the binder's message, which names the key, the value and the type, followed by the parser's reason.
static string DescribeBindingFailure(InvalidOperationException failure)
{
    var reason = failure.InnerException;
    while (reason?.InnerException is not null)
    {
        reason = reason.InnerException;
    }

    return reason is null ? failure.Message : $"{failure.Message} {reason.Message}";
}

/// <summary>The sample host's entry point; public so integration tests can start it with WebApplicationFactory.</summary>
public partial class Program;

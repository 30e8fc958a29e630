using Dtr.AspNetCore.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

// Serve on loopback port 5000 unless --urls, ASPNETCORE_URLS or the "urls" setting sets another address.
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5000");
}

// Data lives in ./registry-data unless the "Registry" section (--Registry:DataDirectory=..., Registry__DataDirectory)
// sets another folder; the section is bound after the default, so it wins.
builder.Services.AddDockerRegistry(options => options.DataDirectory = "registry-data");
builder.Services.Configure<RegistryOptions>(builder.Configuration.GetSection(RegistryOptions.SectionName));

var app = builder.Build();
app.MapRegistry();

app.Lifetime.ApplicationStarted.Register(() =>
{
    var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
    var dataDirectory = Path.GetFullPath(app.Services.GetRequiredService<IOptions<RegistryOptions>>().Value.DataDirectory!);
    app.Logger.LogInformation("Dtr registry listening on {Addresses}, data folder {DataDirectory}", string.Join(", ", addresses), dataDirectory);
});

try
{
    app.Run();
}
catch (OptionsValidationException error)
{
    // Options are validated when the host starts; print each problem on its own line instead of a stack trace.
    Console.Error.WriteLine("The registry cannot start because its configuration is invalid:");
    foreach (var failure in error.Failures)
    {
        Console.Error.WriteLine($"  - {failure}");
    }

    return 1;
}

return 0;

/// <summary>The sample host's entry point; public so integration tests can start it with WebApplicationFactory.</summary>
public partial class Program;

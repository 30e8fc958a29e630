using Dtr.AspNetCore.Configuration;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

// Serve on loopback port 5000 unless --urls, ASPNETCORE_URLS or the "urls" setting says otherwise.
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

app.Run();

/// <summary>The sample host's entry point; public so integration tests can start it with WebApplicationFactory.</summary>
public partial class Program;

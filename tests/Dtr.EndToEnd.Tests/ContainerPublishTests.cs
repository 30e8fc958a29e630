using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Dtr.EndToEnd.Tests;

/// <summary>Publishes a console app as a container image with the .NET SDK's built-in container support.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ContainerPublishTests(RegistryFixture registry, ITestOutputHelper output)
{
    private Skopeo Skopeo => registry.Skopeo;

    [DotnetFact]
    public async Task PublishContainer_OnBusyboxBase()
    {
        using var work = new TemporaryDirectory();
        var baseImage = TestImages.WriteBusyboxLayout(work.Combine("base-layout"));
        await Skopeo.CopyAsync($"oci:{work.Combine("base-layout")}:1", Skopeo.Reference("e2e/publish-base", "1"));

        var project = work.Combine(SdkContainerPublish.AppName);
        SdkContainerPublish.WriteConsoleApp(project, $"{registry.Address}/e2e/publish-base:1", registry.Address, "e2e/hello", "1");

        var publish = await SdkContainerPublish.PublishAsync(project, registry.Address);
        output.WriteLine(publish.StandardOutput);
        Assert.True(publish.Succeeded, $"dotnet publish -t:PublishContainer failed.\n{publish.Describe()}\n{registry.DescribeRegistry()}");

        var reference = Skopeo.Reference("e2e/hello", "1");
        var summary = await Skopeo.InspectAsync(reference);
        var layers = summary["Layers"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.True(layers.Count == 2, $"e2e/hello:1 has {layers.Count} layers; expected the base layer and one app layer: [{string.Join(", ", layers)}].");
        Assert.True(layers[0] == baseImage.Layers[0].Digest,
            $"The first layer of e2e/hello:1 is {layers[0]}; expected the busybox base layer {baseImage.Layers[0].Digest}.");
        Assert.Equal("amd64", summary["Architecture"]?.GetValue<string>());
        Assert.Equal("linux", summary["Os"]?.GetValue<string>());

        var config = await Skopeo.InspectAsync(reference, "--config");
        var entrypoint = config["config"]?["Entrypoint"]?.AsArray().Select(e => e!.GetValue<string>()).ToList() ?? [];
        Assert.True(entrypoint.Any(e => e.EndsWith("/" + SdkContainerPublish.AppName, StringComparison.Ordinal)),
            $"The image config's Entrypoint [{string.Join(", ", entrypoint)}] does not start the published app.\n{config.ToJsonString()}");
    }
}

/// <summary>A fact that is skipped, saying why, when no <c>dotnet</c> executable is found.</summary>
public sealed class DotnetFactAttribute : FactAttribute
{
    public DotnetFactAttribute()
    {
        if (DotnetPath is null)
        {
            Skip = "dotnet was not found (neither DOTNET_HOST_PATH nor PATH has it); this test runs dotnet publish.";
        }
    }

    /// <summary>The dotnet executable that runs the tests, else the first one on PATH, else null.</summary>
    public static string? DotnetPath { get; } = FindDotnet();

    private static string? FindDotnet()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, "dotnet"))
            .FirstOrDefault(File.Exists);
    }
}

using System.Collections;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace Dtr.EndToEnd.Tests;

/// <summary>Publishes a console app as a container image with the .NET SDK's built-in container support.</summary>
[Collection(RegistryCollection.Name)]
public sealed class ContainerPublishTests(RegistryFixture registry, ITestOutputHelper output)
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    private Skopeo Skopeo => registry.Skopeo;

    [DotnetFact]
    public async Task PublishContainer_OnBusyboxBase()
    {
        using var work = new TemporaryDirectory();
        var baseImage = TestImages.WriteBusyboxLayout(work.Combine("base-layout"));
        await Skopeo.CopyAsync($"oci:{work.Combine("base-layout")}:1", Skopeo.Reference("e2e/publish-base", "1"));

        // The app cannot run on busybox (no glibc), but the test only checks what the SDK pushes. Self-contained
        // keeps the image independent of a .NET runtime in the base image.
        var project = work.Combine("hello");
        Directory.CreateDirectory(project);
        File.WriteAllText(Path.Combine(project, "hello.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
                <ContainerBaseImage>{registry.Address}/e2e/publish-base:1</ContainerBaseImage>
                <ContainerRegistry>{registry.Address}</ContainerRegistry>
                <ContainerRepository>e2e/hello</ContainerRepository>
                <ContainerImageTag>1</ContainerImageTag>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(project, "Program.cs"), "Console.WriteLine(\"Hello from a Dtr end-to-end test image.\");\n");

        var publish = await CommandRunner.RunAsync(
            DotnetFactAttribute.DotnetPath!,
            ["publish", "-c", "Release", "-t:PublishContainer", "--disable-build-servers", "-nodeReuse:false"],
            PublishTimeout,
            project,
            PublishEnvironment());
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
        Assert.True(entrypoint.Any(e => e.EndsWith("/hello", StringComparison.Ordinal)),
            $"The image config's Entrypoint [{string.Join(", ", entrypoint)}] does not start the published app.\n{config.ToJsonString()}");
    }

    /// <summary>
    /// Returns the environment for the nested dotnet publish: registry settings, and without the MSBuild and test
    /// platform variables that the outer dotnet test sets, which would point the nested build at the outer build's settings.
    /// </summary>
    private Dictionary<string, string?> PublishEnvironment()
    {
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_CONTAINER_INSECURE_REGISTRIES"] = registry.Address,
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
            ["DOTNET_NOLOGO"] = "1",
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["MSBUILDDISABLENODEREUSE"] = "1",
        };
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            var name = (string)variable.Key;
            var setByOuterRun = name.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) ||
                name.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase);
            if (setByOuterRun && !environment.ContainsKey(name))
            {
                environment[name] = null;
            }
        }

        return environment;
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

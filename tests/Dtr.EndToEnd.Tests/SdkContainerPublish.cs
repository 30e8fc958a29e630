using System.Collections;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Writes a console app and publishes it as a container image with the .NET SDK's built-in container support
/// (<c>dotnet publish -t:PublishContainer</c>).
/// </summary>
internal static class SdkContainerPublish
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(10);

    /// <summary>The name of the project and of the executable that the image's entry point starts.</summary>
    public const string AppName = "hello";

    /// <summary>
    /// Writes a self-contained linux-x64 console app to <paramref name="projectDirectory"/> whose container image is
    /// built on <paramref name="baseImage"/> and pushed to <paramref name="registryAddress"/>/<paramref name="repository"/>:<paramref name="tag"/>.
    /// </summary>
    /// <remarks>
    /// The app cannot run on the busybox test images (they have no glibc), but the tests only check what the SDK
    /// pulls and pushes. Self-contained keeps the image independent of a .NET runtime in the base image.
    /// </remarks>
    public static void WriteConsoleApp(string projectDirectory, string baseImage, string registryAddress, string repository, string tag)
    {
        Directory.CreateDirectory(projectDirectory);
        File.WriteAllText(Path.Combine(projectDirectory, $"{AppName}.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <ImplicitUsings>enable</ImplicitUsings>
                <InvariantGlobalization>true</InvariantGlobalization>
                <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                <SelfContained>true</SelfContained>
                <ContainerBaseImage>{baseImage}</ContainerBaseImage>
                <ContainerRegistry>{registryAddress}</ContainerRegistry>
                <ContainerRepository>{repository}</ContainerRepository>
                <ContainerImageTag>{tag}</ContainerImageTag>
              </PropertyGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(projectDirectory, "Program.cs"), "Console.WriteLine(\"Hello from a Dtr end-to-end test image.\");\n");
    }

    /// <summary>
    /// Runs <c>dotnet publish -t:PublishContainer</c> in <paramref name="projectDirectory"/> and returns its result
    /// without asserting success. The registry is trusted over plain HTTP.
    /// </summary>
    /// <param name="environment">More variables for the nested dotnet, such as registry credentials; they win over the defaults.</param>
    public static Task<CommandResult> PublishAsync(
        string projectDirectory,
        string registryAddress,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var publishEnvironment = PublishEnvironment(registryAddress);
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            publishEnvironment[name] = value;
        }

        return CommandRunner.RunAsync(
            DotnetFactAttribute.DotnetPath!,
            ["publish", "-c", "Release", "-t:PublishContainer", "--disable-build-servers", "-nodeReuse:false"],
            PublishTimeout,
            projectDirectory,
            publishEnvironment);
    }

    /// <summary>
    /// Returns the environment for the nested dotnet publish: registry settings, and without the MSBuild and test
    /// platform variables that the outer dotnet test sets, which would point the nested build at the outer build's settings.
    /// </summary>
    private static Dictionary<string, string?> PublishEnvironment(string registryAddress)
    {
        var environment = new Dictionary<string, string?>
        {
            ["DOTNET_CONTAINER_INSECURE_REGISTRIES"] = registryAddress,
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

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Pulls, builds on and pushes images with podman, the daemonless Docker-compatible client.
/// </summary>
/// <remarks>
/// podman keeps its images in a throwaway store under the test's folder (the vfs driver, which needs no kernel
/// overlay support), so the machine's own podman storage is never touched. Builds use chroot isolation, which
/// runs <c>RUN</c> steps without cgroups.
/// </remarks>
[Collection(RegistryCollection.Name)]
public sealed class PodmanTests(RegistryFixture registry)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task Podman_PullBuildPush()
    {
        using var work = new TemporaryDirectory();
        var baseImage = TestImages.WriteBusyboxLayout(work.Combine("layout"));
        var baseReference = $"{registry.Address}/e2e/podman-base:1";
        var builtReference = $"{registry.Address}/e2e/podman-built:1";
        await registry.Skopeo.CopyAsync($"oci:{work.Combine("layout")}:1", "docker://" + baseReference);

        // 1. Pull the base image.
        await RunPodmanAsync(work, "pull", "--tls-verify=false", baseReference);

        // 2. Build on top of it: one COPY layer and one RUN layer that busybox's shell writes.
        var context = Directory.CreateDirectory(work.Combine("context")).FullName;
        await File.WriteAllTextAsync(Path.Combine(context, "hello.txt"), "hello from the build context\n");
        await File.WriteAllTextAsync(Path.Combine(context, "Containerfile"), $"""
            FROM {baseReference}
            COPY hello.txt /hello.txt
            RUN ["/bin/busybox", "sh", "-c", "echo built > /built.txt"]
            """);
        await RunPodmanAsync(work, "build", "--isolation", "chroot", "--tls-verify=false", "--format", "oci", "-t", builtReference, context);

        // 3. Push the result, which reuses the base layer and uploads the two new ones.
        await RunPodmanAsync(work, "push", "--tls-verify=false", builtReference);

        var summary = await registry.Skopeo.InspectAsync("docker://" + builtReference);
        var layers = summary["Layers"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.True(layers.Count == 3, $"The built image has {layers.Count} layers; expected the base layer plus COPY and RUN layers: [{string.Join(", ", layers)}].");
        Assert.True(layers[0] == baseImage.Layers[0].Digest,
            $"The built image's first layer is {layers[0]}; expected the base image's layer {baseImage.Layers[0].Digest}.");

        // 4. Pull the pushed image into a fresh store, so every layer really comes from the registry.
        await RunPodmanAsync(work, "rmi", "--all", "--force");
        await RunPodmanAsync(work, "pull", "--tls-verify=false", builtReference);
        var pulledDigest = (await RunPodmanAsync(work, "image", "inspect", "--format", "{{.Digest}}", builtReference)).StandardOutput.Trim();
        Assert.True(pulledDigest == summary["Digest"]?.GetValue<string>(),
            $"podman pulled manifest {pulledDigest}; the registry serves {summary["Digest"]}.");
    }

    private async Task<CommandResult> RunPodmanAsync(TemporaryDirectory work, params string[] arguments)
    {
        string[] storage = ["--storage-driver", "vfs", "--root", work.Combine("podman-root"), "--runroot", work.Combine("podman-run")];
        var result = await CommandRunner.RunAsync("podman", [.. storage, .. arguments], CommandTimeout);
        Assert.True(result.Succeeded, $"podman {string.Join(' ', arguments)} failed.\n{result.Describe()}\n{registry.DescribeRegistry()}");
        return result;
    }
}

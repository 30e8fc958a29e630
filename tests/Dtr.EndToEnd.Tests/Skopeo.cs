using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Runs skopeo against the test registry over plain HTTP. Each method asserts that skopeo succeeded and puts
/// the command, its output and the registry's log in the failure message.
/// </summary>
internal sealed class Skopeo(RegistryFixture registry)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Returns <c>docker://host:port/repository:tag</c> (or <c>@digest</c>) for this registry.</summary>
    public string Reference(string repository, string tagOrDigest) =>
        tagOrDigest.Contains(':', StringComparison.Ordinal)
            ? $"docker://{registry.Address}/{repository}@{tagOrDigest}"
            : $"docker://{registry.Address}/{repository}:{tagOrDigest}";

    /// <summary>Copies an image between two transports (<c>oci:</c>, <c>dir:</c>, <c>docker://</c>).</summary>
    public async Task CopyAsync(string source, string destination, params string[] options)
    {
        // --insecure-policy: the tests must not depend on the machine's /etc/containers/policy.json.
        string[] arguments = ["--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", .. options, source, destination];
        await RunCheckedAsync($"copy {source} to {destination}", arguments);
    }

    /// <summary>Returns the manifest (or index) bytes exactly as the registry serves them.</summary>
    public async Task<byte[]> InspectRawAsync(string reference)
    {
        var result = await RunCheckedAsync($"inspect --raw {reference}", ["inspect", "--raw", "--tls-verify=false", reference]);
        return result.StandardOutputBytes;
    }

    /// <summary>Returns skopeo's summary of an image: Digest, Architecture, Os, Layers and more.</summary>
    public async Task<JsonObject> InspectAsync(string reference, params string[] options)
    {
        string[] arguments = ["inspect", "--tls-verify=false", .. options, reference];
        var result = await RunCheckedAsync($"inspect {reference}", arguments);
        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    /// <summary>Runs skopeo inspect and returns its result without asserting success.</summary>
    public Task<CommandResult> TryInspectAsync(string reference) =>
        CommandRunner.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", reference], CommandTimeout);

    /// <summary>Returns the tags that the registry lists for a repository.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository)
    {
        var reference = $"docker://{registry.Address}/{repository}";
        var result = await RunCheckedAsync($"list-tags {reference}", ["list-tags", "--tls-verify=false", reference]);
        var tags = JsonNode.Parse(result.StandardOutput)!["Tags"]?.AsArray() ?? [];
        return tags.Select(t => t!.GetValue<string>()).ToList();
    }

    /// <summary>Deletes a manifest by tag or digest.</summary>
    public Task DeleteAsync(string reference) =>
        RunCheckedAsync($"delete {reference}", ["delete", "--tls-verify=false", reference]);

    private async Task<CommandResult> RunCheckedAsync(string action, string[] arguments)
    {
        var result = await CommandRunner.RunAsync("skopeo", arguments, CommandTimeout);
        Assert.True(result.Succeeded, $"skopeo {action} failed.\n{result.Describe()}\n{registry.DescribeRegistry()}");
        return result;
    }
}

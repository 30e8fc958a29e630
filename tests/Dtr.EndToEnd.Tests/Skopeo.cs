using System.Text.Json.Nodes;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// Runs skopeo against the registry at <paramref name="address"/> (<c>host:port</c>) over plain HTTP. Each method
/// asserts that skopeo succeeded and puts the command, its output and <paramref name="describeRegistry"/>, the
/// registry's log, in the failure message.
/// </summary>
internal sealed class Skopeo(string address, Func<string> describeRegistry)
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);

    /// <summary>Returns <c>docker://host:port/repository:tag</c> (or <c>@digest</c>) for this registry.</summary>
    public string Reference(string repository, string tagOrDigest) =>
        tagOrDigest.Contains(':', StringComparison.Ordinal)
            ? $"docker://{address}/{repository}@{tagOrDigest}"
            : $"docker://{address}/{repository}:{tagOrDigest}";

    /// <summary>Copies an image between two transports (<c>oci:</c>, <c>dir:</c>, <c>docker://</c>).</summary>
    public async Task CopyAsync(string source, string destination, params string[] options)
    {
        await RunCheckedAsync($"copy {source} to {destination}", CopyArguments(source, destination, options));
    }

    /// <summary>Runs skopeo copy and returns its result without asserting success, for copies that must fail.</summary>
    public Task<CommandResult> TryCopyAsync(string source, string destination, params string[] options) =>
        CommandRunner.RunAsync("skopeo", CopyArguments(source, destination, options), CommandTimeout);

    /// <summary>
    /// Signs in to this registry and stores the credentials in <paramref name="authFile"/>, never in the user's
    /// default auth file. Later commands use them with <c>--authfile</c>, <c>--src-authfile</c> or <c>--dest-authfile</c>.
    /// </summary>
    public Task LoginAsync(string userName, string password, string authFile) =>
        RunCheckedAsync(
            $"login as {userName}",
            ["login", "--tls-verify=false", "--authfile", authFile, "--username", userName, "--password", password, address]);

    /// <summary>Returns the manifest (or index) bytes exactly as the registry serves them.</summary>
    public async Task<byte[]> InspectRawAsync(string reference, params string[] options)
    {
        string[] arguments = ["inspect", "--raw", "--tls-verify=false", .. options, reference];
        var result = await RunCheckedAsync($"inspect --raw {reference}", arguments);
        return result.StandardOutputBytes;
    }

    /// <summary>Returns skopeo's summary of an image: Digest, Architecture, Os, Layers and more.</summary>
    public async Task<JsonObject> InspectAsync(string reference, params string[] options)
    {
        string[] arguments = ["inspect", "--tls-verify=false", .. options, reference];
        var result = await RunCheckedAsync($"inspect {reference}", arguments);
        return JsonNode.Parse(result.StandardOutput)!.AsObject();
    }

    /// <summary>Runs skopeo inspect --raw and returns its result without asserting success.</summary>
    public Task<CommandResult> TryInspectAsync(string reference, params string[] options) =>
        CommandRunner.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", .. options, reference], CommandTimeout);

    /// <summary>Returns the tags that the registry lists for a repository.</summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository)
    {
        var reference = $"docker://{address}/{repository}";
        var result = await RunCheckedAsync($"list-tags {reference}", ["list-tags", "--tls-verify=false", reference]);
        var tags = JsonNode.Parse(result.StandardOutput)!["Tags"]?.AsArray() ?? [];
        return tags.Select(t => t!.GetValue<string>()).ToList();
    }

    /// <summary>Deletes a manifest by tag or digest.</summary>
    public Task DeleteAsync(string reference) =>
        RunCheckedAsync($"delete {reference}", ["delete", "--tls-verify=false", reference]);

    // --insecure-policy: the tests must not depend on the machine's /etc/containers/policy.json.
    private static string[] CopyArguments(string source, string destination, string[] options) =>
        ["--insecure-policy", "copy", "--src-tls-verify=false", "--dest-tls-verify=false", .. options, source, destination];

    private async Task<CommandResult> RunCheckedAsync(string action, string[] arguments)
    {
        var result = await CommandRunner.RunAsync("skopeo", arguments, CommandTimeout);
        Assert.True(result.Succeeded, $"skopeo {action} failed.\n{result.Describe()}\n{describeRegistry()}");
        return result;
    }
}

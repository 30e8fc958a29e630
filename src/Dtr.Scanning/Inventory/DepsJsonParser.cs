using System.Text.Json;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Lists the NuGet packages of a .NET <c>*.deps.json</c> file.
/// </summary>
/// <remarks>
/// Every entry of <c>libraries</c> whose <c>type</c> is <c>package</c> is a package, named and versioned by its key
/// (<c>Name/Version</c>), with the name's case kept. A self-contained app lists the runtime it carries as type
/// <c>runtimepack</c> with a <c>runtimepack.</c> prefix, such as
/// <c>runtimepack.Microsoft.NETCore.App.Runtime.linux-x64/8.0.1</c>; it is recorded without the prefix. A shared
/// framework's own file, <c>shared/&lt;Framework&gt;/&lt;version&gt;/&lt;Framework&gt;.deps.json</c>, lists its
/// runtime pack as a package (such as <c>Microsoft.NETCore.App.Runtime.linux-x64</c>, the name NuGet advisories use),
/// and the framework itself is recorded as one more package named after the folder, such as
/// <c>Microsoft.NETCore.App</c> or <c>Microsoft.AspNetCore.App</c>, with the folder's version.
/// </remarks>
internal static class DepsJsonParser
{
    private const string RuntimePackPrefix = "runtimepack.";

    /// <exception cref="JsonException">The file is not valid JSON.</exception>
    public static List<RecordedPackage> Parse(ReadOnlyMemory<byte> utf8Json, string path)
    {
        var packages = new List<RecordedPackage>();
        using (var document = JsonDocument.Parse(utf8Json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }))
        {
            if (document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("libraries", out var libraries)
                && libraries.ValueKind == JsonValueKind.Object)
            {
                foreach (var library in libraries.EnumerateObject())
                {
                    AddLibrary(packages, library);
                }
            }
        }

        if (TryGetSharedFramework(path, out var framework, out var frameworkVersion))
        {
            packages.Add(new RecordedPackage(PackageType.NuGet, framework, frameworkVersion, framework, null, null, null));
        }

        return packages;
    }

    private static void AddLibrary(List<RecordedPackage> packages, JsonProperty library)
    {
        if (library.Value.ValueKind != JsonValueKind.Object
            || !library.Value.TryGetProperty("type", out var typeElement)
            || typeElement.ValueKind != JsonValueKind.String)
        {
            return;
        }

        var type = typeElement.GetString();
        var key = library.Name;
        var slash = key.LastIndexOf('/');
        if (slash <= 0 || slash == key.Length - 1)
        {
            return;
        }

        var name = key[..slash];
        var version = key[(slash + 1)..];
        if (type == "runtimepack")
        {
            if (name.StartsWith(RuntimePackPrefix, StringComparison.OrdinalIgnoreCase))
            {
                name = name[RuntimePackPrefix.Length..];
            }
        }
        else if (type != "package")
        {
            return;
        }

        packages.Add(new RecordedPackage(PackageType.NuGet, name, version, name, null, null, null));
    }

    private static bool TryGetSharedFramework(string path, out string framework, out string version)
    {
        framework = version = "";
        var segments = path.Split('/');
        if (segments.Length < 4 || segments[^4] != "shared")
        {
            return false;
        }

        framework = segments[^3];
        version = segments[^2];
        return framework.Length > 0
            && version.Length > 0
            && char.IsAsciiDigit(version[0])
            && segments[^1].Equals(framework + ".deps.json", StringComparison.OrdinalIgnoreCase);
    }
}

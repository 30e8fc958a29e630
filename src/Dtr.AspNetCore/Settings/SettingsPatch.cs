using System.Text.Json;
using System.Text.Json.Nodes;
using Dtr.AspNetCore.Management;
using Dtr.Scanning.Service;

namespace Dtr.AspNetCore.Settings;

/// <summary>
/// Reads a JSON merge patch (RFC 7396) of the <c>/settings</c> resource and applies it to the stored overrides. An
/// absent member is unchanged, <c>null</c> removes the override so the configured value applies again, and a value
/// becomes the override. Members are matched by their exact names, as RFC 7396 does.
/// </summary>
internal sealed class SettingsPatch
{
    private enum Kind
    {
        Boolean,
        String,
        Integer,
        StringArray,
        Mode,
        Url,
    }

    private static readonly Dictionary<string, Dictionary<string, Kind>> Sections = new(StringComparer.Ordinal)
    {
        ["general"] = new(StringComparer.Ordinal)
        {
            ["publicBaseUrl"] = Kind.Url,
            ["createRepositoryOnPush"] = Kind.Boolean,
        },
        ["scanning"] = new(StringComparer.Ordinal)
        {
            ["enabled"] = Kind.Boolean,
            ["mode"] = Kind.Mode,
            ["databaseUrls"] = Kind.StringArray,
            ["updateIntervalMinutes"] = Kind.Integer,
        },
        ["garbageCollection"] = new(StringComparer.Ordinal)
        {
            ["scheduleIntervalMinutes"] = Kind.Integer,
            ["scheduleCron"] = Kind.String,
            ["scheduleTimeZone"] = Kind.String,
            ["maxDurationMinutes"] = Kind.Integer,
            ["deleteUntagged"] = Kind.Boolean,
        },
    };

    private static readonly HashSet<string> ReadOnlyMembers = new(StringComparer.Ordinal) { "storage", "updatedAt", "updatedBy" };

    private readonly JsonObject _patch;

    private SettingsPatch(JsonObject patch, IReadOnlyList<string> memberNames)
    {
        _patch = patch;
        MemberNames = memberNames;
    }

    /// <summary>The paths of the members the patch sets or resets, such as <c>scanning.enabled</c>, for the log.</summary>
    public IReadOnlyList<string> MemberNames { get; }

    /// <summary>
    /// Checks the patch and returns it. Invalid JSON, a body other than an object, an unknown, read-only or repeated
    /// member, and a value of the wrong kind each throw a 400 that lists every problem by JSON path.
    /// </summary>
    public static SettingsPatch Parse(byte[] content)
    {
        if (content.Length == 0)
        {
            throw ManagementProblem.Invalid("$", "The request body is empty; send a JSON object with the settings to change.");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(content);
        }
        catch (JsonException error)
        {
            throw ManagementProblem.Invalid(
                "$",
                $"The request body is not valid JSON: the error is at line {error.LineNumber + 1}, byte {error.BytePositionInLine + 1} of that line.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw ManagementProblem.Invalid("$", "The request body is not a JSON object; send an object such as {\"scanning\":{\"enabled\":false}}.");
            }

            var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
            var patch = new JsonObject();
            var names = new List<string>();
            foreach (var section in root.EnumerateObject())
            {
                var path = "$." + section.Name;
                if (ReadOnlyMembers.Contains(section.Name))
                {
                    AddError(errors, path, $"'{section.Name}' is read-only; remove it from the request.");
                }
                else if (!Sections.TryGetValue(section.Name, out var members))
                {
                    AddError(errors, path, $"'{section.Name}' is not a settings member; use general, scanning or garbageCollection.");
                }
                else if (patch.ContainsKey(section.Name))
                {
                    AddError(errors, path, $"'{section.Name}' appears more than once.");
                }
                else if (section.Value.ValueKind == JsonValueKind.Null)
                {
                    patch[section.Name] = null;
                    names.Add(section.Name);
                }
                else if (section.Value.ValueKind != JsonValueKind.Object)
                {
                    AddError(errors, path, $"'{section.Name}' must be a JSON object, or null to reset every member of it.");
                }
                else
                {
                    var sectionPatch = ReadSection(section.Name, section.Value, members, errors, names);
                    CheckModeAgainstUrls(sectionPatch, errors);
                    patch[section.Name] = sectionPatch;
                }
            }

            if (errors.Count > 0)
            {
                throw ManagementProblem.Invalid(
                    errors.ToDictionary(entry => entry.Key, entry => entry.Value.ToArray(), StringComparer.Ordinal),
                    "The settings patch is invalid: " + string.Join(" ", errors.SelectMany(entry => entry.Value)));
            }

            return new SettingsPatch(patch, names);
        }
    }

    /// <summary>
    /// Returns a new overrides document: <paramref name="current"/>'s stored overrides with the patch merged in. A
    /// database URL that equals the redacted form of a URL in effect is replaced by that URL, so sending back what GET
    /// returned keeps the stored credentials.
    /// </summary>
    public JsonObject ApplyTo(EffectiveSettings current)
    {
        var patch = (JsonObject)_patch.DeepClone();
        if (patch["scanning"] is JsonObject scanning)
        {
            TranslateMode(scanning);
            if (scanning["databaseUrls"] is JsonArray urls)
            {
                RestoreRedactedUrls(urls, current.Options.Scanning.DatabaseUrls);
            }
        }

        var merged = (JsonObject)current.Overrides.DeepClone();
        Merge(merged, patch);
        return merged;
    }

    /// <summary>Returns whether the patch turns the online update on without giving it URLs.</summary>
    public bool RequestsOnlineModeWithoutUrls(EffectiveSettings result) =>
        _patch["scanning"] is JsonObject scanning
        && scanning["mode"]?.GetValue<string>() == "online"
        && result.Options.Scanning.DatabaseUrls.Count == 0;

    private static JsonObject ReadSection(string sectionName, JsonElement section, Dictionary<string, Kind> members, Dictionary<string, List<string>> errors, List<string> names)
    {
        var result = new JsonObject();
        foreach (var member in section.EnumerateObject())
        {
            var path = $"$.{sectionName}.{member.Name}";
            if (!members.TryGetValue(member.Name, out var kind))
            {
                AddError(errors, path, $"'{sectionName}.{member.Name}' is not a settings member; use one of {string.Join(", ", members.Keys)}.");
                continue;
            }

            if (result.ContainsKey(member.Name))
            {
                AddError(errors, path, $"'{sectionName}.{member.Name}' appears more than once.");
                continue;
            }

            var value = member.Value;
            if (value.ValueKind == JsonValueKind.Null)
            {
                result[member.Name] = null;
                names.Add($"{sectionName}.{member.Name}");
                continue;
            }

            var error = kind switch
            {
                Kind.Boolean when value.ValueKind is not (JsonValueKind.True or JsonValueKind.False) => "must be true, false or null",
                Kind.String when value.ValueKind != JsonValueKind.String => "must be a string or null",
                Kind.Integer when value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out _) => "must be a whole number of minutes or null",
                Kind.Mode when value.ValueKind != JsonValueKind.String || value.GetString() is not ("online" or "offline") => "must be \"online\", \"offline\" or null",
                Kind.Url when value.ValueKind != JsonValueKind.String => "must be a URL string, \"\" to use each request's own host, or null",
                Kind.Url when value.GetString() is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _) => "must be an absolute http or https URL, such as https://registry.example.com, \"\" to use each request's own host, or null",
                Kind.StringArray => CheckUrlArray(value),
                _ => null,
            };
            if (error is not null)
            {
                AddError(errors, path, $"'{sectionName}.{member.Name}' {error}.");
                continue;
            }

            result[member.Name] = JsonNode.Parse(value.GetRawText());
            names.Add($"{sectionName}.{member.Name}");
        }

        return result;
    }

    /// <summary>Rejects a <c>mode</c> that contradicts the <c>databaseUrls</c> sent with it.</summary>
    private static void CheckModeAgainstUrls(JsonObject scanning, Dictionary<string, List<string>> errors)
    {
        if (scanning["mode"] is not JsonValue mode || scanning["databaseUrls"] is not JsonArray urls)
        {
            return;
        }

        var offline = mode.GetValue<string>() == "offline";
        if (offline == urls.Count > 0)
        {
            AddError(errors, "$.scanning.mode", offline
                ? "'scanning.mode' is \"offline\" but 'scanning.databaseUrls' lists URLs; send one of them, or an empty list with offline."
                : "'scanning.mode' is \"online\" but 'scanning.databaseUrls' is empty; send at least one URL.");
        }
    }

    /// <summary>Checks that a database URL list is an array of absolute URLs, without echoing a URL, which may hold credentials.</summary>
    private static string? CheckUrlArray(JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            return "must be an array of URL strings, [] to turn the online update off, or null";
        }

        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || !Uri.TryCreate(item.GetString(), UriKind.Absolute, out _))
            {
                return $"item {index} is not an absolute http or https URL";
            }

            index++;
        }

        return null;
    }

    /// <summary>
    /// Turns <c>mode</c> into the URL list it stands for: "offline" clears the URLs, null resets them to the
    /// configured ones, and "online" keeps them. Mode itself is not stored.
    /// </summary>
    private static void TranslateMode(JsonObject scanning)
    {
        if (!scanning.TryGetPropertyValue("mode", out var mode))
        {
            return;
        }

        scanning.Remove("mode");
        if (scanning.ContainsKey("databaseUrls"))
        {
            return;
        }

        if (mode is null)
        {
            scanning["databaseUrls"] = null;
        }
        else if (mode.GetValue<string>() == "offline")
        {
            scanning["databaseUrls"] = new JsonArray();
        }
    }

    private static void RestoreRedactedUrls(JsonArray urls, IList<Uri> inEffect)
    {
        for (var i = 0; i < urls.Count; i++)
        {
            var sent = urls[i]!.GetValue<string>();
            var match = inEffect.FirstOrDefault(url => url.IsAbsoluteUri && DatabaseUrl.Redact(url) == sent);
            if (match is not null)
            {
                urls[i] = match.OriginalString;
            }
        }
    }

    /// <summary>Merges <paramref name="patch"/> into <paramref name="target"/> as RFC 7396 section 2 describes.</summary>
    private static void Merge(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject patchObject)
            {
                if (target[name] is not JsonObject targetObject)
                {
                    targetObject = new JsonObject();
                    target[name] = targetObject;
                }

                Merge(targetObject, patchObject);
                if (targetObject.Count == 0)
                {
                    target.Remove(name);
                }
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }
    }

    private static void AddError(Dictionary<string, List<string>> errors, string path, string message)
    {
        if (!errors.TryGetValue(path, out var list))
        {
            list = [];
            errors[path] = list;
        }

        list.Add(message);
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// The analysis of one layer as <see cref="LayerAnalyzer"/> stores it: how reading went, the whiteouts and opaque
/// directories the layer applies to lower layers, and the recognised files it contains, already parsed.
/// </summary>
internal sealed class LayerAnalysisDocument
{
    /// <summary>The format version, <see cref="LayerAnalyzer.FormatVersion"/> when written.</summary>
    public int Version { get; set; }

    /// <summary>How far reading got.</summary>
    public LayerReadStatus Status { get; set; }

    /// <summary>Why reading stopped, for any status but <see cref="LayerReadStatus.Complete"/>.</summary>
    public string? Message { get; set; }

    /// <summary>Paths that <c>.wh.&lt;name&gt;</c> entries remove, with everything below them, from lower layers.</summary>
    public List<string> Whiteouts { get; set; } = [];

    /// <summary>Directories that <c>.wh..wh..opq</c> entries empty of lower layers' content.</summary>
    public List<string> OpaqueDirectories { get; set; } = [];

    /// <summary>
    /// The recognised files, the links at recognised paths and the regular files that such symbolic links point to
    /// further on in the layer, one per path.
    /// </summary>
    public List<RecordedFile> Files { get; set; } = [];
}

/// <summary>What a recognised path in a layer holds.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<RecordedFileKind>))]
internal enum RecordedFileKind
{
    /// <summary><c>etc/os-release</c> or <c>usr/lib/os-release</c>.</summary>
    OsRelease,

    /// <summary><c>etc/alpine-release</c>.</summary>
    AlpineRelease,

    /// <summary><c>etc/debian_version</c>.</summary>
    DebianVersion,

    /// <summary>An apk <c>installed</c> database.</summary>
    ApkDatabase,

    /// <summary><c>var/lib/dpkg/status</c> or a file in <c>var/lib/dpkg/status.d</c>.</summary>
    DpkgStatus,

    /// <summary>An <c>rpmdb.sqlite</c> database.</summary>
    RpmDatabase,

    /// <summary>A <c>*.deps.json</c> file.</summary>
    DepsJson,

    /// <summary>A symbolic link; <see cref="RecordedFile.LinkTarget"/> is its target as the archive gives it.</summary>
    SymbolicLink,

    /// <summary>A hard link; <see cref="RecordedFile.LinkTarget"/> is the normalised path of the linked file.</summary>
    HardLink,
}

/// <summary>A recognised file or link at one path of a layer.</summary>
internal sealed class RecordedFile
{
    /// <summary>The normalised path, without a leading slash.</summary>
    public string Path { get; set; } = "";

    /// <summary>What the path holds.</summary>
    public RecordedFileKind Kind { get; set; }

    /// <summary>The link target, for links only.</summary>
    public string? LinkTarget { get; set; }

    /// <summary>The operating system a release file describes.</summary>
    public OperatingSystemInfo? OperatingSystem { get; set; }

    /// <summary>The packages a package database or <c>*.deps.json</c> lists.</summary>
    public List<RecordedPackage>? Packages { get; set; }

    /// <summary>Why the file was skipped or could only be read in part, or null.</summary>
    public string? Message { get; set; }

    /// <summary>Whether the file was skipped because it is larger than <see cref="LayerAnalyzerLimits.MaxPackageDatabaseBytes"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool LimitExceeded { get; set; }
}

/// <summary>A package as a package database lists it.</summary>
internal sealed record RecordedPackage(
    PackageType Type,
    string Name,
    string Version,
    string SourceName,
    string? SourceVersion,
    string? Architecture,
    string? License);

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LayerAnalysisDocument))]
internal sealed partial class LayerAnalysisJsonContext : JsonSerializerContext
{
    /// <summary>Reads an analysis document.</summary>
    /// <exception cref="FormatException">The text is not a document of <paramref name="expectedVersion"/>.</exception>
    public static LayerAnalysisDocument Parse(string json, int expectedVersion)
    {
        LayerAnalysisDocument? document;
        try
        {
            document = JsonSerializer.Deserialize(json, Default.LayerAnalysisDocument);
        }
        catch (JsonException exception)
        {
            throw new FormatException($"The layer analysis is not valid JSON: {exception.Message}", exception);
        }

        if (document is null)
        {
            throw new FormatException("The layer analysis is null.");
        }

        if (document.Version != expectedVersion)
        {
            throw new FormatException(
                $"The layer analysis has format version {document.Version}, but this analyzer reads version {expectedVersion}; analyse the layer again.");
        }

        return document;
    }
}

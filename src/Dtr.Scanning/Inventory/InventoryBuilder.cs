using Dtr.Digests;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Merges layer analyses bottom-up into the recognised files of the final filesystem, and from those the image's
/// operating system and packages.
/// </summary>
internal static class InventoryBuilder
{
    // Symbolic links are followed this many times at most, as Linux does (MAXSYMLINKS), so a loop ends.
    private const int MaxLinkHops = 40;

    private static readonly string[] OperatingSystemPaths =
        ["etc/os-release", "usr/lib/os-release", "etc/alpine-release", "etc/debian_version"];

    /// <exception cref="FormatException">An analysis is not a document of <paramref name="version"/>.</exception>
    public static ImageInventory Build(IReadOnlyList<(Digest Layer, string AnalysisJson)> layers, int version)
    {
        var files = new Dictionary<string, RecordedFile>(StringComparer.Ordinal);
        var sourceLayers = new Dictionary<string, int>(StringComparer.Ordinal);
        var presentSince = new Dictionary<PackageKey, int>();
        var results = new List<LayerReadResult>(layers.Count);
        for (var index = 0; index < layers.Count; index++)
        {
            var (digest, json) = layers[index];
            var document = LayerAnalysisJsonContext.Parse(json, version);
            results.Add(new LayerReadResult(digest, document.Status, document.Message));
            if (ApplyLayer(files, sourceLayers, document, index))
            {
                UpdatePresence(files, presentSince, index);
            }
        }

        ReportUnreadFiles(files, sourceLayers, results);
        return new ImageInventory(FindOperatingSystem(files), ListPackages(files, presentSince, layers), results);
    }

    /// <summary>
    /// Marks the layer that wrote each recognised path of the final filesystem that could not be read. Such a path is
    /// a file with a message (over the size limit, not parseable, or a package database of mostly invalid entries) or
    /// a link that does not end at a recognised file. It may hide packages, so its layer becomes
    /// <see cref="LayerReadStatus.LimitExceeded"/> for a file over the size limit and
    /// <see cref="LayerReadStatus.Unreadable"/> otherwise, unless the layer already has one of these statuses. Either
    /// makes the scan partial.
    /// </summary>
    /// <remarks>
    /// A link is only resolved against recognised files, because those are the only files whose content is kept.
    /// A hard link's target always comes earlier in the archive, so the single pass over the stream has passed it
    /// before the link shows that its content is needed.
    /// </remarks>
    private static void ReportUnreadFiles(Dictionary<string, RecordedFile> files, Dictionary<string, int> sourceLayers, List<LayerReadResult> results)
    {
        foreach (var file in files.Values.OrderBy(file => file.Path, StringComparer.Ordinal))
        {
            if (file.Message is not null)
            {
                var status = file.LimitExceeded ? LayerReadStatus.LimitExceeded : LayerReadStatus.Unreadable;
                AddLayerProblem(results, sourceLayers[file.Path], status, $"'{file.Path}': {file.Message}");
                continue;
            }

            if (file.Kind is not (RecordedFileKind.SymbolicLink or RecordedFileKind.HardLink) || Resolve(files, file.Path) is not null)
            {
                continue;
            }

            var linkType = file.Kind == RecordedFileKind.SymbolicLink ? "symbolic link" : "hard link";
            var message = $"'{file.Path}' is a {linkType} to '{file.LinkTarget}', which does not lead to a recognised file, so its content was not read.";
            AddLayerProblem(results, sourceLayers[file.Path], LayerReadStatus.Unreadable, message);
        }
    }

    // A layer that a limit or a read error already stopped keeps its status, and the messages are joined.
    private static void AddLayerProblem(List<LayerReadResult> results, int layerIndex, LayerReadStatus status, string message)
    {
        var result = results[layerIndex];
        results[layerIndex] = result with
        {
            Status = result.Status is LayerReadStatus.Complete ? status : result.Status,
            Message = result.Message is null ? message : result.Message + " " + message,
        };
    }

    /// <summary>
    /// Applies one layer to the files of the layers below it: whiteouts and opaque directories first, because they
    /// only hide lower content, then the layer's own files, which replace lower ones at the same path.
    /// </summary>
    /// <returns>Whether anything changed.</returns>
    private static bool ApplyLayer(Dictionary<string, RecordedFile> files, Dictionary<string, int> sourceLayers, LayerAnalysisDocument document, int layerIndex)
    {
        var changed = false;
        foreach (var directory in document.OpaqueDirectories)
        {
            changed |= RemoveBelow(files, directory);
        }

        foreach (var path in document.Whiteouts)
        {
            changed |= files.Remove(path);
            changed |= RemoveBelow(files, path);
        }

        foreach (var file in document.Files)
        {
            files[file.Path] = file;
            sourceLayers[file.Path] = layerIndex;
            changed = true;
        }

        return changed;
    }

    private static bool RemoveBelow(Dictionary<string, RecordedFile> files, string directory)
    {
        if (files.Count == 0)
        {
            return false;
        }

        if (directory.Length == 0)
        {
            files.Clear();
            return true;
        }

        var prefix = directory + "/";
        var removed = files.Keys.Where(path => path.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        foreach (var path in removed)
        {
            files.Remove(path);
        }

        return removed.Count > 0;
    }

    /// <summary>
    /// Records, for each package now present, the first layer of its current unbroken run, and removes packages that
    /// are gone. A layer that rewrites a database without changing a package keeps the package's older layer, but an
    /// upgrade changes the version and so starts a new run.
    /// </summary>
    private static void UpdatePresence(Dictionary<string, RecordedFile> files, Dictionary<PackageKey, int> presentSince, int layerIndex)
    {
        var present = new HashSet<PackageKey>();
        foreach (var (file, package) in EnumeratePackages(files))
        {
            var key = new PackageKey(package.Type, file.Path, package.Name, package.Version, package.Architecture);
            present.Add(key);
            presentSince.TryAdd(key, layerIndex);
        }

        foreach (var key in presentSince.Keys.Where(key => !present.Contains(key)).ToList())
        {
            presentSince.Remove(key);
        }
    }

    private static List<InstalledPackage> ListPackages(
        Dictionary<string, RecordedFile> files,
        Dictionary<PackageKey, int> presentSince,
        IReadOnlyList<(Digest Layer, string AnalysisJson)> layers)
    {
        var listed = new HashSet<PackageKey>();
        var packages = new List<InstalledPackage>();
        foreach (var (file, package) in EnumeratePackages(files))
        {
            var key = new PackageKey(package.Type, file.Path, package.Name, package.Version, package.Architecture);
            if (!listed.Add(key))
            {
                continue;
            }

            packages.Add(new InstalledPackage(
                package.Type,
                package.Name,
                package.Version,
                package.SourceName,
                package.SourceVersion,
                layers[presentSince[key]].Layer,
                file.Path)
            {
                Architecture = package.Architecture,
                License = package.License,
            });
        }

        return [.. packages
            .OrderBy(package => package.Type)
            .ThenBy(package => package.Name, StringComparer.Ordinal)
            .ThenBy(package => package.Path, StringComparer.Ordinal)
            .ThenBy(package => package.Version, StringComparer.Ordinal)
            .ThenBy(package => package.Architecture, StringComparer.Ordinal)];
    }

    // Only regular files count, so a database reached through a link at another recognised path is listed once.
    private static IEnumerable<(RecordedFile File, RecordedPackage Package)> EnumeratePackages(Dictionary<string, RecordedFile> files) =>
        from file in files.Values
        where file.Packages is not null
        from package in file.Packages!
        select (file, package);

    private static OperatingSystemInfo? FindOperatingSystem(Dictionary<string, RecordedFile> files)
    {
        foreach (var path in OperatingSystemPaths)
        {
            if (Resolve(files, path)?.OperatingSystem is { } operatingSystem)
            {
                return operatingSystem;
            }
        }

        return null;
    }

    /// <summary>Follows symbolic and hard links from a recognised path to the recognised file they end at, or null.</summary>
    /// <remarks>
    /// NOTE: only links whose own path is recognised are recorded, so a path reached through a linked folder (such as
    /// <c>lib</c> linking to <c>usr/lib</c>) is not resolved.
    /// </remarks>
    private static RecordedFile? Resolve(Dictionary<string, RecordedFile> files, string path)
    {
        for (var hop = 0; hop <= MaxLinkHops; hop++)
        {
            if (!files.TryGetValue(path, out var file))
            {
                return null;
            }

            switch (file.Kind)
            {
                case RecordedFileKind.SymbolicLink:
                    path = LayerPaths.ResolveSymbolicLink(path, file.LinkTarget ?? "");
                    break;
                case RecordedFileKind.HardLink:
                    path = file.LinkTarget ?? "";
                    break;
                default:
                    return file;
            }
        }

        return null;
    }

    private readonly record struct PackageKey(PackageType Type, string Path, string Name, string Version, string? Architecture);
}

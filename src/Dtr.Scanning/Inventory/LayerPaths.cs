namespace Dtr.Scanning.Inventory;

/// <summary>Normalises tar entry names and recognises the paths the analyzer reads.</summary>
internal static class LayerPaths
{
    /// <summary>The prefix of a whiteout entry's file name.</summary>
    public const string WhiteoutPrefix = ".wh.";

    /// <summary>The file name of an opaque-directory marker.</summary>
    public const string OpaqueMarker = ".wh..wh..opq";

    private const string DpkgStatusDirectory = "var/lib/dpkg/status.d/";

    /// <summary>
    /// Normalises an entry name or link target to a path relative to the root, without a leading <c>/</c> or
    /// <c>./</c>, empty or <c>.</c> segments or a trailing <c>/</c>; <c>..</c> removes the previous segment and
    /// stops at the root. The root itself is the empty string.
    /// </summary>
    public static string Normalize(string name)
    {
        if (!NeedsNormalizing(name))
        {
            return name;
        }

        var segments = new List<string>();
        foreach (var segment in name.Split('/'))
        {
            if (segment.Length == 0 || segment == ".")
            {
                continue;
            }

            if (segment == "..")
            {
                if (segments.Count > 0)
                {
                    segments.RemoveAt(segments.Count - 1);
                }

                continue;
            }

            segments.Add(segment);
        }

        return string.Join('/', segments);
    }

    /// <summary>Resolves a symbolic link's target against the folder that contains the link.</summary>
    public static string ResolveSymbolicLink(string linkPath, string target)
    {
        if (target.StartsWith('/'))
        {
            return Normalize(target);
        }

        var slash = linkPath.LastIndexOf('/');
        return Normalize(slash < 0 ? target : string.Concat(linkPath.AsSpan(0, slash + 1), target));
    }

    // Folders that contain package databases. A symbolic link in place of one of them would hide the databases under
    // its target, which the single pass does not record. `lib`, `usr` and `usr/lib` are left out: merged-/usr images
    // link `lib` to `usr/lib`, and the databases under `usr/lib` are recognised at their own paths.
    private static readonly HashSet<string> PackageDatabaseFolders = new(StringComparer.Ordinal)
    {
        "var", "var/lib", "var/lib/dpkg", "var/lib/dpkg/status.d", "var/lib/rpm",
        "lib/apk", "lib/apk/db", "usr/lib/apk", "usr/lib/apk/db", "usr/lib/sysimage", "usr/lib/sysimage/rpm",
    };

    /// <summary>Returns whether a path is a folder on the way to a package database, such as <c>var/lib/dpkg</c>.</summary>
    public static bool IsPackageDatabaseFolder(string path) => PackageDatabaseFolders.Contains(path);

    /// <summary>Returns the kind of recognised file at a normalised path, or null when the analyzer ignores the path.</summary>
    public static RecordedFileKind? Recognize(string path)
    {
        switch (path)
        {
            case "etc/os-release":
            case "usr/lib/os-release":
                return RecordedFileKind.OsRelease;
            case "etc/alpine-release":
                return RecordedFileKind.AlpineRelease;
            case "etc/debian_version":
                return RecordedFileKind.DebianVersion;
            case "lib/apk/db/installed":
            case "usr/lib/apk/db/installed":
                return RecordedFileKind.ApkDatabase;
            case "var/lib/dpkg/status":
                return RecordedFileKind.DpkgStatus;
            // TODO: rpm's older database formats are not read: BerkeleyDB (var/lib/rpm/Packages, RHEL 7 and 8) and
            // ndb (var/lib/rpm/Packages.db, SUSE).
            case "var/lib/rpm/rpmdb.sqlite":
            case "usr/lib/sysimage/rpm/rpmdb.sqlite":
                return RecordedFileKind.RpmDatabase;
        }

        // Distroless images keep one status file per package in status.d, next to checksum lists named *.md5sums.
        if (path.StartsWith(DpkgStatusDirectory, StringComparison.Ordinal)
            && path.IndexOf('/', DpkgStatusDirectory.Length) < 0
            && path.Length > DpkgStatusDirectory.Length
            && !path.EndsWith(".md5sums", StringComparison.Ordinal))
        {
            return RecordedFileKind.DpkgStatus;
        }

        if (path.EndsWith(".deps.json", StringComparison.OrdinalIgnoreCase))
        {
            return RecordedFileKind.DepsJson;
        }

        return null;
    }

    private static bool NeedsNormalizing(string name) =>
        name.Length == 0
        || name[0] == '/'
        || name[^1] == '/'
        || name == "."
        || name.StartsWith("./", StringComparison.Ordinal)
        || name.Contains("//", StringComparison.Ordinal)
        || name.Contains("/./", StringComparison.Ordinal)
        || name.Contains("/..", StringComparison.Ordinal)
        || name.StartsWith("..", StringComparison.Ordinal)
        || name.EndsWith("/.", StringComparison.Ordinal);
}

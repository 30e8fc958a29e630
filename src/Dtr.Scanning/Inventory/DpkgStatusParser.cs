namespace Dtr.Scanning.Inventory;

/// <summary>
/// Parses a dpkg <c>status</c> file, or one file of the <c>status.d</c> folder that distroless images use in its
/// place: paragraphs of <c>Field: value</c> lines separated by blank lines, where a line that starts with a space or
/// tab continues the previous field.
/// </summary>
/// <remarks>
/// A paragraph counts as installed when it has no <c>Status</c> field (distroless writes none) or when the third word
/// of <c>Status</c>, the package state, is <c>installed</c>. So <c>install ok installed</c> and
/// <c>hold ok installed</c> count, while <c>deinstall ok config-files</c> (removed, configuration kept) does not.
/// <c>Source: name (version)</c> gives a source version of its own. Without <c>Source</c> the source is the package.
/// </remarks>
internal static class DpkgStatusParser
{
    /// <summary>Lists the installed packages of a <c>status</c> file.</summary>
    /// <param name="text">The file's content.</param>
    /// <param name="paragraphs">The number of paragraphs with at least one line.</param>
    /// <param name="invalidParagraphs">
    /// The paragraphs that describe no package: those without <c>Package</c>, and those without <c>Version</c> whose
    /// state is installed. A paragraph of a removed package may lack <c>Version</c> and is valid.
    /// </param>
    public static List<RecordedPackage> Parse(string text, out int paragraphs, out int invalidParagraphs)
    {
        var packages = new List<RecordedPackage>();
        string? name = null, version = null, source = null, architecture = null, status = null;
        var hasLines = false;
        var paragraphCount = 0;
        var invalidCount = 0;

        void Flush()
        {
            var installed = status is null || IsInstalled(status);
            if (hasLines)
            {
                paragraphCount++;
                if (string.IsNullOrEmpty(name) || (installed && string.IsNullOrEmpty(version)))
                {
                    invalidCount++;
                }
            }

            if (!string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(version) && installed)
            {
                var (sourceName, sourceVersion) = ParseSource(source, name);
                packages.Add(new RecordedPackage(
                    PackageType.Deb,
                    name,
                    version,
                    sourceName,
                    sourceVersion is null || sourceVersion == version ? null : sourceVersion,
                    architecture,
                    null));
            }

            name = version = source = architecture = status = null;
            hasLines = false;
        }

        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.TrimEnd('\r');
            if (line.IsWhiteSpace())
            {
                Flush();
                continue;
            }

            hasLines = true;

            // Continuation lines belong to multi-line fields such as Description or Conffiles, none of which is read.
            if (line[0] == ' ' || line[0] == '\t')
            {
                continue;
            }

            var colon = line.IndexOf(':');
            if (colon <= 0)
            {
                continue;
            }

            var field = line[..colon];
            var value = line[(colon + 1)..].Trim();
            if (field.Equals("Package", StringComparison.OrdinalIgnoreCase))
            {
                name = value.ToString();
            }
            else if (field.Equals("Version", StringComparison.OrdinalIgnoreCase))
            {
                version = value.ToString();
            }
            else if (field.Equals("Source", StringComparison.OrdinalIgnoreCase))
            {
                source = value.ToString();
            }
            else if (field.Equals("Architecture", StringComparison.OrdinalIgnoreCase))
            {
                architecture = value.ToString();
            }
            else if (field.Equals("Status", StringComparison.OrdinalIgnoreCase))
            {
                status = value.ToString();
            }
        }

        Flush();
        paragraphs = paragraphCount;
        invalidParagraphs = invalidCount;
        return packages;
    }

    private static bool IsInstalled(string status)
    {
        var words = status.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return words.Length == 3 && words[2] == "installed";
    }

    private static (string Name, string? Version) ParseSource(string? source, string packageName)
    {
        if (string.IsNullOrEmpty(source))
        {
            return (packageName, null);
        }

        var open = source.IndexOf('(', StringComparison.Ordinal);
        if (open < 0)
        {
            return (source, null);
        }

        var close = source.IndexOf(')', open + 1);
        var name = source[..open].Trim();
        var version = (close < 0 ? source[(open + 1)..] : source[(open + 1)..close]).Trim();
        return (name.Length == 0 ? packageName : name, version.Length == 0 ? null : version);
    }
}

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Parses an apk <c>installed</c> database: one block of <c>X:value</c> lines per package, blocks separated by blank
/// lines. The fields read are <c>P</c> (name), <c>V</c> (version), <c>o</c> (origin, the source package), <c>A</c>
/// (architecture) and <c>L</c> (licence).
/// </summary>
internal static class ApkDatabaseParser
{
    /// <summary>Lists the packages of an <c>installed</c> database.</summary>
    /// <param name="text">The file's content.</param>
    /// <param name="blocks">The number of blocks with at least one line.</param>
    /// <param name="invalidBlocks">The blocks without a <c>P</c> or a <c>V</c> field, which describe no package.</param>
    public static List<RecordedPackage> Parse(string text, out int blocks, out int invalidBlocks)
    {
        var packages = new List<RecordedPackage>();
        string? name = null, version = null, origin = null, architecture = null, license = null;
        var hasLines = false;
        var blockCount = 0;
        var invalidCount = 0;

        void Flush()
        {
            if (hasLines)
            {
                blockCount++;
            }

            if (!string.IsNullOrEmpty(name) && !string.IsNullOrEmpty(version))
            {
                packages.Add(new RecordedPackage(PackageType.Apk, name, version, string.IsNullOrEmpty(origin) ? name : origin, null, architecture, license));
            }
            else if (hasLines)
            {
                invalidCount++;
            }

            name = version = origin = architecture = license = null;
            hasLines = false;
        }

        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.TrimEnd('\r');
            if (line.IsEmpty)
            {
                Flush();
                continue;
            }

            hasLines = true;
            if (line.Length < 2 || line[1] != ':')
            {
                continue;
            }

            var value = line[2..];
            switch (line[0])
            {
                case 'P':
                    // A block without a blank line before its P: line still starts a new package.
                    if (name is not null)
                    {
                        Flush();
                        hasLines = true;
                    }

                    name = value.ToString();
                    break;
                case 'V':
                    version = value.ToString();
                    break;
                case 'o':
                    origin = value.ToString();
                    break;
                case 'A':
                    architecture = value.ToString();
                    break;
                case 'L':
                    license = value.ToString();
                    break;
            }
        }

        Flush();
        blocks = blockCount;
        invalidBlocks = invalidCount;
        return packages;
    }
}

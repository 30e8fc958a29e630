using System.Text;

namespace Dtr.Scanning.Inventory;

/// <summary>Parses the release files that name an image's operating system.</summary>
internal static class ReleaseFileParser
{
    /// <summary>
    /// Parses an <c>os-release</c> file: <c>KEY=value</c> lines, values optionally in single or double quotes with
    /// backslash escapes, <c>#</c> comments. A missing <c>ID</c> means <c>linux</c>, as os-release(5) defines.
    /// </summary>
    public static OperatingSystemInfo ParseOsRelease(string text)
    {
        string? id = null, versionId = null, prettyName = null, codename = null, idLike = null;
        foreach (var rawLine in text.AsSpan().EnumerateLines())
        {
            var line = rawLine.Trim();
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            var equals = line.IndexOf('=');
            if (equals <= 0)
            {
                continue;
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            switch (key)
            {
                case "ID":
                    id = Unquote(value).ToLowerInvariant();
                    break;
                case "VERSION_ID":
                    versionId = Unquote(value);
                    break;
                case "PRETTY_NAME":
                    prettyName = Unquote(value);
                    break;
                case "VERSION_CODENAME":
                    codename = Unquote(value);
                    break;
                case "ID_LIKE":
                    idLike = Unquote(value);
                    break;
            }
        }

        return new OperatingSystemInfo(string.IsNullOrEmpty(id) ? "linux" : id, NullIfEmpty(versionId), NullIfEmpty(prettyName))
        {
            VersionCodename = NullIfEmpty(codename),
            IdLike = idLike is null ? [] : idLike.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
        };
    }

    /// <summary>Parses <c>etc/alpine-release</c>, whose first line is the version, such as <c>3.18.4</c>.</summary>
    public static OperatingSystemInfo ParseAlpineRelease(string text) => new("alpine", NullIfEmpty(FirstLine(text)), null);

    /// <summary>
    /// Parses <c>etc/debian_version</c>, whose first line is the point release, such as <c>12.5</c>, or a codename
    /// pair such as <c>trixie/sid</c> on testing.
    /// </summary>
    public static OperatingSystemInfo ParseDebianVersion(string text) => new("debian", NullIfEmpty(FirstLine(text)), null);

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? text : text[..newline]).Trim();
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static string Unquote(ReadOnlySpan<char> value)
    {
        if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
        {
            var quote = value[0];
            value = value[1..^1];
            if (quote == '\'' || !value.Contains('\\'))
            {
                return value.ToString();
            }

            // Inside double quotes a backslash escapes the next character, as in a shell.
            var builder = new StringBuilder(value.Length);
            for (var i = 0; i < value.Length; i++)
            {
                if (value[i] == '\\' && i + 1 < value.Length)
                {
                    i++;
                }

                builder.Append(value[i]);
            }

            return builder.ToString();
        }

        return value.ToString();
    }
}

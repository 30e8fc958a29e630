using System.Collections.Frozen;
using System.Security.Cryptography;

namespace Dtr.AspNetCore.Ui;

/// <summary>The files of the interface, read once from the assembly's embedded resources.</summary>
internal sealed class UiAssets
{
    private const string ResourcePrefix = "wwwroot/";

    private static readonly FrozenDictionary<string, string> ContentTypes = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        [".html"] = "text/html; charset=utf-8",
        [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8",
        [".svg"] = "image/svg+xml",
        [".png"] = "image/png",
        [".json"] = "application/json; charset=utf-8",
        [".ico"] = "image/x-icon",
    }.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);

    private static readonly Lazy<UiAssets> Embedded = new(Load);

    private readonly FrozenDictionary<string, UiAsset> _files;

    private UiAssets(FrozenDictionary<string, UiAsset> files) => _files = files;

    /// <summary>The assets embedded in this assembly.</summary>
    public static UiAssets Instance => Embedded.Value;

    /// <summary>Returns the asset at a path relative to <c>wwwroot</c>, such as <c>app.js</c>, or null when there is none.</summary>
    public UiAsset? Find(string relativePath) => _files.GetValueOrDefault(relativePath);

    private static UiAssets Load()
    {
        var assembly = typeof(UiAssets).Assembly;
        var files = new Dictionary<string, UiAsset>(StringComparer.Ordinal);
        foreach (var name in assembly.GetManifestResourceNames())
        {
            if (!name.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using var stream = assembly.GetManifestResourceStream(name)!;
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            var relativePath = name[ResourcePrefix.Length..].Replace('\\', '/');
            var contentType = ContentTypes.GetValueOrDefault(Path.GetExtension(relativePath), "application/octet-stream");
            var etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content).AsSpan(0, 12)) + "\"";
            files[relativePath] = new UiAsset(content, contentType, etag);
        }

        return new UiAssets(files.ToFrozenDictionary(StringComparer.Ordinal));
    }
}

/// <summary>One embedded file with its media type and a strong entity tag derived from its content.</summary>
internal sealed record UiAsset(byte[] Content, string ContentType, string ETag);

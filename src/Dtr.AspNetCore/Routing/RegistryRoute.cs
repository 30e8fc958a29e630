namespace Dtr.AspNetCore.Routing;

/// <summary>The kind of resource a <c>/v2/…</c> path addresses.</summary>
internal enum RegistryRouteKind
{
    /// <summary>The path matches no endpoint.</summary>
    None,

    /// <summary><c>/v2/</c>: the API version check.</summary>
    Base,

    /// <summary><c>/v2/_catalog</c>.</summary>
    Catalog,

    /// <summary><c>/v2/&lt;name&gt;/tags/list</c>.</summary>
    Tags,

    /// <summary><c>/v2/&lt;name&gt;/manifests/&lt;reference&gt;</c>.</summary>
    Manifest,

    /// <summary><c>/v2/&lt;name&gt;/blobs/&lt;digest&gt;</c>.</summary>
    Blob,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/</c>: starts an upload.</summary>
    UploadStart,

    /// <summary><c>/v2/&lt;name&gt;/blobs/uploads/&lt;id&gt;</c>: an upload session.</summary>
    Upload,

    /// <summary><c>/v2/&lt;name&gt;/referrers/&lt;digest&gt;</c>.</summary>
    Referrers,
}

/// <summary>
/// A <c>/v2/…</c> path split into its resource kind, repository name and last segment (reference, digest or
/// upload id). Names and segments are not validated here.
/// </summary>
/// <param name="Kind">The resource kind.</param>
/// <param name="Name">The repository name text, or null for <see cref="RegistryRouteKind.Base"/> and <see cref="RegistryRouteKind.Catalog"/>.</param>
/// <param name="Argument">The reference, digest or upload id, when the kind has one.</param>
internal readonly record struct RegistryRoute(RegistryRouteKind Kind, string? Name = null, string? Argument = null)
{
    /// <summary>
    /// Splits the part of the path after <c>/v2</c>. Repository names contain slashes, so the path is read from
    /// the right: the endpoint suffixes (<c>/tags/list</c>, <c>/manifests/x</c>, <c>/blobs/uploads/x</c>,
    /// <c>/blobs/x</c>, <c>/referrers/x</c>) never contain a slash in their last segment.
    /// </summary>
    public static RegistryRoute Parse(ReadOnlySpan<char> path)
    {
        if (path.IsEmpty || path.SequenceEqual("/"))
        {
            return new RegistryRoute(RegistryRouteKind.Base);
        }

        if (path[0] != '/')
        {
            return default;
        }

        path = path[1..];
        if (path.SequenceEqual("_catalog"))
        {
            return new RegistryRoute(RegistryRouteKind.Catalog);
        }

        if (path.EndsWith("/tags/list", StringComparison.Ordinal))
        {
            return WithName(RegistryRouteKind.Tags, path[..^"/tags/list".Length], null);
        }

        if (path.EndsWith("/blobs/uploads/", StringComparison.Ordinal) || path.EndsWith("/blobs/uploads", StringComparison.Ordinal))
        {
            var suffixLength = path[^1] == '/' ? "/blobs/uploads/".Length : "/blobs/uploads".Length;
            return WithName(RegistryRouteKind.UploadStart, path[..^suffixLength], null);
        }

        var lastSlash = path.LastIndexOf('/');
        if (lastSlash <= 0)
        {
            return default;
        }

        var argument = path[(lastSlash + 1)..];
        var rest = path[..lastSlash];
        var kindSlash = rest.LastIndexOf('/');
        if (kindSlash <= 0 || argument.IsEmpty)
        {
            return default;
        }

        var kindSegment = rest[(kindSlash + 1)..];
        var name = rest[..kindSlash];
        if (kindSegment.SequenceEqual("manifests"))
        {
            return WithName(RegistryRouteKind.Manifest, name, argument);
        }

        if (kindSegment.SequenceEqual("referrers"))
        {
            return WithName(RegistryRouteKind.Referrers, name, argument);
        }

        if (kindSegment.SequenceEqual("blobs"))
        {
            return WithName(RegistryRouteKind.Blob, name, argument);
        }

        if (kindSegment.SequenceEqual("uploads") && name.EndsWith("/blobs", StringComparison.Ordinal))
        {
            return WithName(RegistryRouteKind.Upload, name[..^"/blobs".Length], argument);
        }

        return default;
    }

    private static RegistryRoute WithName(RegistryRouteKind kind, ReadOnlySpan<char> name, ReadOnlySpan<char> argument)
    {
        if (name.IsEmpty)
        {
            return default;
        }

        return new RegistryRoute(kind, name.ToString(), argument.IsEmpty ? null : argument.ToString());
    }
}

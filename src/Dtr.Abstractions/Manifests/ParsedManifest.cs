namespace Dtr.Manifests;

/// <summary>
/// What a registry needs to know of a manifest it stores: its format and every descriptor it references.
/// </summary>
public sealed record ParsedManifest
{
    /// <summary>The manifest's media type, from its <c>mediaType</c> field or the request's <c>Content-Type</c>.</summary>
    public required string MediaType { get; init; }

    /// <summary>The config descriptor of an image manifest; null for an index.</summary>
    public Descriptor? Config { get; init; }

    /// <summary>The layers (blobs) of an image manifest; empty for an index.</summary>
    public IReadOnlyList<Descriptor> Layers { get; init; } = [];

    /// <summary>The child manifests of an index or manifest list; empty for an image manifest.</summary>
    public IReadOnlyList<Descriptor> Manifests { get; init; } = [];

    /// <summary>The manifest this one refers to, which makes it a referrer of that subject.</summary>
    public Descriptor? Subject { get; init; }

    /// <summary>
    /// The artifact type: the <c>artifactType</c> field, or for an image manifest without one, the config media type,
    /// as the referrers API reports it.
    /// </summary>
    public string? ArtifactType { get; init; }

    /// <summary>The manifest's annotations.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Every blob the manifest references: the config (if any) followed by the layers.</summary>
    public IEnumerable<Descriptor> Blobs => Config is null ? Layers : Layers.Prepend(Config);
}

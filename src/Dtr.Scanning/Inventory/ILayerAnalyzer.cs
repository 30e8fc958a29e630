using Dtr.Digests;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Reads one layer blob as a stream and records what it adds to or removes from the image's package databases and
/// release files, so that the analysis can be stored once and shared by every image that contains the layer.
/// </summary>
public interface ILayerAnalyzer
{
    /// <summary>
    /// The version of the analysis format and rules. Stored analyses of another version are ignored and the layer is
    /// read again, so raise it whenever an analysis would come out differently.
    /// </summary>
    int Version { get; }

    /// <summary>
    /// Reads a layer to its end or to a limit and returns its analysis as a JSON document for
    /// <see cref="IScanStore.PutLayerAnalysisAsync"/>. A layer over a limit, or one that cannot be read, gives an
    /// analysis with that status instead of an exception.
    /// </summary>
    /// <param name="layer">The layer blob's digest, recorded as the layer that brought each package.</param>
    /// <param name="mediaType">The layer descriptor's media type, which says how it is compressed.</param>
    /// <param name="content">The blob's bytes, read once, forward only.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    ValueTask<string> AnalyzeAsync(Digest layer, string mediaType, Stream content, CancellationToken cancellationToken = default);

    /// <summary>
    /// Applies the analyses of an image's layers in order, bottom first, as the OCI image specification applies the
    /// layers themselves (later files replace earlier ones, whiteouts and opaque directories remove them), and returns
    /// what the resulting filesystem has installed.
    /// </summary>
    /// <param name="layers">Each layer's digest with the JSON that <see cref="AnalyzeAsync"/> returned for it.</param>
    /// <exception cref="FormatException">An analysis is not a document of <see cref="Version"/>.</exception>
    ImageInventory BuildInventory(IReadOnlyList<(Digest Layer, string AnalysisJson)> layers);
}

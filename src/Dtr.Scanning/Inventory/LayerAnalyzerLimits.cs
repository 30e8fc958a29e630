namespace Dtr.Scanning.Inventory;

/// <summary>Limits that bound the work <see cref="LayerAnalyzer"/> spends on one layer.</summary>
public sealed record LayerAnalyzerLimits
{
    /// <summary>The default limits.</summary>
    public static LayerAnalyzerLimits Default { get; } = new();

    /// <summary>
    /// The maximum number of bytes read from the decompressed tar stream of one layer. Reading stops there and the
    /// layer's status is <see cref="LayerReadStatus.LimitExceeded"/>. The default is 4 GiB.
    /// </summary>
    public long MaxDecompressedBytes { get; init; } = 4L * 1024 * 1024 * 1024;

    /// <summary>
    /// The maximum number of tar entries read from one layer, counting directories, links and whiteouts. Reading stops
    /// there and the layer's status is <see cref="LayerReadStatus.LimitExceeded"/>. The default is 1,000,000.
    /// </summary>
    public int MaxEntries { get; init; } = 1_000_000;

    /// <summary>
    /// The maximum size, in bytes, of one recognised file (a package database, release file or <c>*.deps.json</c>)
    /// that is read into memory and parsed. A larger file is skipped with a message in the analysis, and it still
    /// hides the same path in lower layers. The default is 64 MiB.
    /// </summary>
    public long MaxPackageDatabaseBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>The setting that messages name when <see cref="MaxDecompressedBytes"/> is reached.</summary>
    public string MaxDecompressedBytesSetting { get; init; } = $"{nameof(LayerAnalyzerLimits)}.{nameof(MaxDecompressedBytes)}";

    /// <summary>The setting that messages name when <see cref="MaxEntries"/> is reached.</summary>
    public string MaxEntriesSetting { get; init; } = $"{nameof(LayerAnalyzerLimits)}.{nameof(MaxEntries)}";

    /// <summary>The setting that messages name when a file is larger than <see cref="MaxPackageDatabaseBytes"/>.</summary>
    public string MaxPackageDatabaseBytesSetting { get; init; } = $"{nameof(LayerAnalyzerLimits)}.{nameof(MaxPackageDatabaseBytes)}";
}

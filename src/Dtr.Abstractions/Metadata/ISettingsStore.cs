namespace Dtr.Metadata;

/// <summary>
/// The runtime settings document that administrators change while the registry runs, and the blob usage figures
/// shown next to it. The registry keeps one JSON document, written with optimistic concurrency so that two hosts
/// saving at once cannot overwrite each other's change unnoticed. The embedded implementation keeps it in the same
/// database as <see cref="IMetadataStore"/>.
/// </summary>
public interface ISettingsStore
{
    /// <summary>Reads the settings document, or returns null when none has been saved yet.</summary>
    ValueTask<StoredSettings?> GetSettingsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Saves <paramref name="document"/> when the stored version equals <paramref name="expectedVersion"/>, which is 0
    /// when no document has been saved yet. The check and the write are one atomic step.
    /// </summary>
    /// <returns>
    /// The saved document, whose version is <paramref name="expectedVersion"/> + 1, or null when the stored version
    /// differs because another writer saved first.
    /// </returns>
    /// <exception cref="ArgumentException">
    /// <paramref name="document"/> is empty, <paramref name="expectedVersion"/> is negative, or
    /// <paramref name="updatedBy"/> is empty or longer than 200 characters.
    /// </exception>
    ValueTask<StoredSettings?> TrySaveSettingsAsync(string document, long expectedVersion, DateTimeOffset updatedAt, string? updatedBy, CancellationToken cancellationToken = default);

    /// <summary>
    /// Counts the distinct blobs that at least one repository links and adds up their sizes, from the blob links of
    /// the metadata store. Blobs that no repository links, such as those waiting for garbage collection, and upload
    /// sessions in progress are not counted.
    /// </summary>
    ValueTask<BlobUsage> GetBlobUsageAsync(CancellationToken cancellationToken = default);
}

/// <summary>A saved settings document.</summary>
/// <param name="Document">The JSON text, as the caller saved it.</param>
/// <param name="Version">Starts at 1 and grows by one with each save.</param>
/// <param name="UpdatedAt">The caller's time of the last save, in whole milliseconds.</param>
/// <param name="UpdatedBy">The user name of the last writer, or null when it was not recorded.</param>
public sealed record StoredSettings(string Document, long Version, DateTimeOffset UpdatedAt, string? UpdatedBy);

/// <summary>The number of linked blobs and their total size in bytes.</summary>
public readonly record struct BlobUsage(long BlobCount, long TotalBytes);

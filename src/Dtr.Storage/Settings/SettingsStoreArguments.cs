namespace Dtr.Storage.Settings;

/// <summary>The argument checks of <c>ISettingsStore.TrySaveSettingsAsync</c>, shared by every metadata store.</summary>
internal static class SettingsStoreArguments
{
    /// <summary>The maximum length of the writer's user name, in characters.</summary>
    public const int MaxUpdatedByLength = 200;

    /// <exception cref="ArgumentNullException">The document is null.</exception>
    /// <exception cref="ArgumentException">
    /// The document is empty, the expected version is negative, or the writer's name is empty or too long.
    /// </exception>
    public static void ValidateSave(string document, long expectedVersion, string? updatedBy)
    {
        ArgumentException.ThrowIfNullOrEmpty(document);
        if (expectedVersion < 0)
        {
            throw new ArgumentException($"The expected settings version is {expectedVersion}; use 0 for the first save or the version that was read.", nameof(expectedVersion));
        }

        if (updatedBy is not null && (updatedBy.Length == 0 || updatedBy.Length > MaxUpdatedByLength))
        {
            throw new ArgumentException($"The writer's name is {updatedBy.Length} characters long; use 1 to {MaxUpdatedByLength} characters, or null.", nameof(updatedBy));
        }
    }
}

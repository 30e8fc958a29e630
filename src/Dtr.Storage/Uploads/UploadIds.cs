namespace Dtr.Storage.Uploads;

/// <summary>
/// The rule for upload ids, which name an upload both in the blob store (as a folder or object name) and in the
/// metadata store: 1 to 64 characters from <c>[A-Za-z0-9-]</c>.
/// </summary>
internal static class UploadIds
{
    /// <summary>The maximum length of an upload id, in characters.</summary>
    public const int MaxLength = 64;

    /// <summary>
    /// Checks an upload id. The rule excludes path separators, <c>..</c> and every other name that could leave
    /// the folder it is joined to.
    /// </summary>
    /// <exception cref="ArgumentNullException">The upload id is null.</exception>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public static void Validate(string uploadId)
    {
        ArgumentNullException.ThrowIfNull(uploadId);
        if (!IsValid(uploadId))
        {
            var shown = uploadId.Length > 100 ? uploadId[..100] + "…" : uploadId;
            throw new ArgumentException(
                $"The upload id '{shown}' is invalid; an upload id is 1 to {MaxLength} characters from [A-Za-z0-9-].",
                nameof(uploadId));
        }
    }

    /// <summary>Returns whether an upload id is 1 to 64 characters from <c>[A-Za-z0-9-]</c>.</summary>
    public static bool IsValid(string? uploadId)
    {
        if (string.IsNullOrEmpty(uploadId) || uploadId.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in uploadId)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }
}

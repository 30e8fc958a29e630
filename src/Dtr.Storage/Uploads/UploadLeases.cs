namespace Dtr.Storage.Uploads;

/// <summary>The argument checks of the upload lease methods, shared by every metadata store.</summary>
internal static class UploadLeases
{
    /// <summary>The maximum length of a lease holder id, in characters.</summary>
    public const int MaxHolderLength = 200;

    /// <summary>Checks the arguments of <c>IMetadataStore.TryAcquireUploadLeaseAsync</c>.</summary>
    /// <exception cref="ArgumentNullException">The holder is null.</exception>
    /// <exception cref="ArgumentException">The holder is empty or too long, or the lease would expire at or before <paramref name="now"/>.</exception>
    public static void Validate(string holder, DateTimeOffset now, DateTimeOffset expiresAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(holder);
        if (holder.Length > MaxHolderLength)
        {
            throw new ArgumentException($"The lease holder id is {holder.Length} characters long; the maximum is {MaxHolderLength}.", nameof(holder));
        }

        if (expiresAt <= now)
        {
            throw new ArgumentException($"The lease would expire at {expiresAt:O}, which is not later than the current time {now:O}.", nameof(expiresAt));
        }
    }
}

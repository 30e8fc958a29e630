using Dtr.Metadata;

namespace Dtr.Storage.Audit;

/// <summary>The argument checks of <c>IAuditStore</c>, shared by every metadata store.</summary>
internal static class AuditStoreArguments
{
    /// <exception cref="ArgumentException">An entry has an empty action or a field longer than its maximum.</exception>
    public static void ValidateAppend(IReadOnlyList<AuditEntry> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            ArgumentNullException.ThrowIfNull(entry, nameof(entries));
            if (string.IsNullOrEmpty(entry.Action))
            {
                throw new ArgumentException("An audit entry has an empty action; every entry needs one.", nameof(entries));
            }

            CheckLength(entry.Action, "action", AuditEntry.MaxFieldLength);
            CheckLength(entry.Actor, "actor", AuditEntry.MaxFieldLength);
            CheckLength(entry.ClientAddress, "client address", AuditEntry.MaxFieldLength);
            CheckLength(entry.Repository, "repository", AuditEntry.MaxFieldLength);
            CheckLength(entry.Detail, "detail", AuditEntry.MaxDetailLength);
        }
    }

    /// <exception cref="ArgumentOutOfRangeException">The limit is less than 1.</exception>
    public static void ValidateList(AuditFilter filter, int limit)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
    }

    private static void CheckLength(string? value, string field, int maxLength)
    {
        if (value is not null && value.Length > maxLength)
        {
            throw new ArgumentException($"The audit entry's {field} is {value.Length} characters long; the maximum is {maxLength}.", "entries");
        }
    }
}

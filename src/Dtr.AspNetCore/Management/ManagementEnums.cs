using Dtr.Identity;

namespace Dtr.AspNetCore.Management;

/// <summary>The exact strings of visibility and access level in the API, in both directions.</summary>
internal static class ManagementEnums
{
    public const string Public = "public";
    public const string Private = "private";
    public const string ReadOnly = "read-only";
    public const string ReadWrite = "read-write";
    public const string Admin = "admin";

    public static string Format(RepositoryVisibility visibility) => visibility == RepositoryVisibility.Public ? Public : Private;

    public static string Format(AccessLevel level) => level switch
    {
        AccessLevel.ReadOnly => ReadOnly,
        AccessLevel.ReadWrite => ReadWrite,
        AccessLevel.Admin => Admin,
        _ => "none",
    };

    /// <summary>Parses a visibility, or throws a 400 naming <paramref name="field"/> and the accepted values.</summary>
    public static RepositoryVisibility ParseVisibility(string value, string field) => value switch
    {
        Public => RepositoryVisibility.Public,
        Private => RepositoryVisibility.Private,
        _ => throw ManagementProblem.Invalid(field, $"The {field} '{value}' is invalid; use \"{Public}\" or \"{Private}\"."),
    };

    /// <summary>Parses an access level, or throws a 400 naming <paramref name="field"/> and the accepted values.</summary>
    public static AccessLevel ParseAccessLevel(string? value, string field) => value switch
    {
        ReadOnly => AccessLevel.ReadOnly,
        ReadWrite => AccessLevel.ReadWrite,
        Admin => AccessLevel.Admin,
        null => throw ManagementProblem.Invalid(field, $"The {field} is missing; use \"{ReadOnly}\", \"{ReadWrite}\" or \"{Admin}\"."),
        _ => throw ManagementProblem.Invalid(field, $"The {field} '{value}' is invalid; use \"{ReadOnly}\", \"{ReadWrite}\" or \"{Admin}\"."),
    };
}

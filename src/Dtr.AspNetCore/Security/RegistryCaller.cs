namespace Dtr.AspNetCore.Security;

/// <summary>
/// Who sent a request, as far as the registry is concerned: a registry user, or an anonymous caller.
/// </summary>
/// <param name="UserName">The registry user, or null for an anonymous caller.</param>
/// <param name="IsAdmin">Whether the user is a system administrator.</param>
public sealed record RegistryCaller(string? UserName, bool IsAdmin)
{
    /// <summary>A caller who presented no credentials.</summary>
    public static RegistryCaller Anonymous { get; } = new(null, false);

    /// <summary>Whether the caller is a signed-in user.</summary>
    public bool IsAuthenticated => UserName is not null;
}

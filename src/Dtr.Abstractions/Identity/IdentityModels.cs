using Dtr.Names;

namespace Dtr.Identity;

/// <summary>A registry user account.</summary>
/// <param name="Name">The user name, which is also the user's namespace; it follows the repository-name component grammar.</param>
/// <param name="Email">The e-mail address, if known.</param>
/// <param name="FullName">The display name, if known.</param>
/// <param name="IsActive">Whether the user may sign in. Inactive users are treated as anonymous.</param>
/// <param name="IsAdmin">Whether the user is a system administrator, with admin access to everything.</param>
/// <param name="CreatedAt">When the account was created.</param>
public sealed record User(string Name, string? Email, string? FullName, bool IsActive, bool IsAdmin, DateTimeOffset CreatedAt);

/// <summary>The fields of a new user.</summary>
public sealed record NewUser
{
    /// <summary>The user name; it must be free in the namespace space shared with organizations.</summary>
    public required string Name { get; init; }

    /// <summary>The password hash (never the password), or null for users who sign in only through the host's single sign-on.</summary>
    public string? PasswordHash { get; init; }

    /// <summary>The e-mail address.</summary>
    public string? Email { get; init; }

    /// <summary>The display name.</summary>
    public string? FullName { get; init; }

    /// <summary>Whether the user is a system administrator.</summary>
    public bool IsAdmin { get; init; }

    /// <summary>Whether the user may sign in. Default true.</summary>
    public bool IsActive { get; init; } = true;
}

/// <summary>Changes to a user; null fields stay as they are.</summary>
public sealed record UserUpdate
{
    /// <summary>A new password hash.</summary>
    public string? PasswordHash { get; init; }

    /// <summary>A new e-mail address.</summary>
    public string? Email { get; init; }

    /// <summary>A new display name.</summary>
    public string? FullName { get; init; }

    /// <summary>Activates or deactivates the user.</summary>
    public bool? IsActive { get; init; }

    /// <summary>Grants or revokes system administration.</summary>
    public bool? IsAdmin { get; init; }
}

/// <summary>An organization: a namespace owned by a group of users, with teams.</summary>
/// <param name="Name">The organization name, in the namespace space shared with users.</param>
/// <param name="CreatedAt">When the organization was created.</param>
public sealed record Organization(string Name, DateTimeOffset CreatedAt);

/// <summary>A team inside an organization; teams receive access to repositories.</summary>
/// <param name="Organization">The organization the team belongs to.</param>
/// <param name="Name">The team name, unique inside the organization, following the repository-name component grammar.</param>
/// <param name="CreatedAt">When the team was created.</param>
public sealed record Team(string Organization, string Name, DateTimeOffset CreatedAt);

/// <summary>Who may pull a repository without a grant.</summary>
public enum RepositoryVisibility
{
    /// <summary>Only users with access (owners, team grants, administrators) see and pull it.</summary>
    Private,

    /// <summary>Anyone, including anonymous callers, may pull it.</summary>
    Public,
}

/// <summary>
/// The access levels of a team (or user) on a repository, in increasing order; a higher level includes every lower one.
/// </summary>
public enum AccessLevel
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary>Browse and pull.</summary>
    ReadOnly = 1,

    /// <summary>Also push, delete tags and start a scan.</summary>
    ReadWrite = 2,

    /// <summary>Also edit the description, visibility, flags and access, and delete the repository.</summary>
    Admin = 3,
}

/// <summary>The settings of a repository, kept beside its content.</summary>
/// <param name="Name">The repository name; its first component is the namespace (user or organization).</param>
/// <param name="Visibility">Public or private.</param>
/// <param name="Description">A free-text description.</param>
/// <param name="ScanOnPush">Whether pushed images are scanned for vulnerabilities.</param>
/// <param name="ImmutableTags">Whether a tag, once pushed, may only be pushed again with the same digest and never deleted.</param>
/// <param name="CreatedAt">When the repository was created.</param>
public sealed record RepositorySettings(
    RepositoryName Name,
    RepositoryVisibility Visibility,
    string? Description,
    bool ScanOnPush,
    bool ImmutableTags,
    DateTimeOffset CreatedAt);

/// <summary>The caller, filters and page of <see cref="IIdentityStore.ListRepositorySummariesAsync"/>.</summary>
public sealed record RepositoryListQuery
{
    /// <summary>The caller's user name, or null for an anonymous caller.</summary>
    public string? UserName { get; init; }

    /// <summary>Whether the caller is a system administrator, who may pull every repository.</summary>
    public bool IsAdmin { get; init; }

    /// <summary>When set, only repositories in this namespace are listed.</summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// When set, only repositories whose full name contains this text are listed. The match ignores case: repository
    /// names are lowercase, so the store compares them with the text in lowercase.
    /// </summary>
    public string? NameContains { get; init; }

    /// <summary>The name to start after (exclusive), or null to start at the beginning.</summary>
    public string? Last { get; init; }

    /// <summary>The maximum number of repositories to return.</summary>
    public required int Limit { get; init; }
}

/// <summary>A repository in a listing, with its settings and a summary of its tags.</summary>
/// <param name="Name">The repository name.</param>
/// <param name="Settings">The settings, or null for a repository that has content but was never created with settings.</param>
/// <param name="TagCount">The number of tags.</param>
/// <param name="LastPushedAt">The latest time a tag was created or moved, or null when the repository has no tags.</param>
public sealed record RepositorySummary(RepositoryName Name, RepositorySettings? Settings, int TagCount, DateTimeOffset? LastPushedAt);

/// <summary>Changes to a repository's settings; null fields stay as they are.</summary>
public sealed record RepositorySettingsUpdate
{
    /// <summary>A new visibility.</summary>
    public RepositoryVisibility? Visibility { get; init; }

    /// <summary>A new description.</summary>
    public string? Description { get; init; }

    /// <summary>Turns scanning on push on or off.</summary>
    public bool? ScanOnPush { get; init; }

    /// <summary>Turns immutable tags on or off.</summary>
    public bool? ImmutableTags { get; init; }
}

/// <summary>A team's access to a repository.</summary>
/// <param name="Organization">The team's organization.</param>
/// <param name="Team">The team name.</param>
/// <param name="Level">The access level granted.</param>
public sealed record TeamAccess(string Organization, string Team, AccessLevel Level);

/// <summary>A personal access token, without its secret.</summary>
/// <param name="Id">The token id, which is the public part of the token string.</param>
/// <param name="UserName">The user the token signs in as.</param>
/// <param name="Label">A label the user gave it.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="LastUsedAt">When it last signed a request in, or null when never.</param>
public sealed record AccessToken(string Id, string UserName, string? Label, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>
/// Everything the authorization decision for one caller and one repository needs, read in one query.
/// </summary>
/// <param name="RepositoryExists">Whether the repository exists (has settings).</param>
/// <param name="Visibility">The repository's visibility; private when it does not exist.</param>
/// <param name="IsNamespaceOwner">
/// Whether the caller owns the repository's namespace: it is their user namespace, or they own the organization.
/// </param>
/// <param name="TeamLevel">The highest access level any of the caller's teams has on the repository.</param>
public sealed record RepositoryAccessFacts(bool RepositoryExists, RepositoryVisibility Visibility, bool IsNamespaceOwner, AccessLevel TeamLevel);

/// <summary>Thrown when a name is already taken: a user or organization name in the shared namespace space, a team, a repository.</summary>
public sealed class IdentityConflictException : Exception
{
    /// <summary>Creates the exception with a message that names the conflicting value.</summary>
    public IdentityConflictException(string message)
        : base(message)
    {
    }
}

/// <summary>Thrown when a user, organization, team or repository that an operation names does not exist.</summary>
public sealed class IdentityNotFoundException : Exception
{
    /// <summary>Creates the exception with a message that names the missing value.</summary>
    public IdentityNotFoundException(string message)
        : base(message)
    {
    }
}

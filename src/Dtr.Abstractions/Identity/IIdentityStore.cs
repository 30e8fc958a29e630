using Dtr.Names;

namespace Dtr.Identity;

/// <summary>
/// Users, organizations, teams, personal access tokens, repository settings and team access grants. The embedded
/// implementation keeps them in the same database as <see cref="Metadata.IMetadataStore"/>.
/// </summary>
/// <remarks>
/// Names of users and organizations share one space: creating either fails with <see cref="IdentityConflictException"/>
/// when the name is taken by the other. Methods that name a missing user, organization, team or repository throw
/// <see cref="IdentityNotFoundException"/> unless they return null or false for it.
/// </remarks>
public interface IIdentityStore
{
    /// <summary>Creates a user.</summary>
    ValueTask<User> CreateUserAsync(NewUser user, CancellationToken cancellationToken = default);

    /// <summary>Returns a user, or null.</summary>
    ValueTask<User?> GetUserAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Returns a user's password hash, or null when the user does not exist or has no password.</summary>
    ValueTask<string?> GetPasswordHashAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists users by name in ordinal order, after <paramref name="last"/> (exclusive).</summary>
    ValueTask<IReadOnlyList<User>> ListUsersAsync(string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>Changes a user and returns the result, or null when the user does not exist.</summary>
    ValueTask<User?> UpdateUserAsync(string name, UserUpdate update, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a user with their memberships, ownerships and tokens; returns whether the user existed. The
    /// repositories in the user's namespace must be deleted first, including those with content but no settings, and
    /// an organization whose only owner is the user needs another owner first.
    /// </summary>
    /// <exception cref="IdentityConflictException">
    /// Repositories exist in the user's namespace, or the user is the only owner of an organization.
    /// </exception>
    ValueTask<bool> DeleteUserAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Returns whether any user exists, so the host can decide whether to create the first administrator.</summary>
    ValueTask<bool> AnyUserAsync(CancellationToken cancellationToken = default);

    /// <summary>Stores a new personal access token; only the hash of its secret is kept.</summary>
    ValueTask<AccessToken> CreateAccessTokenAsync(string userName, string id, string secretHash, string? label, CancellationToken cancellationToken = default);

    /// <summary>Returns a token and its secret hash by id, or null.</summary>
    ValueTask<(AccessToken Token, string SecretHash)?> FindAccessTokenAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>Lists a user's tokens, newest first.</summary>
    ValueTask<IReadOnlyList<AccessToken>> ListAccessTokensAsync(string userName, CancellationToken cancellationToken = default);

    /// <summary>Revokes a token; returns whether it existed for that user.</summary>
    ValueTask<bool> DeleteAccessTokenAsync(string userName, string id, CancellationToken cancellationToken = default);

    /// <summary>Records when a token was last used.</summary>
    ValueTask TouchAccessTokenAsync(string id, DateTimeOffset usedAt, CancellationToken cancellationToken = default);

    /// <summary>Creates an organization.</summary>
    ValueTask<Organization> CreateOrganizationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Returns an organization, or null.</summary>
    ValueTask<Organization?> GetOrganizationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Lists organizations by name in ordinal order, after <paramref name="last"/> (exclusive).</summary>
    ValueTask<IReadOnlyList<Organization>> ListOrganizationsAsync(string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>Deletes an organization with its teams; returns whether it existed. Its repositories must be deleted first.</summary>
    /// <exception cref="IdentityConflictException">Repositories exist in the organization's namespace.</exception>
    ValueTask<bool> DeleteOrganizationAsync(string name, CancellationToken cancellationToken = default);

    /// <summary>Makes a user an owner of an organization; idempotent.</summary>
    ValueTask AddOwnerAsync(string organization, string userName, CancellationToken cancellationToken = default);

    /// <summary>Removes an owner; returns whether the user was one. An organization's last owner cannot be removed.</summary>
    /// <exception cref="IdentityConflictException">The user is the organization's only owner.</exception>
    ValueTask<bool> RemoveOwnerAsync(string organization, string userName, CancellationToken cancellationToken = default);

    /// <summary>Lists an organization's owners in ordinal order.</summary>
    ValueTask<IReadOnlyList<string>> ListOwnersAsync(string organization, CancellationToken cancellationToken = default);

    /// <summary>Creates a team in an organization.</summary>
    ValueTask<Team> CreateTeamAsync(string organization, string name, CancellationToken cancellationToken = default);

    /// <summary>Returns a team, or null.</summary>
    ValueTask<Team?> GetTeamAsync(string organization, string name, CancellationToken cancellationToken = default);

    /// <summary>Lists an organization's teams in ordinal order.</summary>
    ValueTask<IReadOnlyList<Team>> ListTeamsAsync(string organization, CancellationToken cancellationToken = default);

    /// <summary>Deletes a team with its memberships and grants; returns whether it existed.</summary>
    ValueTask<bool> DeleteTeamAsync(string organization, string name, CancellationToken cancellationToken = default);

    /// <summary>Adds a user to a team; idempotent.</summary>
    ValueTask AddTeamMemberAsync(string organization, string team, string userName, CancellationToken cancellationToken = default);

    /// <summary>Removes a user from a team; returns whether the user was a member.</summary>
    ValueTask<bool> RemoveTeamMemberAsync(string organization, string team, string userName, CancellationToken cancellationToken = default);

    /// <summary>Lists a team's members in ordinal order.</summary>
    ValueTask<IReadOnlyList<string>> ListTeamMembersAsync(string organization, string team, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates a repository with its settings. The namespace (first component) must be an existing user or organization.
    /// A repository that already contains content but has no settings yet (pushed before it was created) gets them.
    /// </summary>
    ValueTask<RepositorySettings> CreateRepositoryAsync(RepositorySettings settings, CancellationToken cancellationToken = default);

    /// <summary>Returns a repository's settings, or null when it has none.</summary>
    ValueTask<RepositorySettings?> GetRepositoryAsync(RepositoryName name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists repositories with settings in ordinal order, only those in <paramref name="namespaceName"/> when it is
    /// given, after <paramref name="last"/> (exclusive).
    /// </summary>
    ValueTask<IReadOnlyList<RepositorySettings>> ListRepositorySettingsAsync(string? namespaceName, string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>Changes a repository's settings and returns the result, or null when it does not exist.</summary>
    ValueTask<RepositorySettings?> UpdateRepositoryAsync(RepositoryName name, RepositorySettingsUpdate update, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes a repository with its settings, grants, tags, manifests, blob links and upload sessions; blob bytes
    /// are left to garbage collection. Returns whether it existed.
    /// </summary>
    ValueTask<bool> DeleteRepositoryAsync(RepositoryName name, CancellationToken cancellationToken = default);

    /// <summary>Grants a team access to a repository, replacing an earlier grant.</summary>
    ValueTask SetTeamAccessAsync(RepositoryName repository, string organization, string team, AccessLevel level, CancellationToken cancellationToken = default);

    /// <summary>Removes a team's grant; returns whether it existed.</summary>
    ValueTask<bool> RemoveTeamAccessAsync(RepositoryName repository, string organization, string team, CancellationToken cancellationToken = default);

    /// <summary>Lists the team grants of a repository.</summary>
    ValueTask<IReadOnlyList<TeamAccess>> ListTeamAccessAsync(RepositoryName repository, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads, in one query, what an authorization decision needs about <paramref name="userName"/> (null for an
    /// anonymous caller) and <paramref name="repository"/>.
    /// </summary>
    ValueTask<RepositoryAccessFacts> GetAccessFactsAsync(string? userName, RepositoryName repository, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists, in ordinal order after <paramref name="last"/>, the repositories the caller may pull: public ones, and
    /// for a user also those in namespaces they own and those their teams have access to. Administrators see all.
    /// </summary>
    ValueTask<IReadOnlyList<string>> ListVisibleRepositoriesAsync(string? userName, bool isAdmin, string? last, int limit, CancellationToken cancellationToken = default);

    /// <summary>
    /// Lists, in ordinal order after <see cref="RepositoryListQuery.Last"/>, the repositories the caller may pull (the
    /// same ones as <see cref="ListVisibleRepositoriesAsync"/>) that pass the query's filters, each with its settings,
    /// tag count and last push time read in the same query.
    /// </summary>
    ValueTask<IReadOnlyList<RepositorySummary>> ListRepositorySummariesAsync(RepositoryListQuery query, CancellationToken cancellationToken = default);
}

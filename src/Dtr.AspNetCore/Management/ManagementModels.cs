using Dtr.Identity;

namespace Dtr.AspNetCore.Management;

// Request and response bodies of the management API. Property names are written in camelCase. In requests, a null
// or missing field of a PATCH leaves the stored value as it is.

/// <summary>The body of <c>POST /users</c>.</summary>
internal sealed record CreateUserRequest(string? Name, string? Password, string? Email, string? FullName, bool? IsAdmin);

/// <summary>The body of <c>PATCH /users/{user}</c>.</summary>
internal sealed record UpdateUserRequest(string? Password, string? Email, string? FullName, bool? IsAdmin, bool? IsActive);

/// <summary>A user as the API shows it; the password hash is never part of it.</summary>
internal sealed record UserResponse(string Name, string? Email, string? FullName, bool IsAdmin, bool IsActive, DateTimeOffset CreatedAt)
{
    public static UserResponse From(User user) => new(user.Name, user.Email, user.FullName, user.IsAdmin, user.IsActive, user.CreatedAt);
}

/// <summary>A page of users.</summary>
internal sealed record UserListResponse(IReadOnlyList<UserResponse> Users);

/// <summary>The body of <c>POST /users/{user}/tokens</c>.</summary>
internal sealed record CreateTokenRequest(string? Label);

/// <summary>A new personal access token, with the token string that is shown only in this response.</summary>
internal sealed record CreatedTokenResponse(string Id, string Token, string? Label, DateTimeOffset CreatedAt);

/// <summary>A personal access token without its secret.</summary>
internal sealed record TokenResponse(string Id, string? Label, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt)
{
    public static TokenResponse From(AccessToken token) => new(token.Id, token.Label, token.CreatedAt, token.LastUsedAt);
}

/// <summary>A user's tokens, newest first.</summary>
internal sealed record TokenListResponse(IReadOnlyList<TokenResponse> Tokens);

/// <summary>The body of <c>POST /organizations</c> and <c>POST /organizations/{org}/teams</c>.</summary>
internal sealed record CreateNamedRequest(string? Name);

/// <summary>An organization in a listing.</summary>
internal sealed record OrganizationSummary(string Name, DateTimeOffset CreatedAt);

/// <summary>A page of organizations.</summary>
internal sealed record OrganizationListResponse(IReadOnlyList<OrganizationSummary> Organizations);

/// <summary>An organization with its owners and team names.</summary>
internal sealed record OrganizationResponse(string Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Owners, IReadOnlyList<string> Teams);

/// <summary>A team in a listing.</summary>
internal sealed record TeamSummary(string Organization, string Name, DateTimeOffset CreatedAt);

/// <summary>The teams of an organization.</summary>
internal sealed record TeamListResponse(IReadOnlyList<TeamSummary> Teams);

/// <summary>A team with its members.</summary>
internal sealed record TeamResponse(string Organization, string Name, DateTimeOffset CreatedAt, IReadOnlyList<string> Members);

/// <summary>The body of <c>POST /repositories/{namespace}</c>.</summary>
internal sealed record CreateRepositoryRequest(string? Name, string? Visibility, bool? ScanOnPush, bool? ImmutableTags, string? Description);

/// <summary>The body of <c>PATCH /repositories/{namespace}/{repo}</c>.</summary>
internal sealed record UpdateRepositoryRequest(string? Visibility, bool? ScanOnPush, bool? ImmutableTags, string? Description);

/// <summary>A repository and its settings.</summary>
/// <param name="Name">The full repository name, as used with <c>docker pull</c>.</param>
/// <param name="Namespace">The user or organization that owns it.</param>
/// <param name="Repository">The name inside the namespace.</param>
/// <param name="CreatedAt">When it was created; null for a repository that was pushed without being created through this API.</param>
internal sealed record RepositoryResponse(
    string Name,
    string Namespace,
    string Repository,
    string Visibility,
    string? Description,
    bool ScanOnPush,
    bool ImmutableTags,
    DateTimeOffset? CreatedAt)
{
    public static RepositoryResponse From(RepositorySettings settings)
    {
        var name = settings.Name.Value;
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        return new RepositoryResponse(
            name,
            settings.Name.Namespace,
            slash < 0 ? "" : name[(slash + 1)..],
            ManagementEnums.Format(settings.Visibility),
            settings.Description,
            settings.ScanOnPush,
            settings.ImmutableTags,
            settings.CreatedAt);
    }

    /// <summary>Describes a repository that has content but no settings: it was pushed while authentication was off.</summary>
    public static RepositoryResponse WithoutSettings(Dtr.Names.RepositoryName name) => From(
        new RepositorySettings(name, RepositoryVisibility.Private, null, false, false, default)) with { CreatedAt = null };
}

/// <summary>A repository in a listing: its settings, with the number of tags and the time of the latest tag push.</summary>
/// <param name="CreatedAt">When it was created; null for a repository that was pushed without being created through this API.</param>
/// <param name="TagCount">The number of tags.</param>
/// <param name="LastPushedAt">The latest time a tag was pushed or moved to another manifest; null when the repository has no tags.</param>
internal sealed record RepositorySummaryResponse(
    string Name,
    string Namespace,
    string Repository,
    string Visibility,
    string? Description,
    bool ScanOnPush,
    bool ImmutableTags,
    DateTimeOffset? CreatedAt,
    int TagCount,
    DateTimeOffset? LastPushedAt)
{
    public static RepositorySummaryResponse From(RepositorySummary summary)
    {
        var settings = summary.Settings is null ? RepositoryResponse.WithoutSettings(summary.Name) : RepositoryResponse.From(summary.Settings);
        return new RepositorySummaryResponse(
            settings.Name,
            settings.Namespace,
            settings.Repository,
            settings.Visibility,
            settings.Description,
            settings.ScanOnPush,
            settings.ImmutableTags,
            settings.CreatedAt,
            summary.TagCount,
            summary.LastPushedAt);
    }
}

/// <summary>A page of repositories.</summary>
internal sealed record RepositoryListResponse(IReadOnlyList<RepositorySummaryResponse> Repositories);

/// <summary>The body of <c>PUT /repositories/{namespace}/{repo}/teamAccess/{team}</c>.</summary>
internal sealed record SetTeamAccessRequest(string? AccessLevel);

/// <summary>A team's access to a repository.</summary>
internal sealed record TeamAccessResponse(string Organization, string Team, string AccessLevel)
{
    public static TeamAccessResponse From(TeamAccess access) =>
        new(access.Organization, access.Team, ManagementEnums.Format(access.Level));
}

/// <summary>The team grants of a repository.</summary>
internal sealed record TeamAccessListResponse(IReadOnlyList<TeamAccessResponse> TeamAccess);

/// <summary>A tag with what it points to.</summary>
/// <param name="Size">
/// The bytes that the manifest accounts for. For an image manifest that is the manifest plus its config and layers.
/// For an index it is the index plus its child manifests, without their layers.
/// </param>
/// <param name="Platforms">For an index, <c>os/architecture[/variant]</c> of each child that names one; for an image, the platform in its config.</param>
/// <param name="Scan">
/// The status and summary of the manifest's latest scan (for an index, aggregated over its images), or null when it
/// was never scanned.
/// </param>
internal sealed record TagResponse(string Tag, string Digest, string MediaType, long Size, IReadOnlyList<string> Platforms, DateTimeOffset PushedAt, Scanning.TagScanResponse? Scan);

/// <summary>A page of tags.</summary>
internal sealed record TagListResponse(IReadOnlyList<TagResponse> Tags);

/// <summary>A stored manifest with its tags and, for an image, the platform, creation time and layer history from its config.</summary>
/// <param name="Size">
/// The bytes that the manifest accounts for, as in the tag listing: the manifest plus its config and layers for an
/// image, and the index plus its child manifests for an index.
/// </param>
/// <param name="Tags">The tags that point to the manifest, in the order of the tag listing.</param>
/// <param name="ConfigDigest">The digest of an image manifest's config blob; null for an index.</param>
/// <param name="Platform">An image's platform from its config; null for an index or when the config does not name one.</param>
/// <param name="Created">The <c>created</c> time of an image's config; null when absent or unreadable.</param>
/// <param name="Layers">An image manifest's layers in order; empty for an index.</param>
/// <param name="Manifests">An index's child manifests in order; empty for an image manifest.</param>
internal sealed record ManifestDetailsResponse(
    string Digest,
    string MediaType,
    long Size,
    IReadOnlyList<string> Tags,
    string? ConfigDigest,
    PlatformResponse? Platform,
    DateTimeOffset? Created,
    IReadOnlyList<LayerResponse> Layers,
    IReadOnlyList<ManifestEntryResponse> Manifests);

/// <summary>The platform an image was built for.</summary>
internal sealed record PlatformResponse(string Os, string Architecture, string? Variant)
{
    public static PlatformResponse? From(Dtr.Manifests.Platform? platform) =>
        platform is null ? null : new PlatformResponse(platform.Os, platform.Architecture, string.IsNullOrEmpty(platform.Variant) ? null : platform.Variant);
}

/// <summary>A layer of an image manifest.</summary>
/// <param name="CreatedBy">
/// The build step that made the layer, from the config's history (<c>created_by</c>); null when the history has no
/// entry for it or its entries do not match the layers one to one.
/// </param>
internal sealed record LayerResponse(string Digest, string MediaType, long Size, string? CreatedBy);

/// <summary>A child manifest of an index.</summary>
internal sealed record ManifestEntryResponse(string Digest, string MediaType, long Size, PlatformResponse? Platform);

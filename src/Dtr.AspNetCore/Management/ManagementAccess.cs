using Dtr.AspNetCore.Security;
using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Names;
using Microsoft.AspNetCore.Http;

namespace Dtr.AspNetCore.Management;

/// <summary>
/// The permission checks of the management API. System administrators may do everything. A user owns their own
/// namespace, and organization owners own the organization's namespace; namespace owners are administrators of
/// every repository in it. Other users get the highest level their teams were granted, and read-only access to
/// public repositories.
/// </summary>
/// <remarks>
/// Repository levels come from <see cref="RegistryAuthorizer"/>, so the management API and <c>/v2</c> apply one rule.
/// </remarks>
internal sealed class ManagementAccess
{
    private readonly IIdentityStore _identity;
    private readonly IMetadataStore _metadata;
    private readonly RegistryAuthorizer _authorizer;

    public ManagementAccess(IIdentityStore identity, IMetadataStore metadata, RegistryAuthorizer authorizer)
    {
        _identity = identity;
        _metadata = metadata;
        _authorizer = authorizer;
    }

    /// <summary>Throws 403 unless the caller is a system administrator.</summary>
    public static void RequireAdmin(RegistryCaller caller, string action)
    {
        if (!caller.IsAdmin)
        {
            throw ManagementProblem.Forbidden($"Only system administrators may {action}.");
        }
    }

    /// <summary>Returns whether the caller is <paramref name="userName"/> or a system administrator.</summary>
    public static bool IsSelfOrAdmin(RegistryCaller caller, string userName) =>
        caller.IsAdmin || string.Equals(caller.UserName, userName, StringComparison.Ordinal);

    /// <summary>Throws 403 unless the caller is <paramref name="userName"/> or a system administrator.</summary>
    public static void RequireSelfOrAdmin(RegistryCaller caller, string userName, string action)
    {
        if (!IsSelfOrAdmin(caller, userName))
        {
            throw ManagementProblem.Forbidden($"Only the user '{userName}' or a system administrator may {action}.");
        }
    }

    /// <summary>
    /// Throws 403 unless the caller signed in with a password or through the host's sign-in, directly or through a
    /// browser session started that way. Creating access tokens
    /// and changing passwords require it, so that a leaked access token or bearer token cannot be turned into
    /// lasting access. This applies to system administrators too.
    /// </summary>
    public static void RequirePasswordSignIn(HttpContext context, string action)
    {
        var credential = ManagementRequestFilter.GetCredential(context);
        if (credential is CredentialKind.Password or CredentialKind.Host)
        {
            return;
        }

        // A browser session is as strong as the sign-in that started it.
        if (credential == CredentialKind.Session && ManagementRequestFilter.GetSessionCredential(context) is CredentialKind.Password or CredentialKind.Host)
        {
            return;
        }

        // With authentication off the caller is an anonymous administrator without credentials. With it on, the
        // filter rejects anonymous callers, so a named caller without a credential kind is rejected here.
        if (credential == CredentialKind.None && ManagementRequestFilter.GetCaller(context).UserName is null)
        {
            return;
        }

        var presented = credential switch
        {
            CredentialKind.Bearer => "a bearer token",
            CredentialKind.AccessToken => "a personal access token",
            CredentialKind.Session => "a browser session started with a personal access token",
            CredentialKind.ClientCertificate => "a client certificate",
            _ => "a credential of unknown kind",
        };
        throw ManagementProblem.Forbidden(
            $"To {action}, sign in with your password (HTTP basic authentication) or through the host's sign-in; this request used {presented}, which is not accepted for it.");
    }

    /// <summary>Returns the organization, or throws 404.</summary>
    public async ValueTask<Organization> RequireOrganizationAsync(string organization, CancellationToken cancellationToken) =>
        await _identity.GetOrganizationAsync(organization, cancellationToken)
        ?? throw ManagementProblem.NotFound($"The organization '{organization}' does not exist.");

    /// <summary>Returns whether the caller is a system administrator or an owner of the organization.</summary>
    public async ValueTask<bool> IsOrganizationOwnerAsync(RegistryCaller caller, string organization, CancellationToken cancellationToken)
    {
        if (caller.IsAdmin)
        {
            return true;
        }

        if (caller.UserName is null)
        {
            return false;
        }

        var owners = await _identity.ListOwnersAsync(organization, cancellationToken);
        return owners.Contains(caller.UserName, StringComparer.Ordinal);
    }

    /// <summary>Throws 404 when the organization does not exist and 403 unless the caller owns it or is an administrator.</summary>
    public async ValueTask RequireOrganizationOwnerAsync(RegistryCaller caller, string organization, string action, CancellationToken cancellationToken)
    {
        await RequireOrganizationAsync(organization, cancellationToken);
        if (!await IsOrganizationOwnerAsync(caller, organization, cancellationToken))
        {
            throw ManagementProblem.Forbidden($"Only owners of the organization '{organization}' or a system administrator may {action}.");
        }
    }

    /// <summary>
    /// Throws 404 when the namespace is neither a user nor an organization, and 403 unless the caller owns it: it is
    /// their user name, they own the organization, or they are a system administrator.
    /// </summary>
    public async ValueTask RequireNamespaceOwnerAsync(RegistryCaller caller, string namespaceName, string action, CancellationToken cancellationToken)
    {
        if (await _identity.GetUserAsync(namespaceName, cancellationToken) is not null)
        {
            if (!IsSelfOrAdmin(caller, namespaceName))
            {
                throw ManagementProblem.Forbidden($"Only the user '{namespaceName}' or a system administrator may {action} in the namespace '{namespaceName}'.");
            }

            return;
        }

        if (await _identity.GetOrganizationAsync(namespaceName, cancellationToken) is null)
        {
            throw ManagementProblem.NotFound($"The namespace '{namespaceName}' does not exist; create the user or organization first.");
        }

        if (!await IsOrganizationOwnerAsync(caller, namespaceName, cancellationToken))
        {
            throw ManagementProblem.Forbidden($"Only owners of the organization '{namespaceName}' or a system administrator may {action} in it.");
        }
    }

    /// <summary>Returns the caller's access level on a repository; <see cref="AccessLevel.None"/> when it does not exist.</summary>
    public async ValueTask<AccessLevel> GetRepositoryLevelAsync(RegistryCaller caller, RepositoryName repository, CancellationToken cancellationToken)
    {
        var access = await _authorizer.GetAccessAsync(caller, repository, cancellationToken);
        if (!access.Facts.RepositoryExists)
        {
            return AccessLevel.None;
        }

        // The /v2 actions map back onto levels: '*' is admin, push is read-write and pull is read-only.
        if (access.Allowed.HasFlag(RegistryActions.All))
        {
            return AccessLevel.Admin;
        }

        if (access.Allowed.HasFlag(RegistryActions.Push))
        {
            return AccessLevel.ReadWrite;
        }

        return access.Allowed.HasFlag(RegistryActions.Pull) ? AccessLevel.ReadOnly : AccessLevel.None;
    }

    /// <summary>
    /// Returns the repository's settings after checking the caller's level. A repository the caller may not pull
    /// gets the same 404 as a missing one, so its existence is not revealed. One the caller may pull but not change
    /// gets 403.
    /// </summary>
    public async ValueTask<RepositorySettings> RequireRepositoryAsync(
        RegistryCaller caller,
        RepositoryName repository,
        AccessLevel required,
        string action,
        CancellationToken cancellationToken)
    {
        var level = await GetRepositoryLevelAsync(caller, repository, cancellationToken);
        var settings = level >= AccessLevel.ReadOnly ? await _identity.GetRepositoryAsync(repository, cancellationToken) : null;
        if (settings is null)
        {
            throw ManagementProblem.NotFound($"The repository '{repository}' does not exist, or you may not pull it.");
        }

        if (level < required)
        {
            throw ManagementProblem.Forbidden(
                $"You have {ManagementEnums.Format(level)} access to the repository '{repository}'; {action} needs {ManagementEnums.Format(required)}.");
        }

        return settings;
    }

    /// <summary>
    /// Checks the caller's level like <see cref="RequireRepositoryAsync"/>, but lets a system administrator reach a
    /// repository that has content and no settings, such as one pushed while authentication was off.
    /// </summary>
    public async ValueTask RequireRepositoryContentAsync(
        RegistryCaller caller,
        RepositoryName repository,
        AccessLevel required,
        string action,
        CancellationToken cancellationToken)
    {
        if (caller.IsAdmin && await _metadata.RepositoryExistsAsync(repository, cancellationToken))
        {
            return;
        }

        await RequireRepositoryAsync(caller, repository, required, action, cancellationToken);
    }
}

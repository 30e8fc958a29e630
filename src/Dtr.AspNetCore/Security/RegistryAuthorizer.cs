using Dtr.Identity;
using Dtr.Names;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// Decides which actions a caller may take on a repository. A system administrator may do everything. The owner of
/// the repository's namespace (the user namespace itself, or an owner of the organization) has admin access. Anyone
/// else gets the highest of their teams' levels, and at least read-only access to a public repository, as anonymous
/// callers do. Inactive users never reach this class because authentication rejects them.
/// </summary>
internal sealed class RegistryAuthorizer
{
    private readonly IIdentityStore _identity;

    public RegistryAuthorizer(IIdentityStore identity)
    {
        _identity = identity;
    }

    /// <summary>Reads the facts about the caller and the repository and returns the allowed actions with them.</summary>
    public async ValueTask<RepositoryAccess> GetAccessAsync(RegistryCaller caller, RepositoryName repository, CancellationToken cancellationToken)
    {
        var facts = await _identity.GetAccessFactsAsync(caller.UserName, repository, cancellationToken);
        return new RepositoryAccess(facts, Decide(caller, facts));
    }

    /// <summary>
    /// Applies the rules to facts already read. For a repository that does not exist (no settings), the rules give
    /// the rights the caller would have there, which the /v2 layer uses to tell "create it first" from "denied".
    /// </summary>
    public static RegistryActions Decide(RegistryCaller caller, RepositoryAccessFacts facts)
    {
        if (caller.IsAdmin)
        {
            return RegistryActionNames.Everything;
        }

        if (caller.IsAuthenticated && facts.IsNamespaceOwner)
        {
            return RegistryActionNames.ForLevel(AccessLevel.Admin);
        }

        var level = caller.IsAuthenticated ? facts.TeamLevel : AccessLevel.None;
        if (facts.RepositoryExists && facts.Visibility == RepositoryVisibility.Public && level < AccessLevel.ReadOnly)
        {
            level = AccessLevel.ReadOnly;
        }

        return RegistryActionNames.ForLevel(level);
    }
}

/// <summary>The facts about a caller and a repository, and the actions they allow.</summary>
/// <param name="Facts">What the identity store returned.</param>
/// <param name="Allowed">The actions the caller may take.</param>
internal sealed record RepositoryAccess(RepositoryAccessFacts Facts, RegistryActions Allowed);

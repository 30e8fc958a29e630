using Dtr.Identity;

namespace Dtr.AspNetCore.Security;

/// <summary>
/// The actions of the Docker token scope grammar on a repository, and the actions each <see cref="AccessLevel"/>
/// grants.
/// </summary>
[Flags]
internal enum RegistryActions
{
    /// <summary>No access.</summary>
    None = 0,

    /// <summary><c>pull</c>: read manifests, blobs, tags and referrers.</summary>
    Pull = 1,

    /// <summary><c>push</c>: upload blobs and put manifests.</summary>
    Push = 2,

    /// <summary><c>delete</c>: delete tags, manifests and blobs.</summary>
    Delete = 4,

    /// <summary><c>*</c>: every action, including administering the repository.</summary>
    All = 8,
}

/// <summary>Conversions between <see cref="RegistryActions"/>, scope action names and access levels.</summary>
internal static class RegistryActionNames
{
    public const string Pull = "pull";
    public const string Push = "push";
    public const string Delete = "delete";
    public const string All = "*";

    /// <summary>Every flag, which is what the <c>*</c> action means.</summary>
    public const RegistryActions Everything = RegistryActions.Pull | RegistryActions.Push | RegistryActions.Delete | RegistryActions.All;

    /// <summary>Returns the actions a level grants: read-only pulls, read-write also pushes and deletes, admin gets everything.</summary>
    public static RegistryActions ForLevel(AccessLevel level) => level switch
    {
        AccessLevel.ReadOnly => RegistryActions.Pull,
        AccessLevel.ReadWrite => RegistryActions.Pull | RegistryActions.Push | RegistryActions.Delete,
        AccessLevel.Admin => Everything,
        _ => RegistryActions.None,
    };

    /// <summary>Parses one action name; unknown names give <see cref="RegistryActions.None"/>.</summary>
    public static RegistryActions Parse(string name) => name switch
    {
        Pull => RegistryActions.Pull,
        Push => RegistryActions.Push,
        Delete => RegistryActions.Delete,
        All => Everything,
        _ => RegistryActions.None,
    };

    /// <summary>Parses a list of action names, ignoring unknown ones.</summary>
    public static RegistryActions Parse(IEnumerable<string> names)
    {
        var actions = RegistryActions.None;
        foreach (var name in names)
        {
            actions |= Parse(name);
        }

        return actions;
    }

    /// <summary>
    /// Returns the action names of a set in the order pull, push, delete, <c>*</c>, as tokens and challenges list them.
    /// </summary>
    public static List<string> ToNames(RegistryActions actions)
    {
        var names = new List<string>(4);
        if (actions.HasFlag(RegistryActions.Pull))
        {
            names.Add(Pull);
        }

        if (actions.HasFlag(RegistryActions.Push))
        {
            names.Add(Push);
        }

        if (actions.HasFlag(RegistryActions.Delete))
        {
            names.Add(Delete);
        }

        if (actions.HasFlag(RegistryActions.All))
        {
            names.Add(All);
        }

        return names;
    }

    /// <summary>Formats a set as the comma-separated action list of a scope, such as <c>pull,push</c>.</summary>
    public static string Format(RegistryActions actions) => string.Join(',', ToNames(actions));
}

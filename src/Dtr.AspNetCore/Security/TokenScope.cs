namespace Dtr.AspNetCore.Security;

/// <summary>
/// One requested or granted scope: a resource type (<c>repository</c>, <c>registry</c>), a resource name and the
/// action names. It is both the parsed form of a <c>scope</c> parameter and an entry of a token's <c>access</c> claim.
/// </summary>
/// <param name="Type">The resource type without any class suffix: <c>repository(plugin)</c> becomes <c>repository</c>.</param>
/// <param name="Name">The resource name, such as <c>alice/app</c> or <c>catalog</c>.</param>
/// <param name="Actions">The action names, in request order and without duplicates.</param>
internal sealed record TokenScope(string Type, string Name, IReadOnlyList<string> Actions)
{
    public const string RepositoryType = "repository";
    public const string RegistryType = "registry";
    public const string CatalogName = "catalog";

    /// <summary>
    /// The name of the <c>registry:management:*</c> scope, which a bearer token must carry to be accepted by the
    /// management API.
    /// </summary>
    public const string ManagementName = "management";

    /// <summary>The only action of the management scope, and the action that grants everything on a resource.</summary>
    public const string AllAction = "*";

    /// <summary>
    /// Returns whether a bearer token's <c>access</c> claim contains <c>registry:management:*</c>, the condition for the
    /// management API to accept that token. Returns false for null, which is the access of a request without a bearer
    /// token, so check <see cref="AuthenticationOutcome.Credential"/> for other credentials.
    /// </summary>
    public static bool GrantsManagement(IReadOnlyList<TokenScope>? access)
    {
        if (access is null)
        {
            return false;
        }

        foreach (var scope in access)
        {
            if (scope.Type == RegistryType && scope.Name == ManagementName && scope.Actions.Contains(AllAction))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Parses every <c>scope</c> parameter value. One value may hold several scopes separated by spaces, as clients
    /// send them. A scope has the form <c>type[(class)]:name:action[,action…]</c>. The name may contain a colon (a
    /// host with a port), so the type ends at the first colon and the actions start after the last one. Malformed
    /// scopes are skipped, since the token endpoint grants what it can instead of failing.
    /// </summary>
    /// <param name="values">The <c>scope</c> parameter values.</param>
    /// <param name="maxCount">The maximum number of scopes, malformed ones included.</param>
    /// <param name="scopes">The well-formed scopes, or an empty list when there are too many.</param>
    /// <param name="count">The number of space-separated scopes in all values, malformed ones included.</param>
    /// <returns>False when there are more than <paramref name="maxCount"/> scopes.</returns>
    public static bool TryParseAll(IEnumerable<string?> values, int maxCount, out List<TokenScope> scopes, out int count)
    {
        scopes = [];
        var parts = new List<string>();
        foreach (var value in values)
        {
            if (!string.IsNullOrWhiteSpace(value))
            {
                parts.AddRange(value.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }
        }

        count = parts.Count;
        if (count > maxCount)
        {
            return false;
        }

        foreach (var part in parts)
        {
            if (TryParse(part, out var scope))
            {
                scopes.Add(scope);
            }
        }

        return true;
    }

    /// <summary>Parses one scope; returns false when it lacks a type, a name or the action part.</summary>
    public static bool TryParse(string text, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out TokenScope? scope)
    {
        scope = null;
        var firstColon = text.IndexOf(':', StringComparison.Ordinal);
        var lastColon = text.LastIndexOf(':');
        if (firstColon <= 0 || lastColon <= firstColon + 1)
        {
            return false;
        }

        var type = text[..firstColon];
        var classStart = type.IndexOf('(', StringComparison.Ordinal);
        if (classStart >= 0)
        {
            if (classStart == 0 || !type.EndsWith(')'))
            {
                return false;
            }

            type = type[..classStart];
        }

        var name = text[(firstColon + 1)..lastColon];
        var actions = text[(lastColon + 1)..]
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        scope = new TokenScope(type, name, actions);
        return true;
    }

    /// <summary>Formats the scope as the <c>scope</c> parameter and challenges write it.</summary>
    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions)}";
}

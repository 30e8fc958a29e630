using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Dtr.EndToEnd.Tests;

/// <summary>
/// A <c>WWW-Authenticate: Bearer realm="...",service="...",scope="..."</c> challenge of the Docker token
/// authentication flow, which names the token endpoint (realm) and what to request from it.
/// </summary>
internal sealed partial record BearerChallenge(string Realm, string? Service, string? Scope)
{
    /// <summary>Returns the Bearer challenge of a response, or null when the response has none.</summary>
    public static BearerChallenge? From(HttpResponseMessage response)
    {
        var header = response.Headers.WwwAuthenticate.FirstOrDefault(h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase));
        if (header?.Parameter is null)
        {
            return null;
        }

        var parameters = ChallengeParameter().Matches(header.Parameter)
            .ToDictionary(m => m.Groups["name"].Value.ToLowerInvariant(), m => m.Groups["value"].Value);
        return parameters.TryGetValue("realm", out var realm)
            ? new BearerChallenge(realm, parameters.GetValueOrDefault("service"), parameters.GetValueOrDefault("scope"))
            : null;
    }

    /// <summary>
    /// Requests a token from the realm for <paramref name="scope"/> (such as <c>repository:a/b:pull,push</c>), with
    /// basic authentication when <paramref name="credentials"/> is given, and returns the response unread.
    /// </summary>
    public async Task<HttpResponseMessage> RequestTokenAsync(HttpClient http, string scope, (string UserName, string Password)? credentials)
    {
        var query = $"scope={Uri.EscapeDataString(scope)}";
        if (Service is not null)
        {
            query = $"service={Uri.EscapeDataString(Service)}&{query}";
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Realm}{(Realm.Contains('?') ? '&' : '?')}{query}");
        if (credentials is { } signIn)
        {
            request.Headers.Authorization = ManagementApiClient.BasicAuthorization(signIn.UserName, signIn.Password);
        }

        return await http.SendAsync(request);
    }

    /// <summary>
    /// Returns the actions that a registry token (a JWT) grants on a repository, read from its <c>access</c> claim
    /// without checking the signature.
    /// </summary>
    public static IReadOnlyList<string> GrantedActions(string token, string repository)
    {
        var parts = token.Split('.');
        Assert.True(parts.Length == 3, $"The registry token is not a JWT (header.payload.signature): {token}");
        var payload = JsonNode.Parse(Base64UrlDecode(parts[1]))!;
        var access = payload["access"]?.AsArray() ?? [];
        return access
            .Where(entry => entry?["type"]?.GetValue<string>() == "repository" && entry["name"]?.GetValue<string>() == repository)
            .SelectMany(entry => entry!["actions"]?.AsArray() ?? [])
            .Select(action => action!.GetValue<string>())
            .ToList();
    }

    private static string Base64UrlDecode(string text)
    {
        var base64 = text.Replace('-', '+').Replace('_', '/');
        base64 += new string('=', (4 - base64.Length % 4) % 4);
        return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
    }

    // The name="value" pairs of the challenge. Quoted values with escaped quotes are not handled, because realms,
    // services and scopes do not contain quotes.
    [GeneratedRegex(@"(?<name>[A-Za-z_]+)=""(?<value>[^""]*)""")]
    private static partial Regex ChallengeParameter();
}

namespace Dtr.AspNetCore.Ui;

/// <summary>Checks and normalizes <see cref="RegistryUiOptions.Path"/>.</summary>
internal static class RegistryUiPath
{
    /// <summary>Returns the path with one leading '/' and no trailing '/', or throws when it cannot be a base path.</summary>
    public static string Normalize(string? path)
    {
        var trimmed = (path ?? "").Trim();
        if (!trimmed.StartsWith('/'))
        {
            throw new ArgumentException($"The web interface's path '{path}' is invalid: it must start with '/', such as '/ui'.", nameof(path));
        }

        if (trimmed.IndexOfAny(['?', '#', '\\', '"', '<', '>', ' ']) >= 0 || trimmed.Contains("..", StringComparison.Ordinal))
        {
            throw new ArgumentException($"The web interface's path '{path}' is invalid: it must be a plain URL path without a query, fragment, quotes or '..'.", nameof(path));
        }

        return "/" + trimmed.Trim('/');
    }
}

namespace Dtr.Scanning.Service;

/// <summary>Redaction of database URLs, which may carry credentials in their user information or query string.</summary>
internal static class DatabaseUrl
{
    /// <summary>The text that replaces each query value in a redacted URL.</summary>
    public const string Mask = "…";

    /// <summary>
    /// Returns the URL without its user information and fragment, and with each query value replaced by
    /// <see cref="Mask"/>, for source names, logs, messages and the API. The result is the same for the same URL, so
    /// it serves as a stable source name. Two URLs that differ only in credentials or query values redact alike.
    /// </summary>
    public static string Redact(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri)
        {
            return url.OriginalString.Split('?', '#')[0];
        }

        var redacted = url.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped);
        var query = url.Query.TrimStart('?');
        if (query.Length == 0)
        {
            return redacted;
        }

        var parameters = query.Split('&').Select(parameter =>
        {
            var equals = parameter.IndexOf('=', StringComparison.Ordinal);
            return equals < 0 ? Mask : parameter[..(equals + 1)] + Mask;
        });
        return redacted + "?" + string.Join('&', parameters);
    }
}

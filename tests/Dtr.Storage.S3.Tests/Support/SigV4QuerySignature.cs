using System.Security.Cryptography;
using System.Text;

namespace Dtr.Storage.S3.Tests.Support;

/// <summary>
/// Recomputes the SigV4 signature of a presigned S3 GET URL, because s3rver 3.7.1 checks the parameters, the access
/// key and the expiry of such a URL but not its signature. Covers URLs that sign only the <c>host</c> header, with
/// an unsigned payload, as AWSSDK.S3 presigns them.
/// </summary>
internal static class SigV4QuerySignature
{
    private const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>Returns whether the URL's <c>X-Amz-Signature</c> matches the one computed with the secret key.</summary>
    public static bool IsValid(Uri url, string secretKey)
    {
        var parameters = ParseQuery(url.Query);
        var provided = GetSingle(parameters, "X-Amz-Signature");
        var timestamp = GetSingle(parameters, "X-Amz-Date");
        var credential = GetSingle(parameters, "X-Amz-Credential");
        if (GetSingle(parameters, "X-Amz-Algorithm") != Algorithm || GetSingle(parameters, "X-Amz-SignedHeaders") != "host")
        {
            return false;
        }

        // The credential is <access key>/<date>/<region>/<service>/aws4_request, and the part after the key is the scope.
        var scope = credential[(credential.IndexOf('/', StringComparison.Ordinal) + 1)..];
        var scopeParts = scope.Split('/');
        if (scopeParts.Length != 4)
        {
            return false;
        }

        var canonicalQuery = string.Join(
            "&",
            parameters
                .Where(parameter => parameter.Name != "X-Amz-Signature")
                .Select(parameter => (Name: Uri.EscapeDataString(parameter.Name), Value: Uri.EscapeDataString(parameter.Value)))
                .OrderBy(parameter => parameter.Name, StringComparer.Ordinal)
                .ThenBy(parameter => parameter.Value, StringComparer.Ordinal)
                .Select(parameter => parameter.Name + "=" + parameter.Value));
        var canonicalRequest = $"GET\n{url.AbsolutePath}\n{canonicalQuery}\nhost:{url.Authority}\n\nhost\nUNSIGNED-PAYLOAD";
        var stringToSign = $"{Algorithm}\n{timestamp}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

        var key = Encoding.UTF8.GetBytes("AWS4" + secretKey);
        foreach (var part in scopeParts)
        {
            key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(part));
        }

        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(stringToSign)));
        return string.Equals(expected, provided, StringComparison.Ordinal);
    }

    /// <summary>Returns the decoded value of a query parameter that must occur once.</summary>
    public static string GetSingle(IEnumerable<(string Name, string Value)> parameters, string name) =>
        parameters.Single(parameter => parameter.Name == name).Value;

    /// <summary>Splits a query string into decoded name and value pairs.</summary>
    public static List<(string Name, string Value)> ParseQuery(string query) =>
        query.TrimStart('?')
            .Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => pair.Split('=', 2))
            .Select(pair => (Uri.UnescapeDataString(pair[0]), Uri.UnescapeDataString(pair.Length > 1 ? pair[1] : string.Empty)))
            .ToList();
}

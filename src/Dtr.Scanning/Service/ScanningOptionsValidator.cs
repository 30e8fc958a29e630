using System.Security.Cryptography;

namespace Dtr.Scanning.Service;

/// <summary>Checks <see cref="ScanningOptions"/> and returns every problem at once, each with its fix.</summary>
internal static class ScanningOptionsValidator
{
    /// <summary>Returns the problems, each prefixed with the setting's full name under <paramref name="prefix"/>.</summary>
    /// <param name="prefix">The configuration path of the options, such as <c>Registry:Scanning</c>.</param>
    public static List<string> Validate(ScanningOptions options, string prefix)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (options.Concurrency is < 1 or > 64)
        {
            errors.Add($"{prefix}:Concurrency is {options.Concurrency}; set a value from 1 to 64 (the default is 2).");
        }

        if (options.MaxLayerBytes < 1024 * 1024)
        {
            errors.Add($"{prefix}:MaxLayerBytes is {options.MaxLayerBytes}; set at least 1048576 bytes (the default is 4294967296, 4 GiB).");
        }

        if (options.MaxLayerEntries < 100)
        {
            errors.Add($"{prefix}:MaxLayerEntries is {options.MaxLayerEntries}; set at least 100 (the default is 1000000).");
        }

        if (options.MaxPackageDatabaseBytes < 64 * 1024 || options.MaxPackageDatabaseBytes > 1024 * 1024 * 1024)
        {
            errors.Add($"{prefix}:MaxPackageDatabaseBytes is {options.MaxPackageDatabaseBytes}; set a value from 65536 to 1073741824 bytes (the default is 67108864, 64 MiB).");
        }

        if (options.MaxArchiveBytes < 1024)
        {
            errors.Add($"{prefix}:MaxArchiveBytes is {options.MaxArchiveBytes}; set at least 1024 bytes (the default is 2147483648, 2 GiB).");
        }

        if (options.UpdateInterval < TimeSpan.FromMinutes(1) || options.UpdateInterval > TimeSpan.FromDays(30))
        {
            errors.Add($"{prefix}:UpdateInterval is {options.UpdateInterval}; set a value from 00:01:00 to 30.00:00:00 (the default is 1.00:00:00).");
        }

        if (options.MaxAttempts is < 1 or > 100)
        {
            errors.Add($"{prefix}:MaxAttempts is {options.MaxAttempts}; set a value from 1 to 100 (the default is 3).");
        }

        if (options.JobLeaseDuration < TimeSpan.FromSeconds(10) || options.JobLeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add($"{prefix}:JobLeaseDuration is {options.JobLeaseDuration}; set a value from 00:00:10 to 01:00:00 (the default is 00:05:00).");
        }

        // Each URL's redacted form is its source name, so two URLs that redact alike would overwrite one source.
        var sourceNames = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < options.DatabaseUrls.Count; i++)
        {
            var url = options.DatabaseUrls[i];
            if (!IsHttpUrl(url))
            {
                errors.Add($"{prefix}:DatabaseUrls:{i} '{(url is null ? "" : DatabaseUrl.Redact(url))}' must be an absolute http or https URL.");
            }
            else if (!sourceNames.TryAdd(DatabaseUrl.Redact(url), i))
            {
                errors.Add($"{prefix}:DatabaseUrls:{i} and :{sourceNames[DatabaseUrl.Redact(url)]} differ only in credentials or query values, so they would share the source name '{DatabaseUrl.Redact(url)}'; remove one or change its path.");
            }
        }

        foreach (var (key, url) in options.SignatureUrls)
        {
            if (!IsHttpUrl(url))
            {
                errors.Add($"{prefix}:SignatureUrls '{key}' maps to '{(url is null ? "" : DatabaseUrl.Redact(url))}', which is not an absolute http or https URL.");
            }
        }

        ValidatePublicKey(options, prefix, errors);
        return errors;
    }

    private static void ValidatePublicKey(ScanningOptions options, string prefix, List<string> errors)
    {
        var hasPem = !string.IsNullOrWhiteSpace(options.PublicKeyPem);
        var hasFile = !string.IsNullOrWhiteSpace(options.PublicKeyFile);
        if (hasPem && hasFile)
        {
            errors.Add($"{prefix}:PublicKeyPem and {prefix}:PublicKeyFile are both set; set only one of them.");
            return;
        }

        string pem;
        string setting;
        if (hasPem)
        {
            pem = options.PublicKeyPem!;
            setting = $"{prefix}:PublicKeyPem";
        }
        else if (hasFile)
        {
            setting = $"{prefix}:PublicKeyFile";
            try
            {
                pem = File.ReadAllText(options.PublicKeyFile!);
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException)
            {
                errors.Add($"{setting} '{options.PublicKeyFile}' cannot be read: {exception.Message}");
                return;
            }
        }
        else
        {
            return;
        }

        try
        {
            using var verifier = ArchiveSignatureVerifier.FromPem(pem);
        }
        catch (Exception exception) when (exception is ArgumentException or CryptographicException)
        {
            errors.Add($"{setting} does not contain a PEM ECDSA or RSA public key ('-----BEGIN PUBLIC KEY-----'): {exception.Message}");
        }
    }

    private static bool IsHttpUrl(Uri? url) =>
        url is { IsAbsoluteUri: true } && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps);
}

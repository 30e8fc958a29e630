using Dtr.Gc;
using Dtr.Names;
using Dtr.Scanning.Service;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.Configuration;

/// <summary>
/// Checks <see cref="RegistryOptions"/> at start-up and reports every problem at once, each with its fix.
/// </summary>
internal sealed class RegistryOptionsValidator : IValidateOptions<RegistryOptions>
{
    public ValidateOptionsResult Validate(string? name, RegistryOptions options)
    {
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(options.DataDirectory))
        {
            errors.Add("Registry:DataDirectory is not set. Set it to the folder for blobs and the metadata database, for example --Registry:DataDirectory=./registry-data.");
        }
        else if (options.DataDirectory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            errors.Add($"Registry:DataDirectory '{options.DataDirectory}' contains characters that are not valid in a path.");
        }

        if (options.PublicBaseUrl is { } baseUrl)
        {
            if (!baseUrl.IsAbsoluteUri || (baseUrl.Scheme != Uri.UriSchemeHttp && baseUrl.Scheme != Uri.UriSchemeHttps))
            {
                errors.Add($"Registry:PublicBaseUrl '{baseUrl}' must be an absolute http or https URL, such as https://registry.example.com.");
            }
            else if (!string.IsNullOrEmpty(baseUrl.Query) || !string.IsNullOrEmpty(baseUrl.Fragment))
            {
                errors.Add($"Registry:PublicBaseUrl '{baseUrl}' must not have a query or fragment.");
            }
        }

        var tls = options.Tls;
        if (!string.IsNullOrEmpty(tls.CertificatePath) && !string.IsNullOrEmpty(tls.PfxPath))
        {
            errors.Add("Registry:Tls:CertificatePath and Registry:Tls:PfxPath are both set; set only one of them.");
        }

        if (!string.IsNullOrEmpty(tls.KeyPath) && string.IsNullOrEmpty(tls.CertificatePath))
        {
            errors.Add("Registry:Tls:KeyPath is set without Registry:Tls:CertificatePath; set the certificate's PEM file too.");
        }

        errors.AddRange(ValidateClientCertificates(options));

        if (options.MaxManifestBytes < 4 * 1024)
        {
            errors.Add($"Registry:MaxManifestBytes is {options.MaxManifestBytes}; set at least 4096 bytes (the default is 4194304, 4 MiB).");
        }

        if (options.MaxBlobBytes is <= 0)
        {
            errors.Add($"Registry:MaxBlobBytes is {options.MaxBlobBytes}; set a positive number of bytes, or leave it unset for no limit.");
        }

        if (options.MaxPageSize is < 1 or > 100_000)
        {
            errors.Add($"Registry:MaxPageSize is {options.MaxPageSize}; set a value from 1 to 100000 (the default is 1000).");
        }

        if (options.RedirectLifetime < TimeSpan.FromSeconds(10) || options.RedirectLifetime > TimeSpan.FromDays(7))
        {
            errors.Add($"Registry:RedirectLifetime is {options.RedirectLifetime}; set a value from 00:00:10 to 7.00:00:00 (the default is 00:10:00).");
        }

        if (options.UploadBufferBytes is < 4096 or > 64 * 1024 * 1024)
        {
            errors.Add($"Registry:UploadBufferBytes is {options.UploadBufferBytes}; set a value from 4096 to 67108864 bytes (the default is 1048576).");
        }

        if (options.UploadLeaseDuration < TimeSpan.FromSeconds(5) || options.UploadLeaseDuration > TimeSpan.FromHours(1))
        {
            errors.Add($"Registry:UploadLeaseDuration is {options.UploadLeaseDuration}; set a value from 00:00:05 to 01:00:00 (the default is 00:02:00).");
        }

        if (options.SettingsRefreshInterval < TimeSpan.FromSeconds(1) || options.SettingsRefreshInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"Registry:SettingsRefreshInterval is {options.SettingsRefreshInterval}; set a value from 00:00:01 to 01:00:00 (the default is 00:00:30).");
        }

        var prefix = options.ManagementApiPrefix?.Trim().Trim('/');
        if (string.IsNullOrEmpty(prefix) || prefix.Split('/').Any(string.IsNullOrEmpty) || prefix == "v2" || prefix.StartsWith("v2/", StringComparison.Ordinal))
        {
            errors.Add($"Registry:ManagementApiPrefix '{options.ManagementApiPrefix}' is invalid; set a path such as /api/v0 that is not empty and not under /v2.");
        }

        if (!RepositoryName.IsValidComponent(options.Admin.UserName) || options.Admin.UserName.Length > 64)
        {
            errors.Add($"Registry:Admin:UserName '{options.Admin.UserName}' is invalid; use 1 to 64 lowercase letters and digits, optionally joined by '.', '_', '__' or '-' (the default is admin).");
        }

        if (!string.IsNullOrEmpty(options.Admin.Password) && options.Admin.Password.Length < 8)
        {
            errors.Add($"Registry:Admin:Password is {options.Admin.Password.Length} characters long; set at least 8 characters, or leave it unset to have a random password generated and logged once.");
        }

        if (options.Auth.TokenCacheSize is < 0 or > 1_000_000)
        {
            errors.Add($"Registry:Auth:TokenCacheSize is {options.Auth.TokenCacheSize}; set a value from 0 (no cache) to 1000000 tokens (the default is 10000).");
        }

        if (options.Auth.SessionLifetime < TimeSpan.FromMinutes(5) || options.Auth.SessionLifetime > TimeSpan.FromDays(30))
        {
            errors.Add($"Registry:Auth:SessionLifetime is {options.Auth.SessionLifetime}; set a value from 00:05:00 to 30.00:00:00 (the default is 08:00:00).");
        }

        if (!Enum.IsDefined(options.Auth.SessionCookieSecure))
        {
            errors.Add($"Registry:Auth:SessionCookieSecure is {options.Auth.SessionCookieSecure}; set SameAsRequest (the default) or Always.");
        }

        errors.AddRange(ScanningOptionsValidator.Validate(options.Scanning, "Registry:Scanning"));
        errors.AddRange(GarbageCollectionOptionsValidator.Check(options.GarbageCollection));

        if (options.Audit is null || options.Audit.Retention < TimeSpan.FromDays(1) || options.Audit.Retention > TimeSpan.FromDays(3650))
        {
            errors.Add($"Registry:Audit:Retention is {options.Audit?.Retention}; set a value from 1.00:00:00 to 3650.00:00:00 (the default is 90.00:00:00).");
        }

        if (options.Webhooks is null)
        {
            errors.Add("Registry:Webhooks is null; remove the setting to use the defaults.");
        }
        else
        {
            errors.AddRange(Webhooks.WebhookOptionsValidator.Check(options.Webhooks));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static List<string> ValidateClientCertificates(RegistryOptions options)
    {
        var errors = new List<string>();
        var clientCertificates = options.ClientCertificates;
        if (clientCertificates is null)
        {
            return errors;
        }

        if (!Enum.IsDefined(clientCertificates.UserNameSource))
        {
            errors.Add($"Registry:ClientCertificates:UserNameSource is {clientCertificates.UserNameSource}; set CommonName (the default), Email, UserPrincipalName or DnsName.");
        }

        if (clientCertificates.BundleValidity < TimeSpan.FromDays(1) || clientCertificates.BundleValidity > TimeSpan.FromDays(3650))
        {
            errors.Add($"Registry:ClientCertificates:BundleValidity is {clientCertificates.BundleValidity}; set a value from 1.00:00:00 to 3650.00:00:00 (the default is 365.00:00:00).");
        }

        if (clientCertificates.RequiredDomain is { } domain && (domain.Length == 0 || domain.Contains('@', StringComparison.Ordinal)))
        {
            errors.Add($"Registry:ClientCertificates:RequiredDomain '{domain}' is invalid; set a domain such as example.com, without '@', or leave it unset.");
        }

        if (!clientCertificates.Enabled)
        {
            if (clientCertificates.IssueBundles)
            {
                errors.Add("Registry:ClientCertificates:IssueBundles is true but Registry:ClientCertificates:Enabled is false; set Enabled to true as well, or the issued certificates would not be accepted.");
            }

            return errors;
        }

        if (!options.Auth.Enabled)
        {
            errors.Add("Registry:ClientCertificates:Enabled is true but Registry:Auth:Enabled is false, so there is no user to sign in as; enable authentication or turn client certificates off.");
        }

        if (clientCertificates.TrustedCaPaths.Count == 0 && !clientCertificates.IssueBundles)
        {
            errors.Add("Registry:ClientCertificates:Enabled is true but no certificate authority is trusted; set Registry:ClientCertificates:TrustedCaPaths to PEM files of your CA, or set Registry:ClientCertificates:IssueBundles to true.");
        }

        foreach (var path in clientCertificates.TrustedCaPaths)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                errors.Add("Registry:ClientCertificates:TrustedCaPaths contains an empty entry; remove it or set the path of a PEM file.");
            }
            else if (Tls.ClientCertificateValidator.CheckTrustedFile(path) is { } error)
            {
                errors.Add(error);
            }
        }

        return errors;
    }
}

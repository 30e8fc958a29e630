using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.AzureBlob;

/// <summary>Checks <see cref="AzureBlobStorageOptions"/> at start and reports every problem at once.</summary>
internal sealed class AzureBlobStorageOptionsValidator : IValidateOptions<AzureBlobStorageOptions>
{
    private const string Name = nameof(AzureBlobStorageOptions);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, AzureBlobStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        ValidateCredentials(options, errors);
        ValidateContainerName(options.ContainerName, errors);

        if (options.Prefix is not null && (options.Prefix.Contains('\\', StringComparison.Ordinal) || options.Prefix.Split('/').Any(segment => segment is "." or "..")))
        {
            errors.Add($"{Name}.Prefix '{options.Prefix}' contains a backslash or a '.' or '..' segment. Use plain names separated by '/'.");
        }

        if (options.PublicEndpoint is not null && !IsHttpUrlWithoutQuery(options.PublicEndpoint))
        {
            errors.Add($"{Name}.PublicEndpoint '{options.PublicEndpoint}' is not an absolute http or https URL without a query. Set it to the blob service endpoint that clients reach, such as https://storage.example.com/myaccount, or leave it null.");
        }

        if (options.BlockSizeBytes is < AzureBlobStorageOptions.MinBlockSizeBytes or > AzureBlobStorageOptions.MaxBlockSizeBytes)
        {
            errors.Add($"{Name}.BlockSizeBytes {options.BlockSizeBytes} is out of range. Set it between {AzureBlobStorageOptions.MinBlockSizeBytes} (1 MiB) and {AzureBlobStorageOptions.MaxBlockSizeBytes} (256 MiB) bytes.");
        }

        if (options.CopyBlockSizeBytes is < AzureBlobStorageOptions.MinCopyBlockSizeBytes or > AzureBlobStorageOptions.MaxCopyBlockSizeBytes)
        {
            errors.Add($"{Name}.CopyBlockSizeBytes {options.CopyBlockSizeBytes} is out of range. Set it between {AzureBlobStorageOptions.MinCopyBlockSizeBytes} (1 MiB) and {AzureBlobStorageOptions.MaxCopyBlockSizeBytes} (4000 MiB) bytes.");
        }

        if (options.Resilience is null)
        {
            errors.Add($"{Name}.Resilience is null. Leave it at its default, or set its properties.");
        }
        else
        {
            errors.AddRange(options.Resilience.Validate($"{Name}.Resilience"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Checks that exactly one way to reach and authorize the account is set.</summary>
    private static void ValidateCredentials(AzureBlobStorageOptions options, List<string> errors)
    {
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        var hasServiceUri = options.ServiceUri is not null;
        if (hasConnectionString == hasServiceUri)
        {
            errors.Add(hasConnectionString
                ? $"{Name}.ConnectionString and {Name}.ServiceUri are both set. Set one of them."
                : $"Neither {Name}.ConnectionString nor {Name}.ServiceUri is set. Set ConnectionString, or ServiceUri with AccountName and AccountKey or with SasToken.");
        }

        var hasAccountName = !string.IsNullOrWhiteSpace(options.AccountName);
        var hasAccountKey = !string.IsNullOrWhiteSpace(options.AccountKey);
        var hasSasToken = !string.IsNullOrWhiteSpace(options.SasToken);

        if (hasConnectionString)
        {
            if (hasAccountName || hasAccountKey || hasSasToken)
            {
                errors.Add($"{Name}.AccountName, AccountKey and SasToken apply only with ServiceUri. Put the credential in the connection string, or use ServiceUri instead.");
            }

            try
            {
                _ = new BlobServiceClient(options.ConnectionString);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
            {
                // The SDK parser's message names the problem. The connection string is a secret, so the message does
                // not repeat it.
                errors.Add($"{Name}.ConnectionString is not a valid Azure Storage connection string: {ex.Message}");
            }
        }

        if (!hasServiceUri)
        {
            return;
        }

        if (!IsHttpUrlWithoutQuery(options.ServiceUri!))
        {
            errors.Add($"{Name}.ServiceUri '{options.ServiceUri}' is not an absolute http or https URL without a query. Set it to the blob endpoint, such as https://myaccount.blob.core.windows.net, and put a SAS in SasToken.");
        }

        if (hasAccountName != hasAccountKey)
        {
            errors.Add($"{Name}.AccountName and {Name}.AccountKey must be set together for shared key authorization.");
        }

        if (hasAccountKey && hasSasToken)
        {
            errors.Add($"{Name}.AccountKey and {Name}.SasToken are both set. Set one credential: the shared key, or the SAS.");
        }
        else if (!hasAccountKey && !hasSasToken)
        {
            errors.Add($"{Name}.ServiceUri is set without a credential. Set AccountName and AccountKey, or SasToken.");
        }

        if (hasAccountKey && !IsBase64(options.AccountKey!))
        {
            errors.Add($"{Name}.AccountKey is not valid base64. Copy the key from the storage account's access keys.");
        }
    }

    /// <summary>Applies the Blob service's container name rule: 3 to 63 lowercase letters, digits and single inner hyphens.</summary>
    private static void ValidateContainerName(string? containerName, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(containerName))
        {
            errors.Add($"{Name}.ContainerName is not set. Set it to a container name such as \"registry\", for example in AddAzureBlobStorage(o => o.ContainerName = \"registry\").");
            return;
        }

        var valid = containerName.Length is >= 3 and <= 63
            && containerName.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
            && containerName[0] != '-'
            && containerName[^1] != '-'
            && !containerName.Contains("--", StringComparison.Ordinal);
        if (!valid)
        {
            errors.Add($"{Name}.ContainerName '{containerName}' is invalid. A container name has 3 to 63 characters: lowercase letters, digits and hyphens, starting and ending with a letter or digit, with no two hyphens in a row.");
        }
    }

    private static bool IsHttpUrlWithoutQuery(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && uri.Query.Length == 0
        && uri.Fragment.Length == 0;

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return Convert.TryFromBase64String(value, buffer, out var written) && written > 0;
    }
}

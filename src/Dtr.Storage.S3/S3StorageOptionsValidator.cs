using Microsoft.Extensions.Options;

namespace Dtr.Storage.S3;

/// <summary>Checks <see cref="S3StorageOptions"/> at start and reports every problem at once.</summary>
internal sealed class S3StorageOptionsValidator : IValidateOptions<S3StorageOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, S3StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(options.Bucket))
        {
            errors.Add("S3StorageOptions.Bucket is not set. Set it to the name of an existing bucket, for example in AddS3Storage(o => o.Bucket = \"registry\").");
        }

        if (options.ServiceUrl is not null && !IsHttpUrl(options.ServiceUrl))
        {
            errors.Add($"S3StorageOptions.ServiceUrl '{options.ServiceUrl}' is not an absolute http or https URL. Set it to the server's endpoint, such as http://127.0.0.1:9000, or leave it null for Amazon S3.");
        }

        if (options.PublicServiceUrl is not null && !IsHttpUrl(options.PublicServiceUrl))
        {
            errors.Add($"S3StorageOptions.PublicServiceUrl '{options.PublicServiceUrl}' is not an absolute http or https URL. Set it to the endpoint at which registry clients reach the S3 server, such as https://s3.example.com, or leave it null to sign download URLs for ServiceUrl.");
        }

        if (options.Region is not null && string.IsNullOrWhiteSpace(options.Region))
        {
            errors.Add("S3StorageOptions.Region is empty. Set it to a region name such as us-east-1, or leave it null to use the SDK's default region lookup.");
        }

        if (options.AccessKey is null != options.SecretKey is null)
        {
            errors.Add("S3StorageOptions.AccessKey and S3StorageOptions.SecretKey must be set together. Set both, or neither to use the SDK's default credential chain.");
        }

        if (options.PartSizeBytes is < S3StorageOptions.MinPartSizeBytes or > S3StorageOptions.MaxPartSizeBytes)
        {
            errors.Add($"S3StorageOptions.PartSizeBytes {options.PartSizeBytes} is out of range. Set it between {S3StorageOptions.MinPartSizeBytes} (5 MiB, the S3 minimum part size) and {S3StorageOptions.MaxPartSizeBytes} bytes.");
        }

        if (options.Prefix is not null && options.Prefix.Split('/').Any(segment => segment is "." or ".."))
        {
            errors.Add($"S3StorageOptions.Prefix '{options.Prefix}' contains a '.' or '..' segment. Use plain names separated by '/'.");
        }

        if (options.Resilience is null)
        {
            errors.Add("S3StorageOptions.Resilience is null. Leave the default settings in place, or set them with new StorageResilienceOptions { ... }.");
        }
        else
        {
            errors.AddRange(options.Resilience.Validate("S3StorageOptions.Resilience"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}

using Dtr.Metadata.PostgreSql;
using Dtr.Storage.AzureBlob;
using Dtr.Storage.FileSystem;
using Dtr.Storage.S3;
using Dtr.Storage.Sqlite;

/// <summary>
/// Chooses the sample host's blob store and metadata store from configuration: <c>Storage:Driver</c> is
/// <c>FileSystem</c> (the default), <c>S3</c> or <c>AzureBlob</c>, and <c>Metadata:Provider</c> is <c>Sqlite</c>
/// (the default) or <c>PostgreSql</c>. Each provider's options are bound from the section named after it, such as
/// <c>Storage:S3</c> or <c>Metadata:PostgreSql</c>. Names are compared without regard to case.
/// </summary>
internal static class RegistryBackends
{
    public const string StorageDriverKey = "Storage:Driver";
    public const string MetadataProviderKey = "Metadata:Provider";

    public const string FileSystemDriver = "FileSystem";
    public const string S3Driver = "S3";
    public const string AzureBlobDriver = "AzureBlob";
    public const string SqliteProvider = "Sqlite";
    public const string PostgreSqlProvider = "PostgreSql";

    /// <summary>
    /// Registers the configured stores on top of the embedded defaults that <c>AddDockerRegistry</c> added, and returns
    /// the choice. An unknown name registers nothing and is listed in <see cref="RegistryBackendChoice.Errors"/>.
    /// </summary>
    public static RegistryBackendChoice Add(IDockerRegistryBuilder registry, IConfiguration configuration)
    {
        var storageDriver = Normalize(configuration[StorageDriverKey], FileSystemDriver, [FileSystemDriver, S3Driver, AzureBlobDriver]);
        var metadataProvider = Normalize(configuration[MetadataProviderKey], SqliteProvider, [SqliteProvider, PostgreSqlProvider]);
        var errors = new List<string>();

        switch (storageDriver)
        {
            case FileSystemDriver:
                // AddDockerRegistry registered this store already. A RootDirectory set here wins over Registry:DataDirectory.
                registry.Services.AddOptions<FileSystemStorageOptions>().Bind(configuration.GetSection("Storage:FileSystem"));
                break;

            case S3Driver:
                registry.Services.AddOptions<S3StorageOptions>().Bind(configuration.GetSection("Storage:S3"));
                registry.AddS3Storage();
                break;

            case AzureBlobDriver:
                registry.Services.AddOptions<AzureBlobStorageOptions>().Bind(configuration.GetSection("Storage:AzureBlob"));
                registry.AddAzureBlobStorage();
                break;

            default:
                errors.Add($"{StorageDriverKey} '{storageDriver}' is not a known blob store driver. Set it to FileSystem (the default), S3 or AzureBlob.");
                break;
        }

        switch (metadataProvider)
        {
            case SqliteProvider:
                // AddDockerRegistry registered this store already. A DatabasePath set here wins over Registry:DataDirectory.
                registry.Services.AddOptions<SqliteMetadataOptions>().Bind(configuration.GetSection("Metadata:Sqlite"));
                break;

            case PostgreSqlProvider:
                registry.Services.AddOptions<PostgreSqlMetadataOptions>().Bind(configuration.GetSection("Metadata:PostgreSql"));
                registry.AddPostgreSqlMetadata();
                break;

            default:
                errors.Add($"{MetadataProviderKey} '{metadataProvider}' is not a known metadata provider. Set it to Sqlite (the default) or PostgreSql.");
                break;
        }

        return new RegistryBackendChoice(storageDriver, metadataProvider, errors);
    }

    /// <summary>Returns the known name that matches <paramref name="value"/> in any case, the default when it is empty, or the value as given.</summary>
    private static string Normalize(string? value, string defaultName, string[] knownNames)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return defaultName;
        }

        var trimmed = value.Trim();
        return knownNames.FirstOrDefault(name => string.Equals(name, trimmed, StringComparison.OrdinalIgnoreCase)) ?? trimmed;
    }
}

/// <summary>The blob store driver and metadata provider the sample host runs with, and the problems with them.</summary>
/// <param name="StorageDriver">The value of <c>Storage:Driver</c>, or <c>FileSystem</c> when it is not set.</param>
/// <param name="MetadataProvider">The value of <c>Metadata:Provider</c>, or <c>Sqlite</c> when it is not set.</param>
/// <param name="Errors">One message per unknown or unavailable name; empty when both names are valid.</param>
internal sealed record RegistryBackendChoice(string StorageDriver, string MetadataProvider, IReadOnlyList<string> Errors);

using Dtr.AspNetCore.Configuration;
using Dtr.Storage.FileSystem;
using Dtr.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.AspNetCore.DependencyInjection;

/// <summary>
/// Registers the embedded default storage: filesystem blobs in <see cref="RegistryOptions.DataDirectory"/> and the
/// SQLite database <c>registry.db</c> beside them. Paths set on the providers' own options win.
/// </summary>
internal static class EmbeddedStorageDefaults
{
    /// <summary>The file name of the SQLite database inside the data folder.</summary>
    public const string DatabaseFileName = "registry.db";

    public static void Add(IDockerRegistryBuilder builder)
    {
        builder.AddFileSystemStorage();
        builder.AddSqliteMetadata();

        builder.Services.AddOptions<FileSystemStorageOptions>()
            .PostConfigure<IOptions<RegistryOptions>>((storage, registry) =>
                storage.RootDirectory ??= registry.Value.DataDirectory);

        builder.Services.AddOptions<SqliteMetadataOptions>()
            .PostConfigure<IOptions<RegistryOptions>>((metadata, registry) =>
            {
                if (metadata.DatabasePath is null && metadata.ConnectionString is null && registry.Value.DataDirectory is { } dataDirectory)
                {
                    metadata.DatabasePath = Path.Combine(dataDirectory, DatabaseFileName);
                }
            });
    }
}

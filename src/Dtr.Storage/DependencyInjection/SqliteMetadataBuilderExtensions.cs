using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Scanning;
using Dtr.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the SQLite metadata store on a registry builder.
/// </summary>
public static class SqliteMetadataBuilderExtensions
{
    /// <summary>
    /// Stores registry metadata, and users, organizations, teams, tokens and repository settings, in a SQLite
    /// database file. One store instance serves as <see cref="IMetadataStore"/>, <see cref="IIdentityStore"/>,
    /// <see cref="IScanStore"/>, <see cref="ILeaseStore"/>, <see cref="IGarbageCollectionStore"/>, <see cref="ISettingsStore"/>, <see cref="IAuditStore"/>, <see cref="IWebhookStore"/> and <see cref="IKeyMaterialStore"/>,
    /// and replaces any registered before, so the last metadata provider added wins. The options are validated when the host starts; the
    /// schema is created or upgraded by <see cref="IMetadataStore.MigrateAsync"/>, which the host calls at start.
    /// </summary>
    /// <param name="builder">The registry builder.</param>
    /// <param name="configure">Sets the options; may be null when they are bound from configuration elsewhere.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IDockerRegistryBuilder AddSqliteMetadata(this IDockerRegistryBuilder builder, Action<SqliteMetadataOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var options = services.AddOptions<SqliteMetadataOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SqliteMetadataOptions>, SqliteMetadataOptionsValidator>());

        services.TryAddSingleton(provider => new SqliteMetadataStore(
            provider.GetRequiredService<IOptions<SqliteMetadataOptions>>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetService<ILogger<SqliteMetadataStore>>() ?? NullLogger<SqliteMetadataStore>.Instance));
        services.ReplaceMetadataStore(provider => provider.GetRequiredService<SqliteMetadataStore>());
        services.Replace(ServiceDescriptor.Singleton<IIdentityStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IScanStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<ILeaseStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IGarbageCollectionStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<ISettingsStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IAuditStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IWebhookStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IKeyMaterialStore>(provider => provider.GetRequiredService<SqliteMetadataStore>()));
        return builder;
    }
}

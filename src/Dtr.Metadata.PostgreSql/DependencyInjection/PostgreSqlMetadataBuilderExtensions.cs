using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Metadata.PostgreSql;
using Dtr.Scanning;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>
/// Registers the PostgreSQL metadata store on a registry builder.
/// </summary>
public static class PostgreSqlMetadataBuilderExtensions
{
    /// <summary>
    /// Stores registry metadata, and users, organizations, teams, tokens and repository settings, in a PostgreSQL
    /// database. One store instance serves as <see cref="IMetadataStore"/>, <see cref="IIdentityStore"/>,
    /// <see cref="IScanStore"/>, <see cref="ILeaseStore"/>, <see cref="IGarbageCollectionStore"/>, <see cref="ISettingsStore"/>, <see cref="IAuditStore"/>, <see cref="IWebhookStore"/> and <see cref="IKeyMaterialStore"/>, and replaces any registered before, so the last metadata provider added wins. The options are validated when
    /// the host starts; the schema is created or upgraded by <see cref="IMetadataStore.MigrateAsync"/>, which the
    /// host calls at start.
    /// </summary>
    /// <param name="builder">The registry builder.</param>
    /// <param name="configure">Sets the options; may be null when they are bound from configuration elsewhere.</param>
    /// <returns>The same builder, for chaining.</returns>
    public static IDockerRegistryBuilder AddPostgreSqlMetadata(this IDockerRegistryBuilder builder, Action<PostgreSqlMetadataOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        var options = services.AddOptions<PostgreSqlMetadataOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PostgreSqlMetadataOptions>, PostgreSqlMetadataOptionsValidator>());

        services.TryAddSingleton(provider => new PostgreSqlMetadataStore(
            provider.GetRequiredService<IOptions<PostgreSqlMetadataOptions>>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetService<ILogger<PostgreSqlMetadataStore>>() ?? NullLogger<PostgreSqlMetadataStore>.Instance));
        services.ReplaceMetadataStore(provider => provider.GetRequiredService<PostgreSqlMetadataStore>());
        services.Replace(ServiceDescriptor.Singleton<IIdentityStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IScanStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<ILeaseStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IGarbageCollectionStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<ISettingsStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IAuditStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IWebhookStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        services.Replace(ServiceDescriptor.Singleton<IKeyMaterialStore>(provider => provider.GetRequiredService<PostgreSqlMetadataStore>()));
        return builder;
    }
}

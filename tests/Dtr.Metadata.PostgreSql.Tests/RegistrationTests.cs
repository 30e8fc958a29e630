using Dtr.Identity;
using Dtr.Scanning;
using Dtr.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.Metadata.PostgreSql.Tests;

public sealed class RegistrationTests
{
    private const string ConnectionString = "Host=127.0.0.1;Database=registry;Username=dtr";

    [Fact]
    public void AddPostgreSqlMetadata_ReplacesEarlierStores()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IMetadataStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));
        builder.Services.AddSingleton<IIdentityStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));

        builder.AddPostgreSqlMetadata(o => o.ConnectionString = ConnectionString);

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IMetadataStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IIdentityStore));
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);
        Assert.IsType<PostgreSqlMetadataStore>(ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()));
        Assert.IsType<PostgreSqlMetadataStore>(provider.GetRequiredService<IIdentityStore>());
    }

    [Fact]
    public void AddPostgreSqlMetadata_IdentityIsSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.AddPostgreSqlMetadata(o => o.ConnectionString = ConnectionString);
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        provider.GetRequiredService<IStartupValidator>().Validate();

        var metadata = ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>());
        Assert.Same(metadata, provider.GetRequiredService<IIdentityStore>());
        Assert.Same(metadata, ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()));
    }

    [Fact]
    public void AddPostgreSqlMetadata_ScanAndLeaseStoresSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IScanStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));
        builder.AddPostgreSqlMetadata(o => o.ConnectionString = ConnectionString);
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        var metadata = ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>());

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IScanStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(ILeaseStore));
        Assert.Same(metadata, provider.GetRequiredService<IScanStore>());
        Assert.Same(metadata, provider.GetRequiredService<ILeaseStore>());
    }

    [Fact]
    public void Registration_GcStoreIsSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IGarbageCollectionStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));
        builder.AddPostgreSqlMetadata(o => o.ConnectionString = ConnectionString);
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IGarbageCollectionStore));
        Assert.Same(ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()), provider.GetRequiredService<IGarbageCollectionStore>());
    }

    [Fact]
    public void AddTwice_RegistersValidatorOnce()
    {
        var builder = new TestRegistryBuilder();

        builder.AddPostgreSqlMetadata().AddPostgreSqlMetadata();

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IValidateOptions<PostgreSqlMetadataOptions>));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(PostgreSqlMetadataStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IMetadataStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IIdentityStore));
    }

    [Fact]
    public void StartupValidation_ReportsMissingConnectionString()
    {
        var builder = new TestRegistryBuilder();
        builder.AddPostgreSqlMetadata(o => o.Schema = "");
        using var provider = builder.Services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(exception.Failures, f => f.Contains("PostgreSqlMetadataOptions.ConnectionString is not set", StringComparison.Ordinal));
        Assert.Contains(exception.Failures, f => f.Contains("PostgreSqlMetadataOptions.Schema '' is invalid", StringComparison.Ordinal));
    }

    private sealed class TestRegistryBuilder : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();
    }
}

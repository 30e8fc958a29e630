using Dtr.Identity;
using Dtr.Metadata;
using Dtr.Scanning;
using Dtr.Storage.FileSystem;
using Dtr.Storage.Sqlite;
using Dtr.Telemetry;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Tests.DependencyInjection;

public sealed class RegistrationTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _temp.Dispose();
    }

    [Fact]
    public void AddBoth_ResolvesSingletons()
    {
        var builder = new TestRegistryBuilder();
        builder
            .AddFileSystemStorage(o => o.RootDirectory = Path.Combine(_temp.Path, "blobs"))
            .AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        provider.GetRequiredService<IStartupValidator>().Validate();

        Assert.IsType<FileSystemBlobStore>(ITracingDecorator.Unwrap(provider.GetRequiredService<IBlobStore>()));
        Assert.Same(provider.GetRequiredService<IBlobStore>(), provider.GetRequiredService<IBlobStore>());
        Assert.IsType<SqliteMetadataStore>(ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()));
        Assert.Same(provider.GetRequiredService<IMetadataStore>(), provider.GetRequiredService<IMetadataStore>());
    }

    [Fact]
    public void AddFileSystemStorage_ReplacesEarlierStore()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IBlobStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));

        builder.AddFileSystemStorage(o => o.RootDirectory = _temp.Path);

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IBlobStore));
        using var provider = builder.Services.BuildServiceProvider();
        Assert.IsType<FileSystemBlobStore>(ITracingDecorator.Unwrap(provider.GetRequiredService<IBlobStore>()));
    }

    [Fact]
    public void AddSqliteMetadata_ReplacesEarlierStore()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IMetadataStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));

        builder.AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IMetadataStore));
        using var provider = builder.Services.BuildServiceProvider();
        Assert.IsType<SqliteMetadataStore>(ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()));
    }

    [Fact]
    public void AddSqliteMetadata_IdentityIsSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        var identity = provider.GetRequiredService<IIdentityStore>();

        Assert.IsType<SqliteMetadataStore>(identity);
        Assert.Same(ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>()), identity);
        Assert.Same(identity, provider.GetRequiredService<IIdentityStore>());
    }

    [Fact]
    public void AddSqliteMetadata_ScanAndLeaseStoresSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IScanStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));
        builder.AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        var metadata = ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>());

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IScanStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(ILeaseStore));
        Assert.Same(metadata, provider.GetRequiredService<IScanStore>());
        Assert.Same(metadata, provider.GetRequiredService<ILeaseStore>());
    }

    [Fact]
    public void AddSqliteMetadata_GarbageCollectionStoreSameInstance()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IGarbageCollectionStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));
        builder.AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));
        using var provider = builder.Services.BuildServiceProvider(validateScopes: true);

        var metadata = ITracingDecorator.Unwrap(provider.GetRequiredService<IMetadataStore>());

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IGarbageCollectionStore));
        Assert.Same(metadata, provider.GetRequiredService<IGarbageCollectionStore>());
    }

    [Fact]
    public void AddSqliteMetadata_ReplacesEarlierIdentityStore()
    {
        var builder = new TestRegistryBuilder();
        builder.Services.AddSingleton<IIdentityStore>(_ => throw new InvalidOperationException("The earlier store must not be resolved."));

        builder.AddSqliteMetadata(o => o.DatabasePath = Path.Combine(_temp.Path, "metadata.db"));

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IIdentityStore));
        using var provider = builder.Services.BuildServiceProvider();
        Assert.IsType<SqliteMetadataStore>(provider.GetRequiredService<IIdentityStore>());
    }

    [Fact]
    public void AddTwice_RegistersValidatorOnce()
    {
        var builder = new TestRegistryBuilder();

        builder.AddFileSystemStorage().AddFileSystemStorage().AddSqliteMetadata().AddSqliteMetadata();

        Assert.Single(builder.Services, d => d.ServiceType == typeof(IValidateOptions<FileSystemStorageOptions>));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IValidateOptions<SqliteMetadataOptions>));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IBlobStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IMetadataStore));
        Assert.Single(builder.Services, d => d.ServiceType == typeof(IIdentityStore));
    }

    [Fact]
    public void StartupValidation_ReportsEveryMissingOption()
    {
        var builder = new TestRegistryBuilder();
        builder.AddFileSystemStorage().AddSqliteMetadata();
        using var provider = builder.Services.BuildServiceProvider();

        var exception = Assert.ThrowsAny<Exception>(() => provider.GetRequiredService<IStartupValidator>().Validate());

        var messages = exception is AggregateException aggregate
            ? aggregate.InnerExceptions.SelectMany(e => ((OptionsValidationException)e).Failures).ToList()
            : ((OptionsValidationException)exception).Failures.ToList();
        Assert.Contains(messages, m => m.Contains("FileSystemStorageOptions.RootDirectory", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.Contains("SqliteMetadataOptions.DatabasePath", StringComparison.Ordinal));
    }

    private sealed class TestRegistryBuilder : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = new ServiceCollection();
    }
}

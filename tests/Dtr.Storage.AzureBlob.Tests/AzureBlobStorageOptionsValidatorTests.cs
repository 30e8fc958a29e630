using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.AzureBlob.Tests;

public sealed class AzureBlobStorageOptionsValidatorTests
{
    private const string ValidKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly AzureBlobStorageOptionsValidator _validator = new();

    [Fact]
    public void Validate_ConnectionStringSucceeds()
    {
        var options = new AzureBlobStorageOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={ValidKey};EndpointSuffix=core.windows.net",
            ContainerName = "registry",
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_SharedKeySucceeds()
    {
        var options = new AzureBlobStorageOptions
        {
            ServiceUri = "https://myaccount.blob.core.windows.net",
            AccountName = "myaccount",
            AccountKey = ValidKey,
            ContainerName = "registry-prod-1",
            PublicEndpoint = "https://storage.example.com/myaccount",
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_SasTokenSucceeds()
    {
        var options = new AzureBlobStorageOptions
        {
            ServiceUri = "https://myaccount.blob.core.windows.net",
            SasToken = "?sv=2025-01-05&sr=c&sp=racwdl&sig=abc",
            ContainerName = "registry",
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_EmptyOptionsNameBothRequiredSettings()
    {
        var result = _validator.Validate(null, new AzureBlobStorageOptions());

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, message => message.StartsWith("Neither AzureBlobStorageOptions.ConnectionString nor AzureBlobStorageOptions.ServiceUri is set.", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.StartsWith("AzureBlobStorageOptions.ContainerName is not set.", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ListsEveryError()
    {
        var options = new AzureBlobStorageOptions
        {
            ServiceUri = "ftp://myaccount.example.com",
            AccountName = "myaccount",
            AccountKey = "not base64!",
            SasToken = "sv=2025-01-05&sig=abc",
            ContainerName = "Bad--Name",
            Prefix = "a/../b",
            PublicEndpoint = "https://storage.example.com/?x=1",
            BlockSizeBytes = 1024,
            CopyBlockSizeBytes = AzureBlobStorageOptions.MaxCopyBlockSizeBytes + 1,
        };
        options.Resilience.MaxRetryAttempts = -1;

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(9, failures.Count);
        Assert.Contains(failures, message => message.Contains("ServiceUri 'ftp://myaccount.example.com' is not an absolute http or https URL", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("AccountKey and AzureBlobStorageOptions.SasToken are both set", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("AccountKey is not valid base64", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("ContainerName 'Bad--Name' is invalid", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("Prefix 'a/../b'", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("PublicEndpoint 'https://storage.example.com/?x=1'", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("BlockSizeBytes 1024 is out of range", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains($"CopyBlockSizeBytes {AzureBlobStorageOptions.MaxCopyBlockSizeBytes + 1} is out of range", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("AzureBlobStorageOptions.Resilience:MaxRetryAttempts must be between 0 and 20", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ConnectionStringWithServiceUriRejected()
    {
        var options = new AzureBlobStorageOptions
        {
            ConnectionString = $"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={ValidKey}",
            ServiceUri = "https://myaccount.blob.core.windows.net",
            AccountKey = ValidKey,
            ContainerName = "registry",
        };

        var failures = _validator.Validate(null, options).Failures!.ToList();

        Assert.Contains(failures, message => message.Contains("ConnectionString and AzureBlobStorageOptions.ServiceUri are both set", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("apply only with ServiceUri", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_MalformedConnectionStringHidesSecret()
    {
        var options = new AzureBlobStorageOptions { ConnectionString = "AccountKey=secret-value-123;NoEquals", ContainerName = "registry" };

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);

        Assert.StartsWith("AzureBlobStorageOptions.ConnectionString is not a valid Azure Storage connection string", failure, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-value-123", failure, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ServiceUriWithoutCredentialRejected()
    {
        var options = new AzureBlobStorageOptions { ServiceUri = "https://myaccount.blob.core.windows.net", ContainerName = "registry" };

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);

        Assert.Equal("AzureBlobStorageOptions.ServiceUri is set without a credential. Set AccountName and AccountKey, or SasToken.", failure);
    }

    [Fact]
    public void Validate_KeyWithoutAccountNameRejected()
    {
        var options = new AzureBlobStorageOptions { ServiceUri = "https://myaccount.blob.core.windows.net", AccountKey = ValidKey, ContainerName = "registry" };

        var failure = Assert.Single(_validator.Validate(null, options).Failures!);

        Assert.Contains("AccountName and AzureBlobStorageOptions.AccountKey must be set together", failure, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc", true)]
    [InlineData("registry-1", true)]
    [InlineData("ab", false)]
    [InlineData("-registry", false)]
    [InlineData("registry-", false)]
    [InlineData("reg--istry", false)]
    [InlineData("Registry", false)]
    [InlineData("reg_istry", false)]
    public void Validate_ContainerNameRule(string containerName, bool valid)
    {
        var options = new AzureBlobStorageOptions { ConnectionString = "UseDevelopmentStorage=true", ContainerName = containerName };

        Assert.Equal(valid, _validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_ContainerNameMaxLength()
    {
        var options = new AzureBlobStorageOptions { ConnectionString = "UseDevelopmentStorage=true", ContainerName = new string('a', 63) };
        Assert.True(_validator.Validate(null, options).Succeeded);

        options.ContainerName = new string('a', 64);
        Assert.False(_validator.Validate(null, options).Succeeded);
    }

    [Theory]
    [InlineData(AzureBlobStorageOptions.MinBlockSizeBytes - 1, false)]
    [InlineData(AzureBlobStorageOptions.MinBlockSizeBytes, true)]
    [InlineData(AzureBlobStorageOptions.MaxBlockSizeBytes, true)]
    [InlineData(AzureBlobStorageOptions.MaxBlockSizeBytes + 1, false)]
    public void Validate_BlockSizeBounds(int blockSizeBytes, bool valid)
    {
        var options = new AzureBlobStorageOptions { ConnectionString = "UseDevelopmentStorage=true", ContainerName = "registry", BlockSizeBytes = blockSizeBytes };

        Assert.Equal(valid, _validator.Validate(null, options).Succeeded);
    }

    [Fact]
    public void Registration_MissingContainerFailsOnResolve()
    {
        var services = new ServiceCollection();
        new TestRegistryBuilder(services).AddAzureBlobStorage(o => o.ConnectionString = "UseDevelopmentStorage=true");
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IBlobStore>());

        Assert.Contains("ContainerName is not set", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_ReplacesEarlierBlobStore()
    {
        var services = new ServiceCollection();
        var builder = new TestRegistryBuilder(services);
        services.AddSingleton<IBlobStore>(_ => throw new InvalidOperationException("The earlier store must be replaced."));

        builder.AddAzureBlobStorage(o => o.ContainerName = "registry");

        Assert.Single(services, descriptor => descriptor.ServiceType == typeof(IBlobStore));
        Assert.Contains(services, descriptor => descriptor.ServiceType == typeof(IValidateOptions<AzureBlobStorageOptions>));
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

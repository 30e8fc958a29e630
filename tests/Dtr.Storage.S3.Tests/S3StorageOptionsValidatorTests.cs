using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.S3.Tests;

public sealed class S3StorageOptionsValidatorTests
{
    private readonly S3StorageOptionsValidator _validator = new();

    [Fact]
    public void Validate_MinimalOptionsSucceed()
    {
        var result = _validator.Validate(null, new S3StorageOptions { Bucket = "registry" });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ListsEveryError()
    {
        var options = new S3StorageOptions
        {
            ServiceUrl = "not a url",
            Region = " ",
            AccessKey = "only-the-key",
            PartSizeBytes = 1024,
            Prefix = "a/../b",
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(6, failures.Count);
        Assert.Contains(failures, message => message.Contains("Bucket", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("ServiceUrl 'not a url'", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("Region", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("SecretKey", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("PartSizeBytes 1024", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("Prefix 'a/../b'", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(S3StorageOptions.MinPartSizeBytes - 1, false)]
    [InlineData(S3StorageOptions.MinPartSizeBytes, true)]
    [InlineData(S3StorageOptions.MaxPartSizeBytes, true)]
    [InlineData(S3StorageOptions.MaxPartSizeBytes + 1, false)]
    public void Validate_PartSizeBounds(int partSizeBytes, bool valid)
    {
        var result = _validator.Validate(null, new S3StorageOptions { Bucket = "registry", PartSizeBytes = partSizeBytes });

        Assert.Equal(valid, result.Succeeded);
    }

    [Fact]
    public void Validate_FtpServiceUrlRejected()
    {
        var result = _validator.Validate(null, new S3StorageOptions { Bucket = "registry", ServiceUrl = "ftp://127.0.0.1/" });

        Assert.True(result.Failed);
    }

    [Fact]
    public void Validate_ResilienceChecked()
    {
        var options = new S3StorageOptions { Bucket = "registry" };
        options.Resilience.MaxRetryAttempts = -1;
        options.Resilience.FailureRatio = 2;

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, message => message.Contains("S3StorageOptions.Resilience:MaxRetryAttempts", StringComparison.Ordinal));
        Assert.Contains(failures, message => message.Contains("S3StorageOptions.Resilience:FailureRatio", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_NullResilienceRejected()
    {
        var result = _validator.Validate(null, new S3StorageOptions { Bucket = "registry", Resilience = null! });

        Assert.True(result.Failed);
        Assert.Contains("S3StorageOptions.Resilience is null", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://s3.example.com", true)]
    [InlineData("http://127.0.0.1:9000", true)]
    [InlineData("s3.example.com", false)]
    [InlineData("ftp://s3.example.com", false)]
    public void Validate_PublicServiceUrl(string publicServiceUrl, bool valid)
    {
        var result = _validator.Validate(null, new S3StorageOptions { Bucket = "registry", PublicServiceUrl = publicServiceUrl });

        Assert.Equal(valid, result.Succeeded);
    }

    [Fact]
    public void Registration_MissingBucketFailsOnResolve()
    {
        var services = new ServiceCollection();
        new TestRegistryBuilder(services).AddS3Storage();
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IBlobStore>());

        Assert.Contains("Bucket", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Registration_ReplacesEarlierBlobStore()
    {
        var services = new ServiceCollection();
        var builder = new TestRegistryBuilder(services);
        services.AddSingleton<IBlobStore>(_ => throw new InvalidOperationException("The earlier store must be replaced."));

        builder.AddS3Storage(o => o.Bucket = "registry");

        Assert.Single(services, descriptor => descriptor.ServiceType == typeof(IBlobStore));
        Assert.Contains(services, descriptor => descriptor.ServiceType == typeof(IValidateOptions<S3StorageOptions>));
    }

    private sealed class TestRegistryBuilder(IServiceCollection services) : IDockerRegistryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}

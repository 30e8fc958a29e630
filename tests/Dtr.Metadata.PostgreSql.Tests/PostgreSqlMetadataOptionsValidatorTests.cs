namespace Dtr.Metadata.PostgreSql.Tests;

public sealed class PostgreSqlMetadataOptionsValidatorTests
{
    private readonly PostgreSqlMetadataOptionsValidator _validator = new();

    [Fact]
    public void Validate_GoodOptionsPass()
    {
        var result = _validator.Validate(null, new PostgreSqlMetadataOptions { ConnectionString = "Host=db;Database=registry;Username=dtr" });

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Fact]
    public void Validate_ReportsEveryError()
    {
        var result = _validator.Validate(null, new PostgreSqlMetadataOptions { Schema = "Bad-Schema" });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.Contains(failures, f => f.Contains("PostgreSqlMetadataOptions.ConnectionString is not set", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("PostgreSqlMetadataOptions.Schema 'Bad-Schema' is invalid", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_ResilienceOutOfRange()
    {
        var options = new PostgreSqlMetadataOptions { ConnectionString = "Host=db;Database=registry;Username=dtr" };
        options.Resilience.MaxRetryAttempts = -1;

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("PostgreSqlMetadataOptions.Resilience:MaxRetryAttempts", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ResilienceMissing()
    {
        var options = new PostgreSqlMetadataOptions { ConnectionString = "Host=db;Database=registry;Username=dtr", Resilience = null! };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("PostgreSqlMetadataOptions.Resilience is null", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnparsableConnectionString()
    {
        var result = _validator.Validate(null, new PostgreSqlMetadataOptions { ConnectionString = "NoSuchKeyword=1" });

        Assert.True(result.Failed);
        Assert.Contains("ConnectionString is invalid", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ConnectionStringWithoutHost()
    {
        var result = _validator.Validate(null, new PostgreSqlMetadataOptions { ConnectionString = "Database=registry;Username=dtr" });

        Assert.True(result.Failed);
        Assert.Contains("names no host", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dtr", true)]
    [InlineData("_private", true)]
    [InlineData("registry_2", true)]
    [InlineData("", false)]
    [InlineData("2fast", false)]
    [InlineData("Upper", false)]
    [InlineData("with space", false)]
    [InlineData("quote\"", false)]
    public void IsValidSchema_Cases(string schema, bool expected)
    {
        Assert.Equal(expected, PostgreSqlMetadataOptionsValidator.IsValidSchema(schema));
    }

    [Fact]
    public void IsValidSchema_MaxLength()
    {
        Assert.True(PostgreSqlMetadataOptionsValidator.IsValidSchema(new string('a', 63)));
        Assert.False(PostgreSqlMetadataOptionsValidator.IsValidSchema(new string('a', 64)));
    }
}

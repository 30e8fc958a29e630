using Dtr.Storage.Sqlite;

namespace Dtr.Storage.Tests.Sqlite;

public sealed class SqliteMetadataOptionsValidatorTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly SqliteMetadataOptionsValidator _validator = new();

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Validate_PathSucceedsAndCreatesFolder()
    {
        var path = Path.Combine(_temp.Path, "nested", "metadata.db");

        var result = _validator.Validate(null, new SqliteMetadataOptions { DatabasePath = path });

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.True(Directory.Exists(Path.GetDirectoryName(path)));
    }

    [Fact]
    public void Validate_ResilienceOutOfRange()
    {
        var options = new SqliteMetadataOptions { DatabasePath = Path.Combine(_temp.Path, "metadata.db") };
        options.Resilience.BaseDelay = TimeSpan.Zero;

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("SqliteMetadataOptions.Resilience:BaseDelay", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_NothingSetFails()
    {
        var result = _validator.Validate(null, new SqliteMetadataOptions());

        Assert.True(result.Failed);
        Assert.Contains("SqliteMetadataOptions.DatabasePath is not set", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_BothSetFails()
    {
        var options = new SqliteMetadataOptions
        {
            DatabasePath = Path.Combine(_temp.Path, "a.db"),
            ConnectionString = $"Data Source={Path.Combine(_temp.Path, "b.db")}",
        };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("are both set", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReportsEveryError()
    {
        var options = new SqliteMetadataOptions { BusyTimeout = TimeSpan.FromSeconds(-1) };

        var result = _validator.Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(2, result.Failures!.Count());
        Assert.Contains(result.Failures!, f => f.Contains("DatabasePath is not set", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("BusyTimeout", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Data Source=:memory:")]
    [InlineData("Data Source=shared;Mode=Memory;Cache=Shared")]
    public void Validate_InMemoryConnectionStringFails(string connectionString)
    {
        var result = _validator.Validate(null, new SqliteMetadataOptions { ConnectionString = connectionString });

        Assert.True(result.Failed);
        Assert.Contains("in-memory", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ReadOnlyConnectionStringFails()
    {
        var connectionString = $"Data Source={Path.Combine(_temp.Path, "a.db")};Mode=ReadOnly";

        var result = _validator.Validate(null, new SqliteMetadataOptions { ConnectionString = connectionString });

        Assert.True(result.Failed);
        Assert.Contains("read-only", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MalformedConnectionStringFails()
    {
        var result = _validator.Validate(null, new SqliteMetadataOptions { ConnectionString = "Nonsense Keyword=1" });

        Assert.True(result.Failed);
        Assert.Contains("ConnectionString is invalid", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_PathIsFolderFails()
    {
        var result = _validator.Validate(null, new SqliteMetadataOptions { DatabasePath = _temp.Path });

        Assert.True(result.Failed);
        Assert.Contains("is a folder", result.FailureMessage, StringComparison.Ordinal);
    }
}

using Npgsql;

namespace Dtr.Metadata.PostgreSql.Tests;

public sealed class PostgreSqlTransientFaultTests
{
    [Theory]
    [InlineData("40001", true)] // serialization_failure
    [InlineData("40P01", true)] // deadlock_detected
    [InlineData("57P01", true)] // admin_shutdown
    [InlineData("57P02", true)] // crash_shutdown
    [InlineData("57P03", true)] // cannot_connect_now
    [InlineData("53300", true)] // too_many_connections
    [InlineData("08000", true)] // connection_exception
    [InlineData("08006", true)] // connection_failure
    [InlineData("23505", false)] // unique_violation
    [InlineData("42P01", false)] // undefined_table
    [InlineData("42501", false)] // insufficient_privilege
    [InlineData("28P01", false)] // invalid_password
    [InlineData("22001", false)] // string_data_right_truncation
    public void IsTransient_SqlStates(string sqlState, bool expected)
    {
        var error = new PostgresException("test error", "ERROR", "ERROR", sqlState);

        Assert.Equal(expected, PostgreSqlMetadataStore.IsTransient(error));
    }

    [Fact]
    public void IsTransient_NetworkFaultIs()
    {
        Assert.True(PostgreSqlMetadataStore.IsTransient(new NpgsqlException("Exception while reading from stream", new IOException("reset"))));
        Assert.True(PostgreSqlMetadataStore.IsTransient(new NpgsqlException("Timeout", new TimeoutException())));
    }

    [Fact]
    public void IsTransient_OtherFaultsAreNot()
    {
        Assert.False(PostgreSqlMetadataStore.IsTransient(new NpgsqlException("protocol error")));
        Assert.False(PostgreSqlMetadataStore.IsTransient(new InvalidOperationException("connection closed")));
        Assert.False(PostgreSqlMetadataStore.IsTransient(new IOException("reset")));
    }

    [Fact]
    public void ShouldRetry_UnknownCommitOutcomeIsNot()
    {
        var error = new NpgsqlException("Exception while reading from stream", new IOException("reset"));
        Assert.True(PostgreSqlMetadataStore.ShouldRetry(error));

        PostgreSqlMetadataStore.MarkCommitOutcomeUnknown(error);

        Assert.False(PostgreSqlMetadataStore.ShouldRetry(error));
    }
}

using Microsoft.Extensions.Options;
using Npgsql;

namespace Dtr.Metadata.PostgreSql;

/// <summary>Checks <see cref="PostgreSqlMetadataOptions"/> at start and reports every problem at once.</summary>
internal sealed class PostgreSqlMetadataOptionsValidator : IValidateOptions<PostgreSqlMetadataOptions>
{
    /// <summary>The maximum identifier length of PostgreSQL (NAMEDATALEN - 1 in a default build).</summary>
    private const int MaxSchemaLength = 63;

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, PostgreSqlMetadataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            errors.Add("PostgreSqlMetadataOptions.ConnectionString is not set. Set it to an Npgsql connection string, for example " +
                "AddPostgreSqlMetadata(o => o.ConnectionString = \"Host=db;Database=registry;Username=dtr;Password=...\").");
        }
        else
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString);
                if (string.IsNullOrWhiteSpace(builder.Host))
                {
                    errors.Add("PostgreSqlMetadataOptions.ConnectionString names no host. Add 'Host=...' to the connection string.");
                }
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
            {
                // The message of a parse error does not contain the connection string, which may hold a password.
                errors.Add($"PostgreSqlMetadataOptions.ConnectionString is invalid: {ex.Message} Fix the connection string.");
            }
        }

        if (!IsValidSchema(options.Schema))
        {
            errors.Add($"PostgreSqlMetadataOptions.Schema '{options.Schema}' is invalid: it must be 1 to {MaxSchemaLength} lowercase letters, " +
                "digits or underscores, and start with a letter or underscore, such as 'dtr'.");
        }

        if (options.Resilience is null)
        {
            errors.Add("PostgreSqlMetadataOptions.Resilience is null. Leave it unset for the defaults, or set a StorageResilienceOptions.");
        }
        else
        {
            errors.AddRange(options.Resilience.Validate("PostgreSqlMetadataOptions.Resilience"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Returns whether the schema name is a plain lowercase identifier that is safe to quote into SQL.</summary>
    internal static bool IsValidSchema(string? schema)
    {
        if (string.IsNullOrEmpty(schema) || schema.Length > MaxSchemaLength)
        {
            return false;
        }

        if (!(char.IsAsciiLetterLower(schema[0]) || schema[0] == '_'))
        {
            return false;
        }

        return schema.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
    }
}

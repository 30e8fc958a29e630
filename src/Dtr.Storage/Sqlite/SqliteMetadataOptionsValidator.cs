using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace Dtr.Storage.Sqlite;

/// <summary>
/// Checks <see cref="SqliteMetadataOptions"/> at start and reports every problem at once.
/// </summary>
internal sealed class SqliteMetadataOptionsValidator : IValidateOptions<SqliteMetadataOptions>
{
    /// <summary>The longest busy timeout SQLite accepts: <c>sqlite3_busy_timeout</c> takes milliseconds as an int.</summary>
    private static readonly TimeSpan s_maxBusyTimeout = TimeSpan.FromMilliseconds(int.MaxValue);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SqliteMetadataOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();

        var hasPath = !string.IsNullOrWhiteSpace(options.DatabasePath);
        var hasConnectionString = !string.IsNullOrWhiteSpace(options.ConnectionString);
        if (hasPath && hasConnectionString)
        {
            errors.Add("SqliteMetadataOptions.DatabasePath and SqliteMetadataOptions.ConnectionString are both set. Set only one of them.");
        }
        else if (!hasPath && !hasConnectionString)
        {
            errors.Add("SqliteMetadataOptions.DatabasePath is not set. Set it to the database file, for example " +
                "AddSqliteMetadata(o => o.DatabasePath = \"/var/lib/dtr/metadata.db\"), or set SqliteMetadataOptions.ConnectionString.");
        }
        else if (hasPath)
        {
            ValidateDatabasePath(options.DatabasePath!, errors);
        }
        else
        {
            ValidateConnectionString(options.ConnectionString!, errors);
        }

        if (options.BusyTimeout < TimeSpan.Zero || options.BusyTimeout > s_maxBusyTimeout)
        {
            errors.Add($"SqliteMetadataOptions.BusyTimeout is {options.BusyTimeout}; it must be between zero and {s_maxBusyTimeout}. " +
                "Five seconds is a good start.");
        }

        if (options.Resilience is null)
        {
            errors.Add("SqliteMetadataOptions.Resilience is null. Leave it unset for the defaults, or set a StorageResilienceOptions.");
        }
        else
        {
            errors.AddRange(options.Resilience.Validate("SqliteMetadataOptions.Resilience"));
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateDatabasePath(string databasePath, List<string> errors)
    {
        try
        {
            var fullPath = Path.GetFullPath(databasePath);
            if (Directory.Exists(fullPath))
            {
                errors.Add($"SqliteMetadataOptions.DatabasePath '{fullPath}' is a folder. Set it to a file path inside the folder, such as '{Path.Combine(fullPath, "metadata.db")}'.");
                return;
            }

            var directory = Path.GetDirectoryName(fullPath);
            if (directory is not null)
            {
                Directory.CreateDirectory(directory);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            errors.Add($"SqliteMetadataOptions.DatabasePath '{databasePath}' is invalid or its folder cannot be created: {ex.Message} " +
                "Create the folder and give the process write access to it, or choose another path.");
        }
    }

    private static void ValidateConnectionString(string connectionString, List<string> errors)
    {
        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(connectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidOperationException)
        {
            errors.Add($"SqliteMetadataOptions.ConnectionString is invalid: {ex.Message} Fix the connection string, or set DatabasePath instead.");
            return;
        }

        if (builder.Mode == SqliteOpenMode.Memory || string.IsNullOrWhiteSpace(builder.DataSource) ||
            string.Equals(builder.DataSource, ":memory:", StringComparison.Ordinal))
        {
            errors.Add("SqliteMetadataOptions.ConnectionString names no database file (or an in-memory database), which the store " +
                "cannot use because each operation opens its own connection. Set 'Data Source' to a file path.");
        }

        if (builder.Mode == SqliteOpenMode.ReadOnly)
        {
            errors.Add("SqliteMetadataOptions.ConnectionString opens the database read-only, but the store writes to it. " +
                "Remove 'Mode=ReadOnly' from the connection string.");
        }
    }
}

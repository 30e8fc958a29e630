using System.Runtime.Versioning;
using Microsoft.Data.Sqlite;

namespace Dtr.Storage.Sqlite;

/// <summary>The Unix permissions of the database file, which holds password hashes and token hashes.</summary>
internal sealed partial class SqliteMetadataStore
{
    private const UnixFileMode OwnerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private const UnixFileMode OtherAccess = UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    // SQLite creates the write-ahead log and the shared-memory index with the mode of the database file.
    private static readonly string[] CompanionSuffixes = ["", "-wal", "-shm"];

    /// <summary>
    /// Creates a missing database file with mode 0600 before SQLite opens it, so no row is ever written to a file
    /// that other users may read, and removes the read, write and execute bits for other users from existing files.
    /// Does nothing on Windows, where a new file inherits the access list of its folder.
    /// </summary>
    private void RestrictDatabaseFileMode()
    {
        if (OperatingSystem.IsWindows() || !_isFileDatabase)
        {
            return;
        }

        if (_createsFile && !File.Exists(_dataSource))
        {
            CreateOwnerOnlyFile(_dataSource);
        }

        foreach (var suffix in CompanionSuffixes)
        {
            RemoveOtherAccess(_dataSource + suffix);
        }
    }

    [UnsupportedOSPlatform("windows")]
    private static void CreateOwnerOnlyFile(string path)
    {
        // SQLite treats an empty file as an empty database. The process umask can only remove bits from 0600.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = OwnerReadWrite };
        try
        {
            using var _ = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process created the file in between; its mode is checked with the existing files.
        }
    }

    [UnsupportedOSPlatform("windows")]
    private void RemoveOtherAccess(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var mode = File.GetUnixFileMode(path);
        if ((mode & OtherAccess) == 0)
        {
            return;
        }

        try
        {
            File.SetUnixFileMode(path, mode & ~OtherAccess);
            SqliteLog.FileModeRestricted(_logger, path, Convert.ToString((int)mode, 8), Convert.ToString((int)(mode & ~OtherAccess), 8));
        }
        catch (Exception exception) when (exception is UnauthorizedAccessException or IOException)
        {
            // A file owned by another user cannot be changed; the store still works, so this is not fatal.
            SqliteLog.FileModeNotRestricted(_logger, exception, path, Convert.ToString((int)mode, 8));
        }
    }

    /// <summary>Returns whether the connection string names a file on disk, as opposed to an in-memory database.</summary>
    private static bool NamesFile(SqliteConnectionStringBuilder builder) =>
        builder.Mode != SqliteOpenMode.Memory
        && !string.IsNullOrEmpty(builder.DataSource)
        && !string.Equals(builder.DataSource, ":memory:", StringComparison.Ordinal)
        && !builder.DataSource.StartsWith("file:", StringComparison.OrdinalIgnoreCase);
}

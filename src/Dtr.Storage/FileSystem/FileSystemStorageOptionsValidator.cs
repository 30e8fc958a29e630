using Microsoft.Extensions.Options;

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Checks <see cref="FileSystemStorageOptions"/> at start: the root folder is set, can be created and accepts a
/// new file.
/// </summary>
internal sealed class FileSystemStorageOptionsValidator : IValidateOptions<FileSystemStorageOptions>
{
    public const string MissingRootDirectoryMessage =
        "FileSystemStorageOptions.RootDirectory is not set. Set it to the folder where the registry stores blobs, " +
        "for example in AddFileSystemStorage(o => o.RootDirectory = \"/var/lib/dtr\").";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, FileSystemStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrWhiteSpace(options.RootDirectory))
        {
            return ValidateOptionsResult.Fail(MissingRootDirectoryMessage);
        }

        string fullPath;
        try
        {
            fullPath = Path.GetFullPath(options.RootDirectory);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return ValidateOptionsResult.Fail(
                $"FileSystemStorageOptions.RootDirectory '{options.RootDirectory}' is not a valid path: {ex.Message}");
        }

        var error = ProbeWritable(fullPath);
        return error is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(error);
    }

    /// <summary>
    /// Creates the folder when it does not exist, on Unix with access for its owner only, because blobs of private
    /// repositories must not be readable by other local users. An existing folder keeps its mode.
    /// </summary>
    internal static void CreateOwnerOnlyDirectory(string fullPath)
    {
        if (Directory.Exists(fullPath))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(fullPath);
        }
        else
        {
            Directory.CreateDirectory(fullPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    /// <summary>Creates the folder when needed and writes and deletes a probe file, returning an error message on failure.</summary>
    internal static string? ProbeWritable(string fullPath)
    {
        try
        {
            CreateOwnerOnlyDirectory(fullPath);
            var probePath = Path.Combine(fullPath, $".write-probe-{Guid.NewGuid():N}");
            using (File.Create(probePath, bufferSize: 1, FileOptions.DeleteOnClose))
            {
            }

            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"FileSystemStorageOptions.RootDirectory '{fullPath}' cannot be created or written to: {ex.Message} " +
                "Create the folder and give the process write access to it, or choose another folder. " +
                "With the registry's embedded default storage, this folder is Registry:DataDirectory.";
        }
    }
}

namespace Dtr.Storage.FileSystem;

/// <summary>
/// Settings of the filesystem blob store, which keeps blob bytes and uploads in progress under one folder.
/// </summary>
public sealed class FileSystemStorageOptions
{
    /// <summary>
    /// The folder that contains the <c>blobs</c> and <c>uploads</c> folders. Required. A relative path is resolved
    /// against the process's current directory. The folder is created when it does not exist, and the process
    /// needs write access to it.
    /// </summary>
    public string? RootDirectory { get; set; }
}

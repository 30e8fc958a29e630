using Dtr.Storage.FileSystem;

namespace Dtr.Storage.Tests.FileSystem;

public sealed class FileSystemStorageOptionsValidatorTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly FileSystemStorageOptionsValidator _validator = new();

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_MissingRootFails(string? root)
    {
        var result = _validator.Validate(null, new FileSystemStorageOptions { RootDirectory = root });

        Assert.True(result.Failed);
        Assert.Contains("FileSystemStorageOptions.RootDirectory is not set", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_CreatesMissingFolder()
    {
        var root = Path.Combine(_temp.Path, "new", "nested");

        var result = _validator.Validate(null, new FileSystemStorageOptions { RootDirectory = root });

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.True(Directory.Exists(root));
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public void Validate_NewFolderIsOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var root = Path.Combine(_temp.Path, "private");

        var result = _validator.Validate(null, new FileSystemStorageOptions { RootDirectory = root });

        Assert.True(result.Succeeded, result.FailureMessage);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(root));
    }

    [Fact]
    public void Validate_RootUnderFileFails()
    {
        var file = Path.Combine(_temp.Path, "a-file");
        File.WriteAllText(file, "not a folder");

        var result = _validator.Validate(null, new FileSystemStorageOptions { RootDirectory = Path.Combine(file, "blobs") });

        Assert.True(result.Failed);
        Assert.Contains("cannot be created or written to", result.FailureMessage, StringComparison.Ordinal);
    }
}

using System.Diagnostics;
using Dtr.Storage.Tests.Contracts;

namespace Dtr.Storage.Tests.FileSystem;

/// <summary>
/// Runs the blob store contract suite with the store's root on another mounted filesystem than the temp folder, the
/// way a shared mount such as NFS is used. The folder comes from <c>DTR_SECOND_MOUNT_DIR</c>, which
/// <c>scripts/test.sh</c> sets to a fresh tmpfs mount when it may mount one, and is <c>/dev/shm</c> otherwise.
/// </summary>
/// <remarks>
/// NOTE: this machine's kernel has no NFS client, so the suite has not run on NFS itself. It shows that the store
/// keeps working when its root is not on the disk of the temp folder, and every rename stays inside one mount.
/// </remarks>
public sealed class SecondMountBlobStoreTests : BlobStoreContractTests
{
    /// <summary>The environment variable that names a folder on the second mount.</summary>
    public const string MountVariable = "DTR_SECOND_MOUNT_DIR";

    private const string FallbackDirectory = "/dev/shm";

    private string? _root;

    /// <summary>The folder on the second mount that the tests use.</summary>
    private static string MountDirectory =>
        Environment.GetEnvironmentVariable(MountVariable) is { Length: > 0 } configured ? configured : FallbackDirectory;

    protected override async Task<IBlobStore> CreateStoreAsync()
    {
        // Every test of the suite fails here, rather than passing on the default disk, when the folder is not on another mount.
        await AssertOnOtherDeviceAsync();

        _root = Path.Combine(MountDirectory, "dtr-storage-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_root);
        return FileSystemBlobStoreTests.CreateFileSystemStore(_root);
    }

    protected override Task DisposeStoreAsync()
    {
        if (_root is not null && Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }

        return Task.CompletedTask;
    }

    protected override Task AssertNoUploadDataLeftAsync()
    {
        var uploads = Path.Combine(_root!, "uploads");
        var leftovers = Directory.Exists(uploads) ? Directory.GetFileSystemEntries(uploads) : [];
        Assert.Empty(leftovers);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task SecondMount_IsOtherDevice()
    {
        await AssertOnOtherDeviceAsync();

        Assert.StartsWith(Path.GetFullPath(MountDirectory), Path.GetFullPath(_root!), StringComparison.Ordinal);
    }

    private static async Task AssertOnOtherDeviceAsync()
    {
        var mount = MountDirectory;
        Assert.True(Directory.Exists(mount),
            $"The second mount folder '{mount}' does not exist. Set {MountVariable} to a folder on another filesystem than {Path.GetTempPath()}, as scripts/test.sh does.");

        var mountDevice = await GetDeviceIdAsync(mount);
        var tempDevice = await GetDeviceIdAsync(Path.GetTempPath());
        Assert.True(mountDevice != tempDevice,
            $"'{mount}' is on device {mountDevice}, the same as the temp folder {Path.GetTempPath()}. Set {MountVariable} to a folder on another mount, such as a tmpfs.");
    }

    /// <summary>Returns the device id (<c>st_dev</c>) of the filesystem that contains <paramref name="path"/>, from <c>stat -c %d</c>.</summary>
    private static async Task<string> GetDeviceIdAsync(string path)
    {
        var start = new ProcessStartInfo("stat") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "%d", path })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("Starting stat failed.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"stat -c %d {path} failed with exit code {process.ExitCode}: {error}");
        return (await output).Trim();
    }
}

using System.Text;
using static Dtr.EndToEnd.Tests.OciLayoutWriter;

namespace Dtr.EndToEnd.Tests;

/// <summary>Builds small real images for the tests: a busybox root filesystem and an os-release file.</summary>
internal static class TestImages
{
    /// <summary>Debian's busybox-static binary, which runs without a libc in the image.</summary>
    public const string BusyboxPath = "/bin/busybox";

    private const UnixFileMode Executable =
        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
        UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    private static readonly string[] BusyboxApplets = ["sh", "ls", "cat", "echo", "env", "uname"];

    /// <summary>
    /// Returns the layer of a linux/amd64 busybox root filesystem: <c>/bin/busybox</c>, symbolic links for a few
    /// applets, and <c>/etc/os-release</c>.
    /// </summary>
    public static LayerContent BusyboxRootFilesystem()
    {
        Assert.True(File.Exists(BusyboxPath), $"{BusyboxPath} is missing; install Debian's busybox-static package (scripts/test.sh does this).");

        var layer = new LayerContent()
            .AddDirectory("bin")
            .AddFile("bin/busybox", () => File.OpenRead(BusyboxPath), Executable);
        foreach (var applet in BusyboxApplets)
        {
            layer.AddSymbolicLink($"bin/{applet}", "busybox");
        }

        return layer
            .AddDirectory("etc")
            .AddFile("etc/os-release", OsRelease(Platform.LinuxAmd64));
    }

    /// <summary>
    /// Returns a layer with <c>/etc/os-release</c> and a platform marker file but no executables, for platforms
    /// whose busybox binary is not installed here. The image is only pushed and pulled, never run.
    /// </summary>
    public static LayerContent MarkerFilesystem(Platform platform) =>
        new LayerContent()
            .AddDirectory("etc")
            .AddFile("etc/os-release", OsRelease(platform))
            .AddFile("etc/dtr-e2e-platform", Encoding.UTF8.GetBytes(platform + "\n"));

    /// <summary>Writes a single-platform busybox image to a new layout, named <paramref name="referenceName"/> in index.json.</summary>
    public static ImageManifest WriteBusyboxLayout(string layoutDirectory, string referenceName = "1")
    {
        var layout = new OciLayoutWriter(layoutDirectory);
        var image = layout.WriteImage(Platform.LinuxAmd64, [(BusyboxRootFilesystem(), LayerCompression.Gzip)]);
        layout.WriteEntryPoint((image.Manifest, referenceName));
        return image;
    }

    private static byte[] OsRelease(Platform platform) => Encoding.UTF8.GetBytes(
        $"""
        NAME="Dtr end-to-end test image"
        ID=dtr-e2e
        VERSION_ID=1
        PRETTY_NAME="Dtr end-to-end test image ({platform})"

        """);
}

/// <summary>
/// A read-only stream of a fixed number of pseudo-random bytes from a seeded generator: incompressible test data
/// produced on demand, so a large layer is never held in memory.
/// </summary>
internal sealed class PseudoRandomStream(long length, int seed) : Stream
{
    private readonly Random _random = new(seed);
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var count = (int)Math.Min(buffer.Length, length - _position);
        _random.NextBytes(buffer[..count]);
        _position += count;
        return count;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>A temporary directory that is deleted with its contents on dispose.</summary>
internal sealed class TemporaryDirectory : IDisposable
{
    public TemporaryDirectory(string prefix = "dtr-e2e-") => Path = Directory.CreateTempSubdirectory(prefix).FullName;

    public string Path { get; }

    /// <summary>Returns a path inside this directory (not created).</summary>
    public string Combine(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);
}

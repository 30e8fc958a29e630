using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Dtr.Scanning.Inventory;

/// <summary>
/// Lists the packages of an rpm 4.16+ <c>rpmdb.sqlite</c> database from a copy in memory: the file is handed to
/// SQLite with <c>sqlite3_deserialize</c>, so nothing is written to disk, and each row of <c>Packages(hnum, blob)</c>
/// is an RPM header blob.
/// </summary>
internal static class RpmDatabaseReader
{
    /// <summary>Lists the packages; <c>gpg-pubkey</c> entries are imported signing keys, not software, and are left out.</summary>
    /// <param name="database">The database file's bytes. Bytes 18 and 19 may be changed, see below.</param>
    /// <exception cref="SqliteException">The bytes are not an SQLite database with a <c>Packages</c> table.</exception>
    /// <exception cref="FormatException">A header blob is malformed.</exception>
    public static List<RecordedPackage> Read(byte[] database, int length)
    {
        // rpm opens the database in WAL mode, which the file header records as read and write versions 2.
        // An in-memory database cannot use WAL, so the copy is marked as a rollback-journal database (version 1).
        if (length > 19 && database[18] == 2 && database[19] == 2)
        {
            database[18] = 1;
            database[19] = 1;
        }

        var packages = new List<RecordedPackage>();
        var pin = GCHandle.Alloc(database, GCHandleType.Pinned);
        try
        {
            using var connection = new SqliteConnection("Data Source=:memory:");
            connection.Open();
            var result = raw.sqlite3_deserialize(
                connection.Handle, "main", pin.AddrOfPinnedObject(), length, length, raw.SQLITE_DESERIALIZE_READONLY);
            SqliteException.ThrowExceptionForRC(result, connection.Handle);

            using var command = connection.CreateCommand();
            command.CommandText = "SELECT blob FROM Packages";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                if (reader.IsDBNull(0))
                {
                    continue;
                }

                var package = RpmHeaderParser.Parse((byte[])reader.GetValue(0));
                if (package is not null && package.Name != "gpg-pubkey")
                {
                    packages.Add(package);
                }
            }
        }
        finally
        {
            pin.Free();
        }

        return packages;
    }
}

/// <summary>
/// Reads the package fields of an RPM header blob as rpm stores it in its database: a big-endian index count and data
/// length, then 16-byte index entries (tag, type, offset, count), then the data area.
/// </summary>
internal static class RpmHeaderParser
{
    private const int TagName = 1000;
    private const int TagVersion = 1001;
    private const int TagRelease = 1002;
    private const int TagEpoch = 1003;
    private const int TagLicense = 1014;
    private const int TagArch = 1022;
    private const int TagSourceRpm = 1044;

    private const int TypeInt32 = 4;
    private const int TypeString = 6;
    private const int TypeStringArray = 8;
    private const int TypeI18nString = 9;

    // rpm itself rejects headers with more than 65535 index entries or 256 MiB of data.
    private const int MaxIndexEntries = 0xFFFF;
    private const int MaxDataBytes = 256 * 1024 * 1024;

    /// <summary>Reads the package, or returns null when the header has no name or version.</summary>
    /// <exception cref="FormatException">The blob is malformed.</exception>
    public static RecordedPackage? Parse(ReadOnlySpan<byte> blob)
    {
        if (blob.Length < 8)
        {
            throw new FormatException($"The RPM header blob has {blob.Length} bytes, fewer than its 8-byte preamble.");
        }

        var indexCount = BinaryPrimitives.ReadInt32BigEndian(blob);
        var dataLength = BinaryPrimitives.ReadInt32BigEndian(blob[4..]);
        if (indexCount is < 1 or > MaxIndexEntries || dataLength is < 0 or > MaxDataBytes
            || 8L + (16L * indexCount) + dataLength > blob.Length)
        {
            throw new FormatException(
                $"The RPM header blob declares {indexCount} index entries and {dataLength} data bytes, which do not fit its {blob.Length} bytes.");
        }

        var index = blob.Slice(8, 16 * indexCount);
        var data = blob.Slice(8 + (16 * indexCount), dataLength);
        string? name = null, version = null, release = null, license = null, arch = null, sourceRpm = null;
        long epoch = 0;
        for (var i = 0; i < indexCount; i++)
        {
            var entry = index.Slice(16 * i, 16);
            var tag = BinaryPrimitives.ReadInt32BigEndian(entry);
            var type = BinaryPrimitives.ReadInt32BigEndian(entry[4..]);
            var offset = BinaryPrimitives.ReadInt32BigEndian(entry[8..]);
            switch (tag)
            {
                case TagName:
                    name = ReadString(data, type, offset);
                    break;
                case TagVersion:
                    version = ReadString(data, type, offset);
                    break;
                case TagRelease:
                    release = ReadString(data, type, offset);
                    break;
                case TagEpoch:
                    epoch = ReadInt32(data, type, offset);
                    break;
                case TagLicense:
                    license = ReadString(data, type, offset);
                    break;
                case TagArch:
                    arch = ReadString(data, type, offset);
                    break;
                case TagSourceRpm:
                    sourceRpm = ReadString(data, type, offset);
                    break;
            }
        }

        if (string.IsNullOrEmpty(name) || string.IsNullOrEmpty(version))
        {
            return null;
        }

        var fullVersion = FormatVersion(epoch, version, release);
        var (sourceName, sourceVersion) = ParseSourceRpm(sourceRpm, epoch);
        return new RecordedPackage(
            PackageType.Rpm,
            name,
            fullVersion,
            sourceName ?? name,
            sourceVersion is null || sourceVersion == fullVersion ? null : sourceVersion,
            arch,
            license);
    }

    /// <summary>
    /// Formats <c>epoch:version-release</c> the way rpm prints it: no epoch when it is 0 or absent, no
    /// <c>-release</c> when the release is empty. <see cref="Versioning.RpmVersionComparer"/> reads this form.
    /// </summary>
    public static string FormatVersion(long epoch, string version, string? release)
    {
        var text = string.IsNullOrEmpty(release) ? version : version + "-" + release;
        return epoch > 0 ? epoch.ToString(System.Globalization.CultureInfo.InvariantCulture) + ":" + text : text;
    }

    /// <summary>
    /// Splits a source RPM file name such as <c>glibc-2.34-60.el9.src.rpm</c> into the source name <c>glibc</c> and
    /// version <c>2.34-60.el9</c>. The file name carries no epoch, so the binary package's epoch is used, as the
    /// source and binary packages of one build share it.
    /// </summary>
    public static (string? Name, string? Version) ParseSourceRpm(string? sourceRpm, long epoch)
    {
        if (string.IsNullOrEmpty(sourceRpm))
        {
            return (null, null);
        }

        var baseName = sourceRpm;
        foreach (var suffix in (string[])[".src.rpm", ".nosrc.rpm"])
        {
            if (baseName.EndsWith(suffix, StringComparison.Ordinal))
            {
                baseName = baseName[..^suffix.Length];
                break;
            }
        }

        var releaseDash = baseName.LastIndexOf('-');
        var versionDash = releaseDash > 0 ? baseName.LastIndexOf('-', releaseDash - 1) : -1;
        if (versionDash <= 0)
        {
            return (null, null);
        }

        return (baseName[..versionDash], FormatVersion(epoch, baseName[(versionDash + 1)..releaseDash], baseName[(releaseDash + 1)..]));
    }

    private static string? ReadString(ReadOnlySpan<byte> data, int type, int offset)
    {
        if (type is not (TypeString or TypeStringArray or TypeI18nString) || offset < 0 || offset >= data.Length)
        {
            return null;
        }

        // String arrays and internationalised strings hold NUL-terminated strings back to back; the first is wanted.
        var rest = data[offset..];
        var end = rest.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
    }

    private static long ReadInt32(ReadOnlySpan<byte> data, int type, int offset)
    {
        if (type != TypeInt32 || offset < 0 || offset > data.Length - 4)
        {
            return 0;
        }

        return (uint)BinaryPrimitives.ReadInt32BigEndian(data[offset..]);
    }
}

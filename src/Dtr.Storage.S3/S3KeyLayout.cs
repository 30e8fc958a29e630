using System.Globalization;

namespace Dtr.Storage.S3;

/// <summary>
/// Builds every object key of the S3 blob store: the blob and upload prefixes of <see cref="ObjectKeyLayout"/>, and
/// the objects of an upload under its prefix.
/// </summary>
/// <remarks>
/// The objects of one upload:
/// <code>
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/state                      empty marker: the upload exists
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/parts/&lt;sequence&gt;            the upload's bytes, in key order
/// </code>
/// Sequence numbers have ten digits with leading zeros, so the key order that ListObjectsV2 returns is the byte
/// order of the upload.
/// </remarks>
internal sealed class S3KeyLayout : ObjectKeyLayout
{
    private const string StateName = "state";
    private const string PartsFolder = "parts/";

    /// <summary>Creates the layout for a prefix. Null or empty puts the store at the bucket's root.</summary>
    public S3KeyLayout(string? prefix)
        : base(prefix)
    {
    }

    /// <summary>Returns the key of an upload's marker object.</summary>
    public string GetUploadStateKey(string uploadId) => GetUploadPrefix(uploadId) + StateName;

    /// <summary>Returns the key of one part object of an upload.</summary>
    public string GetUploadPartKey(string uploadId, int sequence) =>
        GetUploadPrefix(uploadId) + PartsFolder + sequence.ToString("D10", CultureInfo.InvariantCulture);

    /// <summary>Returns whether a key found under an upload's prefix is that upload's marker object.</summary>
    public static bool IsStateKey(string uploadPrefix, string key) =>
        key.Length == uploadPrefix.Length + StateName.Length && key.EndsWith(StateName, StringComparison.Ordinal);

    /// <summary>Parses the sequence number of a part key found under an upload's prefix, or returns false for any other key.</summary>
    public static bool TryParsePartKey(string uploadPrefix, string key, out int sequence)
    {
        sequence = 0;
        var name = key.AsSpan(uploadPrefix.Length);
        return name.StartsWith(PartsFolder, StringComparison.Ordinal)
            && int.TryParse(name[PartsFolder.Length..], NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }
}

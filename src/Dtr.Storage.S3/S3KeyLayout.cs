using System.Globalization;
using Dtr.Digests;
using Dtr.Storage.Uploads;

namespace Dtr.Storage.S3;

/// <summary>
/// Builds every object key of the S3 blob store, so that no other code joins user input into a key.
/// </summary>
/// <remarks>
/// The layout under the prefix:
/// <code>
/// &lt;prefix&gt;/blobs/&lt;algorithm&gt;/&lt;first 2 hex digits&gt;/&lt;hex&gt;   one object per blob
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/state                      empty marker: the upload exists
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/parts/&lt;sequence&gt;            the upload's bytes, in key order
/// </code>
/// Sequence numbers have ten digits with leading zeros, so the key order that ListObjectsV2 returns is the byte
/// order of the upload. A digest contains only an algorithm name and lowercase hex, and an upload id passes
/// <see cref="UploadIds.Validate"/> before it is joined into a key.
/// </remarks>
internal sealed class S3KeyLayout
{
    private const string StateName = "state";
    private const string PartsFolder = "parts/";

    /// <summary>Creates the layout for a prefix; null or empty puts the store at the bucket's root.</summary>
    public S3KeyLayout(string? prefix)
    {
        var trimmed = (prefix ?? string.Empty).Trim('/');
        Root = trimmed.Length == 0 ? string.Empty : trimmed + "/";
        BlobsPrefix = Root + "blobs/";
        UploadsPrefix = Root + "uploads/";
    }

    /// <summary>The prefix of every key, empty or ending with a slash.</summary>
    public string Root { get; }

    /// <summary>The prefix of every blob key.</summary>
    public string BlobsPrefix { get; }

    /// <summary>The prefix of every upload key.</summary>
    public string UploadsPrefix { get; }

    /// <summary>Returns the key of the object that stores the blob.</summary>
    public string GetBlobKey(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is the default value; pass a parsed or computed digest.", nameof(digest));
        }

        var encoded = digest.Encoded;
        return $"{BlobsPrefix}{digest.Algorithm.GetName()}/{encoded[..2]}/{encoded}";
    }

    /// <summary>Returns the prefix of every object of an upload, after checking the id.</summary>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public string GetUploadPrefix(string uploadId)
    {
        UploadIds.Validate(uploadId);
        return UploadsPrefix + uploadId + "/";
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

    /// <summary>
    /// Parses a key found under <see cref="BlobsPrefix"/> back into its digest, or returns false for any object that
    /// the store did not write there, such as a stray object or one in the wrong shard.
    /// </summary>
    public bool TryParseBlobKey(string key, out Digest digest)
    {
        digest = default;
        if (!key.StartsWith(BlobsPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var segments = key[BlobsPrefix.Length..].Split('/');
        if (segments.Length != 3 || segments[1].Length != 2 || !segments[2].StartsWith(segments[1], StringComparison.Ordinal))
        {
            return false;
        }

        return Digest.TryParse(segments[0] + ":" + segments[2], out digest);
    }
}

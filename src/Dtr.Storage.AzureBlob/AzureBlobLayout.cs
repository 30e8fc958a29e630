using System.Globalization;
using System.Text;
using Dtr.Digests;
using Dtr.Storage.Uploads;

namespace Dtr.Storage.AzureBlob;

/// <summary>
/// Builds every blob name and block id of the Azure blob store, so that no other code joins user input into a name.
/// </summary>
/// <remarks>
/// The layout under the prefix:
/// <code>
/// &lt;prefix&gt;/blobs/&lt;algorithm&gt;/&lt;first 2 hex digits&gt;/&lt;hex&gt;   one block blob per stored blob
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/data                       one block blob per upload: its committed bytes
/// </code>
/// A digest contains only an algorithm name and lowercase hex, and an upload id passes
/// <see cref="UploadIds.Validate"/> before it is joined into a name.
/// </remarks>
internal sealed class AzureBlobLayout
{
    /// <summary>The most blocks that one block blob can hold.</summary>
    public const int MaxBlocksPerBlob = 50_000;

    private const string UploadDataName = "data";

    /// <summary>Creates the layout for a prefix; null or empty puts the store at the container's root.</summary>
    public AzureBlobLayout(string? prefix)
    {
        var trimmed = (prefix ?? string.Empty).Trim('/');
        Root = trimmed.Length == 0 ? string.Empty : trimmed + "/";
        BlobsPrefix = Root + "blobs/";
        UploadsPrefix = Root + "uploads/";
    }

    /// <summary>The prefix of every blob name, empty or ending with a slash.</summary>
    public string Root { get; }

    /// <summary>The prefix of every stored blob's name.</summary>
    public string BlobsPrefix { get; }

    /// <summary>The prefix of every upload's blob name.</summary>
    public string UploadsPrefix { get; }

    /// <summary>Returns the name of the block blob that stores the blob with this digest.</summary>
    public string GetBlobName(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is the default value; pass a parsed or computed digest.", nameof(digest));
        }

        var encoded = digest.Encoded;
        return $"{BlobsPrefix}{digest.Algorithm.GetName()}/{encoded[..2]}/{encoded}";
    }

    /// <summary>Returns the name of the block blob that holds an upload's bytes, after checking the id.</summary>
    /// <exception cref="ArgumentException">The upload id is invalid.</exception>
    public string GetUploadBlobName(string uploadId)
    {
        UploadIds.Validate(uploadId);
        return UploadsPrefix + uploadId + "/" + UploadDataName;
    }

    /// <summary>
    /// Parses a name found under <see cref="BlobsPrefix"/> back into its digest, or returns false for any blob that
    /// the store did not write there, such as a stray blob or one in the wrong shard.
    /// </summary>
    public bool TryParseBlobName(string name, out Digest digest)
    {
        digest = default;
        if (!name.StartsWith(BlobsPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var segments = name[BlobsPrefix.Length..].Split('/');
        if (segments.Length != 3 || segments[1].Length != 2 || !segments[2].StartsWith(segments[1], StringComparison.Ordinal))
        {
            return false;
        }

        return Digest.TryParse(segments[0] + ":" + segments[2], out digest);
    }

    /// <summary>
    /// Returns the base64 block id for one block staged by one writer or commit. The token keeps the blocks of two
    /// writers of the same blob apart, and the index orders the blocks of one writer. Every id has the same length,
    /// as the Blob service requires for the blocks of one blob.
    /// </summary>
    public static string CreateBlockId(Guid token, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, MaxBlocksPerBlob);
        var text = token.ToString("N", CultureInfo.InvariantCulture) + "-" + index.ToString("D6", CultureInfo.InvariantCulture);
        return Convert.ToBase64String(Encoding.ASCII.GetBytes(text));
    }
}

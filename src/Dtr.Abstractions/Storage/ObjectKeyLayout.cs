using Dtr.Digests;
using Dtr.Storage.Uploads;

namespace Dtr.Storage;

/// <summary>
/// Key layout of a blob store on an object storage service such as S3 or Azure Blob Storage. It builds every key,
/// so that no other code joins user input into one, and a driver derives from it to name the objects of an upload
/// under <see cref="GetUploadPrefix"/>.
/// </summary>
/// <remarks>
/// The layout under the prefix:
/// <code>
/// &lt;prefix&gt;/blobs/&lt;algorithm&gt;/&lt;first 2 hex digits&gt;/&lt;hex&gt;   one object per blob
/// &lt;prefix&gt;/uploads/&lt;uploadId&gt;/...                       the objects of one upload, named by the driver
/// </code>
/// A digest contains only an algorithm name and lowercase hex, and an upload id must be 1 to 64 characters from
/// <c>[A-Za-z0-9-]</c> before it is joined into a key, so no key leaves the prefix. On Azure Blob Storage a key is a
/// blob name.
/// </remarks>
public class ObjectKeyLayout
{
    /// <summary>
    /// Creates the layout for a prefix. Leading and trailing slashes are removed, and null or empty puts the store at
    /// the root of its bucket or container.
    /// </summary>
    public ObjectKeyLayout(string? prefix)
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

    /// <summary>Returns the key of the object that stores the blob with this digest.</summary>
    /// <exception cref="ArgumentException">The digest is the default value.</exception>
    public string GetBlobKey(Digest digest)
    {
        if (digest.IsEmpty)
        {
            throw new ArgumentException("The digest is the default value. Pass a parsed or computed digest.", nameof(digest));
        }

        var encoded = digest.Encoded;
        return $"{BlobsPrefix}{digest.Algorithm.GetName()}/{encoded[..2]}/{encoded}";
    }

    /// <summary>Returns the prefix of every object of an upload, ending with a slash, after checking the id.</summary>
    /// <exception cref="ArgumentNullException">The upload id is null.</exception>
    /// <exception cref="ArgumentException">The upload id is not 1 to 64 characters from <c>[A-Za-z0-9-]</c>.</exception>
    public string GetUploadPrefix(string uploadId)
    {
        UploadIds.Validate(uploadId);
        return UploadsPrefix + uploadId + "/";
    }

    /// <summary>
    /// Parses a key found under <see cref="BlobsPrefix"/> back into its digest, or returns false for any object that
    /// the store did not write there, such as a stray object or one in the wrong shard.
    /// </summary>
    public bool TryParseBlobKey(string key, out Digest digest)
    {
        ArgumentNullException.ThrowIfNull(key);
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
